// Persisted state types. This namespace and these names are a storage contract: never move or rename them.
using System.Text.Json.Serialization;

namespace Cluster.Grains.State;

/// <summary>A tenant's profile and its token hashes.</summary>
[GenerateSerializer, Alias("scim.state.Tenant")]
public sealed class TenantState
{
    [Id(0)] public string Name { get; set; } = "";

    [Id(1)] public DateTimeOffset CreatedAt { get; set; }

    [Id(2)] public List<TokenRecord> Tokens { get; set; } = [];
}

/// <summary>A token: its id, the SHA-256 of its secret, and when it was issued. The secret itself is never stored.</summary>
[GenerateSerializer, Alias("scim.state.Token")]
public sealed class TokenRecord
{
    [Id(0)] public string Id { get; set; } = "";

    [Id(1)] public byte[] Hash { get; set; } = [];

    [Id(2)] public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A SCIM resource: its canonical JSON (with id, meta and schemas) and its version.</summary>
[GenerateSerializer, Alias("scim.state.Resource")]
public sealed class ResourceState
{
    [Id(0)] public string Json { get; set; } = "";

    [Id(1)] public long Version { get; set; }
}

/// <summary>A set of resource ids (an index entry, a directory partition, a group member partition, a member's groups).</summary>
[GenerateSerializer, Alias("scim.state.IdSet")]
public sealed class IdSetState
{
    [Id(0)] public HashSet<string> Ids { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Group member partitions only: the ids in <see cref="Ids"/> that are groups; every other member is a user. Null
    /// (and not written) when there are none, so rows written before nested groups read as "all users".
    /// </summary>
    [Id(1), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public HashSet<string>? GroupIds { get; set; }
}

/// <summary>
/// A group: its canonical JSON without members (members live in member partitions), its version, and the membership
/// change in flight when it spans several writes (replayed until done), or a delete in progress.
/// </summary>
[GenerateSerializer, Alias("scim.state.Group")]
public sealed class GroupState
{
    [Id(0)] public string Json { get; set; } = "";

    [Id(1)] public long Version { get; set; }

    /// <summary>True from the first write of a delete until the group's members have forgotten it.</summary>
    [Id(2)] public bool Deleting { get; set; }

    /// <summary>Members being added by a change that is committed but not yet in every partition.</summary>
    [Id(3)] public List<string> PendingAdd { get; set; } = [];

    /// <summary>Members being removed by a change that is committed but not yet in every partition.</summary>
    [Id(4)] public List<string> PendingRemove { get; set; } = [];

    /// <summary>
    /// The ids in <see cref="PendingAdd"/> and <see cref="PendingRemove"/> that are groups; the others are users. Null (and
    /// not written) when there are none, so journals written before nested groups read as "all users".
    /// </summary>
    [Id(5), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<string>? PendingGroups { get; set; }

    /// <summary>
    /// A committed membership change too large for this record (more members than one step applies), applied chunk by
    /// chunk after the request that made it; null (and not written) when there is none. While <see cref="Deleting"/>, the
    /// delete finishes it instead (members of the chunk in flight forget the group, the chunks are dropped).
    /// </summary>
    [Id(6), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public GroupChangeState? Change { get; set; }
}

/// <summary>
/// A membership change of a group too large for one write of the group record: its members are in <see cref="Chunks"/>
/// chunk rows (<c>GroupChangeChunkGrain</c>), of which those from <see cref="Next"/> on are still to be applied.
/// </summary>
[GenerateSerializer, Alias("scim.state.GroupChange")]
public sealed class GroupChangeState
{
    /// <summary>The group version that committed the change (chunks carry it, so a stale chunk is never applied).</summary>
    [Id(0)] public long Version { get; set; }

    [Id(1)] public int Chunks { get; set; }

    [Id(2)] public int Next { get; set; }
}

/// <summary>One stored chunk of a large membership change (see <see cref="GroupChangeState"/>).</summary>
[GenerateSerializer, Alias("scim.state.GroupChangeChunk")]
public sealed class GroupChangeChunkState
{
    [Id(0)] public long Version { get; set; }

    [Id(1)] public List<string> Add { get; set; } = [];

    [Id(2)] public List<string> Remove { get; set; } = [];

    /// <summary>The ids in <see cref="Add"/> and <see cref="Remove"/> that are groups (null when none).</summary>
    [Id(3), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<string>? Groups { get; set; }
}
