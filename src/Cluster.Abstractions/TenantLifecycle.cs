using System.Buffers.Text;
using System.Text;
using Cluster.Scim.Resources;

namespace Cluster.Abstractions;

/// <summary>
/// A tenant's lifecycle (issue 13; docs/architecture.md, "Tenant lifecycle and offboarding"): its summary for the operator
/// (counts, last request), the tenant registry that lists tenants by name, and offboarding — a delete that stops the
/// tenant's credentials at once, then erases every row it owned, in bounded steps that resume after any crash.
/// </summary>
public partial interface ITenantGrain
{
    /// <summary>
    /// The tenant as the operator sees it: profile, token metadata, user and group counts (O(1): kept by the tenant's event
    /// log), when it last made an authenticated SCIM request — or, while it is being deleted, the deletion's progress. Null
    /// when there is no such tenant (never created, or deleted and erased). Read-only: while it waits for the event log's
    /// counts, the tenant's other reads (the gateways' credential reads among them) are served; its changes wait.
    /// </summary>
    [Alias("GetSummary"), ReadOnly]
    Task<TenantSummary?> GetSummaryAsync();

    /// <summary>
    /// Offboards the tenant. From this call on it answers as not existing to <see cref="GetCredentialsAsync"/> and every other
    /// call, so every gateway refuses its credentials within <c>Gateway:TokenCacheSeconds</c>; then every row it owned is
    /// erased in bounded steps (a reminder resumes them after a crash). Idempotent: a delete under way answers its progress.
    /// Null when there is no such tenant (never created, or already erased).
    /// </summary>
    [Alias("Delete")]
    Task<TenantDeletion?> DeleteAsync();

    /// <summary>
    /// A gateway noticed an authenticated SCIM request of this tenant at <paramref name="at"/> (each gateway tells at most about
    /// once a minute per tenant). Kept in memory and stored lazily, not once per request.
    /// </summary>
    [Alias("NoteRequest"), OneWay]
    Task NoteRequestAsync(DateTimeOffset at);

    /// <summary>
    /// Asked by a listing that met <paramref name="key"/> in the registry although the tenant does not hold that name (a create
    /// or rename that crashed between the registry and the tenant's write, or a tenant being deleted): in the tenant's own turn,
    /// removes the entry unless the tenant holds it.
    /// </summary>
    [Alias("ReconcileListing"), OneWay]
    Task ReconcileListingAsync(TenantListingKey key);
}

/// <summary>A tenant as the admin API shows it (no secrets), or the progress of its deletion.</summary>
/// <param name="TenantId">The tenant id.</param>
/// <param name="Name">Its name (while it is being deleted: the name it had).</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="Suspended">True while its SCIM calls are refused (403).</param>
/// <param name="Tokens">Its tokens' metadata (empty while it is being deleted).</param>
/// <param name="UserCount">Users that exist: every committed create minus every committed delete.</param>
/// <param name="GroupCount">Groups that exist, likewise.</param>
/// <param name="LastRequestAt">When it last made an authenticated SCIM request (to within a minute), or null.</param>
/// <param name="Deletion">The deletion under way, or null.</param>
[GenerateSerializer, Immutable, Alias("scim.TenantSummary")]
public sealed record TenantSummary(
    [property: Id(0)] string TenantId,
    [property: Id(1)] string Name,
    [property: Id(2)] DateTimeOffset CreatedAt,
    [property: Id(3)] bool Suspended,
    [property: Id(4)] IReadOnlyList<TokenInfo> Tokens,
    [property: Id(5)] long UserCount,
    [property: Id(6)] long GroupCount,
    [property: Id(7)] DateTimeOffset? LastRequestAt,
    [property: Id(8)] TenantDeletion? Deletion);

