namespace Cluster.Abstractions;

/// <summary>
/// One entry of a tenant index: the ids of the resources holding one normalized value.
/// One grain per (tenant, index, value hash), so a lookup costs one grain call whatever the tenant's size,
/// no grain is hot for a big tenant, and no state grows with the tenant.
/// Key: <see cref="GrainKeys.IndexEntry"/>.
/// </summary>
[Alias("scim.IIndexEntryGrain")]
public interface IIndexEntryGrain : IGrainWithStringKey
{
    /// <summary>
    /// Adds <paramref name="resourceId"/>. For a unique index, returns the id of another live holder instead
    /// (nothing changes); a holder that no longer owns the value (a crashed create or rename) is replaced.
    /// </summary>
    [Alias("Claim")]
    Task<string?> ClaimAsync(string resourceId);

    /// <summary>Removes <paramref name="resourceId"/> if present.</summary>
    [Alias("Release")]
    Task ReleaseAsync(string resourceId);

    /// <summary>
    /// The ids holding the value (candidates: callers check them against the resources). Interleaves, like
    /// <see cref="FindAsync"/>: it answers from the committed holders even while a claim waits for a holder's answer or
    /// for its own write, instead of queueing behind it (a claimant is acknowledged only by its resource's write, after its
    /// claims, so a filter answered meanwhile misses nothing acknowledged).
    /// </summary>
    [Alias("Lookup"), AlwaysInterleave]
    Task<string[]> LookupAsync();

    /// <summary>
    /// The holders with their resources as each one's <c>GetAsync</c> answers at this moment (candidates too: callers check
    /// them against the filter): an indexed <c>eq</c> filter in one call from the caller, the entry asking its holders
    /// (a local call when a holder lives on this entry's silo). Interleaves: a holder in the middle of a write may be
    /// claiming or releasing this very entry while the entry waits for its answer.
    /// </summary>
    [Alias("Find"), AlwaysInterleave]
    Task<IndexHit[]> FindAsync();
}

/// <summary>One holder of an index value and its resource as read by <see cref="IIndexEntryGrain.FindAsync"/>.</summary>
[GenerateSerializer, Immutable, Alias("scim.IndexHit")]
public sealed record IndexHit([property: Id(0)] string Id, [property: Id(1)] ScimResult Resource);

/// <summary>
/// One partition of a tenant's directory of resource ids of one type, for listing, scanning and counting.
/// Key: <see cref="GrainKeys.Directory"/>.
/// </summary>
[Alias("scim.IDirectoryGrain")]
public interface IDirectoryGrain : IGrainWithStringKey
{
    [Alias("Add")]
    Task AddAsync(string resourceId);

    [Alias("Remove")]
    Task RemoveAsync(string resourceId);

    [Alias("List"), ReadOnly]
    Task<string[]> ListAsync();

    [Alias("Count"), ReadOnly]
    Task<int> CountAsync();
}
