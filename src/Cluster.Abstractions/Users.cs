namespace Cluster.Abstractions;

/// <summary>
/// One SCIM user of one tenant. Holds the canonical resource JSON and keeps the tenant's indexes and directory
/// in step with it. Key: <see cref="GrainKeys.User"/>.
/// </summary>
[Alias("scim.IUserGrain")]
public interface IUserGrain : IGrainWithStringKey
{
    /// <summary>
    /// Creates the user from a normalized resource (see <c>ResourceNormalizer</c>). 201, or 409 uniqueness.
    /// Idempotent: repeating a create with identical content on the same (new) id answers 201 with the stored user.
    /// </summary>
    [Alias("Create")]
    Task<ScimResult> CreateAsync(string resource);

    /// <summary>The stored resource, or 404.</summary>
    [Alias("Get")]
    Task<ScimResult> GetAsync();

    /// <summary>PUT: replaces the resource with a normalized one. 200, 404, 409.</summary>
    [Alias("Replace")]
    Task<ScimResult> ReplaceAsync(string resource);

    /// <summary>PATCH: applies a PatchOp request body atomically. 200, 400, 404, 409.</summary>
    [Alias("Patch")]
    Task<ScimResult> PatchAsync(string patchRequest);

    /// <summary>Deletes the user. 204, or 404.</summary>
    [Alias("Delete")]
    Task<ScimResult> DeleteAsync();

    /// <summary>
    /// True when this user holds, or is in the middle of claiming, the value whose hash is <paramref name="valueHash"/>
    /// in <paramref name="indexName"/>. Interleaves, so an index may ask while this user is claiming.
    /// </summary>
    [Alias("OwnsIndexValue"), AlwaysInterleave]
    Task<bool> OwnsIndexValueAsync(string indexName, string valueHash);

    /// <summary>
    /// Repairs the tenant's indexes and directory for this user after a lookup found an entry that does not
    /// agree with the user (a crash between two writes): removes stale entries, restores missing ones.
    /// </summary>
    [Alias("Reconcile")]
    Task ReconcileAsync(string? indexName, string? valueHash);
}
