// Persisted state types of the tenant lifecycle (issue 13). Like States.cs, this namespace and these names are a storage
// contract: never move or rename them.
using System.Text.Json.Serialization;

namespace Cluster.Grains.State;

/// <summary>
/// A tenant's lifecycle row, beside its <see cref="TenantState"/> row in the same grain: when the tenant last made an
/// authenticated request, and its deletion while one is under way. Kept apart from <see cref="TenantState"/> so that a
/// deleting tenant has no <see cref="TenantState"/> at all (every call that reads it finds no tenant) while its deletion's
/// progress survives until the very end.
/// </summary>
[GenerateSerializer, Alias("scim.state.TenantLifecycle")]
public sealed class TenantLifecycleState
{
    /// <summary>The last authenticated SCIM request the gateways told of, as last stored (lazily: not on every request).</summary>
    [Id(0), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? LastRequestAt { get; set; }

    /// <summary>The tenant's deletion, from the moment it was accepted until its last row is erased (null otherwise).</summary>
    [Id(1), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TenantDeletionState? Deletion { get; set; }
}

/// <summary>How far a tenant's deletion got (docs/architecture.md, "Tenant lifecycle and offboarding").</summary>
[GenerateSerializer, Alias("scim.state.TenantDeletion")]
public sealed class TenantDeletionState
{
    [Id(0)] public DateTimeOffset StartedAt { get; set; }

    /// <summary>One of <c>TenantDeletionPhases</c>.</summary>
    [Id(1)] public string Phase { get; set; } = "";

    /// <summary>The tenant's name and creation time when the delete was accepted (shown while it runs).</summary>
    [Id(2)] public string Name { get; set; } = "";

    [Id(3)] public DateTimeOffset CreatedAt { get; set; }

    [Id(4)] public long RowsErased { get; set; }

    /// <summary>Verification passes that found nothing to erase.</summary>
    [Id(5)] public int Passes { get; set; }

    /// <summary>When the last erase pass ended (the next verification pass waits <c>Tenants:OffboardingVerifySeconds</c>).</summary>
    [Id(6), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? LastSweepAt { get; set; }

    /// <summary>A copy to change (the committed value is never changed in place).</summary>
    public TenantDeletionState Copy() => (TenantDeletionState)MemberwiseClone();
}

/// <summary>
/// The root of the tenant registry: the buckets in key order, each with its lower bound (the first has none), and the
/// number the next bucket gets.
/// </summary>
[GenerateSerializer, Alias("scim.state.TenantRegistry")]
public sealed class TenantRegistryState
{
    [Id(0)] public List<RegistryBucketRecord> Buckets { get; set; } = [];

    [Id(1)] public int NextBucket { get; set; }
}

/// <summary>A registry bucket: its number and the lowest key it holds (null for the first bucket).</summary>
[GenerateSerializer, Alias("scim.state.RegistryBucket")]
public sealed class RegistryBucketRecord
{
    [Id(0)] public int Id { get; set; }

    [Id(1), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? FromName { get; set; }

    [Id(2), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? FromTenant { get; set; }
}

/// <summary>One bucket of the tenant registry: keys (canonical name cut to 64 characters, tenant id) in order.</summary>
[GenerateSerializer, Alias("scim.state.TenantRegistryBucket")]
public sealed class TenantRegistryBucketState
{
    [Id(0)] public List<RegistryEntryRecord> Entries { get; set; } = [];
}

/// <summary>A tenant in the registry.</summary>
[GenerateSerializer, Alias("scim.state.RegistryEntry")]
public sealed class RegistryEntryRecord
{
    [Id(0)] public string Name { get; set; } = "";

    [Id(1)] public string TenantId { get; set; } = "";
}
