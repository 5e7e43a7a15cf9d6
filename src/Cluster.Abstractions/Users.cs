namespace Cluster.Abstractions;

/// <summary>
/// One SCIM user of one tenant. Holds the canonical resource JSON and keeps the tenant's indexes and directory
/// in step with it. Key: <see cref="GrainKeys.User"/>.
/// </summary>
[Alias("scim.IUserGrain")]
public interface IUserGrain : IIndexedResourceGrain, IGroupMemberGrain
{
    /// <summary>
    /// Creates the user from a normalized resource (see <c>ResourceNormalizer</c>). 201, or 409 uniqueness.
    /// Idempotent: repeating a create with identical content on the same (new) id answers 201 with the stored user.
    /// </summary>
    [Alias("Create")]
    Task<ScimResult> CreateAsync(string resource);

    /// <summary>PUT: replaces the resource with a normalized one. 200, 404, 409.</summary>
    [Alias("Replace")]
    Task<ScimResult> ReplaceAsync(string resource);

    /// <summary>PATCH: applies a PatchOp request body atomically. 200, 400, 404, 409.</summary>
    [Alias("Patch")]
    Task<ScimResult> PatchAsync(string patchRequest);

    /// <summary>Deletes the user. 204, or 404.</summary>
    [Alias("Delete")]
    Task<ScimResult> DeleteAsync();
}