/// <summary>The progress of a tenant's offboarding.</summary>
/// <param name="StartedAt">When the delete was accepted (the tenant's credentials stopped then).</param>
/// <param name="Phase">One of <see cref="TenantDeletionPhases"/>.</param>
/// <param name="RowsErased">Storage rows erased so far (reminders included).</param>
/// <param name="Passes">Erase passes that found nothing left to erase, so far (the delete ends after the first such verification pass).</param>
[GenerateSerializer, Immutable, Alias("scim.TenantDeletion")]
public sealed record TenantDeletion(
    [property: Id(0)] DateTimeOffset StartedAt,
    [property: Id(1)] string Phase,
    [property: Id(2)] long RowsErased,
    [property: Id(3)] int Passes);

/// <summary>The phases of a tenant's offboarding, in order.</summary>
public static class TenantDeletionPhases
{
    /// <summary>The tenant's record goes (its credentials with it) and it leaves the registry.</summary>
    public const string Revoking = "revoking";

    /// <summary>Waiting <c>Tenants:OffboardingGraceSeconds</c> for requests authenticated before the delete to finish.</summary>
    public const string Draining = "draining";

    /// <summary>Stopping the tenant's background work through its grains: webhook delivery, large group changes, the event log's timers.</summary>
    public const string Stopping = "stopping";

    /// <summary>Erasing every row under the tenant's key prefix, a bounded step at a time.</summary>
    public const string Erasing = "erasing";

    /// <summary>Sweeping again after a pause, until a pass finds nothing.</summary>
    public const string Verifying = "verifying";

    /// <summary>Erasing the tenant's own rows; then it is gone (404).</summary>
    public const string Finishing = "finishing";
}

/// <summary>
/// A tenant's place in the tenant registry (the listing order): its name's canonical form (<see cref="ScimIdentity.Canonical"/>,
/// cut to <see cref="MaxNameLength"/> characters), then its id. Ordered ordinally by name, then id.
/// </summary>
[GenerateSerializer, Immutable, Alias("scim.TenantListingKey")]
public readonly record struct TenantListingKey([property: Id(0)] string Name, [property: Id(1)] string TenantId) : IComparable<TenantListingKey>
{
    /// <summary>
    /// Characters of the canonical name that order tenants: names alike in their first 64 canonical characters are ordered by
    /// id. It bounds every registry row (docs/architecture.md).
    /// </summary>
    public const int MaxNameLength = 64;

    private const char CursorSeparator = '\n';

    /// <summary>The key of tenant <paramref name="tenantId"/> named <paramref name="name"/>.</summary>
    public static TenantListingKey For(string tenantId, string name) => new(SortName(name), tenantId);

    /// <summary>The canonical form of a name (or of a prefix searched for), cut to <see cref="MaxNameLength"/> characters.</summary>
    public static string SortName(string name) => Texts.AtMost(ScimIdentity.Canonical(name), MaxNameLength);

    public int CompareTo(TenantListingKey other)
    {
        var byName = string.CompareOrdinal(Name, other.Name);
        return byName != 0 ? byName : string.CompareOrdinal(TenantId, other.TenantId);
    }

    public static bool operator <(TenantListingKey left, TenantListingKey right) => left.CompareTo(right) < 0;

    public static bool operator >(TenantListingKey left, TenantListingKey right) => left.CompareTo(right) > 0;

    public static bool operator <=(TenantListingKey left, TenantListingKey right) => left.CompareTo(right) <= 0;

    public static bool operator >=(TenantListingKey left, TenantListingKey right) => left.CompareTo(right) >= 0;

    /// <summary>The key as an opaque listing cursor: base64url of its UTF-8.</summary>
    public string ToCursor() => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(Name + CursorSeparator + TenantId));

    /// <summary>Reads a cursor made by <see cref="ToCursor"/>; false for anything else.</summary>
    public static bool TryParseCursor(string? cursor, out TenantListingKey key)
    {
        key = default;
        if (string.IsNullOrEmpty(cursor) || cursor.Length > 1024 || !Base64Url.IsValid(cursor))
        {
            return false;
        }

        var bytes = Base64Url.DecodeFromChars(cursor);
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return false;
        }

        var text = Encoding.UTF8.GetString(bytes);
        var cut = text.LastIndexOf(CursorSeparator);
        if (cut < 0 || !GrainKeys.IsValidId(text[(cut + 1)..]) || cut > MaxNameLength || text[..cut].Any(char.IsControl))
        {
            return false;
        }

        key = new TenantListingKey(text[..cut], text[(cut + 1)..]);
        return true;
    }
}

/// <summary>A page of the registry: keys in order, and whether more follow.</summary>
[GenerateSerializer, Immutable, Alias("scim.TenantListingPage")]
public sealed record TenantListingPage(
    [property: Id(0)] TenantListingKey[] Keys,
    [property: Id(1)] bool HasMore);

/// <summary>
/// The tenant registry: every tenant's <see cref="TenantListingKey"/>, sorted, for listing by name with a cursor at a cost
/// proportional to the page. The root holds the buckets' lower bounds; each bucket (<see cref="ITenantRegistryBucketGrain"/>)
/// holds a sorted run of keys and is split when full. Tenant grains add and remove their keys (claim → write → release,
/// as indexes); listings remove stale keys through the tenant (<see cref="ITenantGrain.ReconcileListingAsync"/>).
/// Key: <see cref="GrainKeys.TenantRegistry"/> (cluster-wide).
/// </summary>
[Alias("scim.ITenantRegistryGrain")]
public interface ITenantRegistryGrain : IGrainWithStringKey
{
    [Alias("Add")]
    Task AddAsync(TenantListingKey key);

    [Alias("Remove")]
    Task RemoveAsync(TenantListingKey key);

    /// <summary>
    /// Up to <paramref name="limit"/> keys after <paramref name="after"/> (null: from the first) whose name starts with
    /// <paramref name="prefix"/> (a <see cref="TenantListingKey.SortName"/>; null or empty: any), in order. A read-only turn:
    /// listings run side by side but never inside a change, so they always see a split whole.
    /// </summary>
    [Alias("List"), ReadOnly]
    Task<TenantListingPage> ListAsync(TenantListingKey? after, string? prefix, int limit);
}

/// <summary>
/// One bucket of the tenant registry: the keys in [<c>lower</c>, <c>upper</c>) as the root assigns them (it passes the
/// bounds on every call; keys outside them, left by a split that crashed, are dropped on the next write).
/// Key: <see cref="GrainKeys.TenantRegistryBucket"/>.
/// </summary>
[Alias("scim.ITenantRegistryBucketGrain")]
public interface ITenantRegistryBucketGrain : IGrainWithStringKey
{
    /// <summary>Adds the key; returns how many keys the bucket holds.</summary>
    [Alias("Add")]
    Task<int> AddAsync(TenantListingKey key, TenantListingKey? lower, TenantListingKey? upper);

    /// <summary>Removes the key; returns how many keys the bucket holds.</summary>
    [Alias("Remove")]
    Task<int> RemoveAsync(TenantListingKey key, TenantListingKey? lower, TenantListingKey? upper);

    /// <summary>
    /// Up to <paramref name="limit"/> keys within the bounds from <paramref name="start"/> on (after it when
    /// <paramref name="exclusive"/>) whose name starts with <paramref name="prefix"/>; <c>End</c> is true when a key past the
    /// prefix's range was met (nothing later can match).
    /// </summary>
    [Alias("Read"), ReadOnly]
    Task<TenantRegistryRead> ReadAsync(TenantListingKey? lower, TenantListingKey? upper, TenantListingKey? start, bool exclusive, string prefix, int limit);

    /// <summary>Replaces the keys (the upper half of a bucket being split).</summary>
    [Alias("Write")]
    Task WriteAsync(TenantListingKey[] keys);

    /// <summary>Drops the keys outside the bounds (the upper half, once a split's new bucket is in the root).</summary>
    [Alias("Trim")]
    Task TrimAsync(TenantListingKey? lower, TenantListingKey? upper);

    [Alias("Clear")]
    Task ClearAsync();
}

/// <summary>What a registry bucket read: keys in order, and whether it met a key past the prefix's range (<see cref="End"/>).</summary>
[GenerateSerializer, Immutable, Alias("scim.TenantRegistryRead")]
public sealed record TenantRegistryRead(
    [property: Id(0)] TenantListingKey[] Keys,
    [property: Id(1)] bool End);
