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

    /// <summary>
    /// PUT: replaces the resource with a normalized one. 200, 404, 409, 412 when <paramref name="ifMatch"/> does not match
    /// the current version (checked in the same turn as the write; a request the resource already reflects answers 200).
    /// </summary>
    [Alias("Replace")]
    Task<ScimResult> ReplaceAsync(string resource, ETagCondition? ifMatch = null);

    /// <summary>PATCH: applies a PatchOp request body atomically. 200, 400, 404, 409, 412 (see <see cref="ReplaceAsync"/>).</summary>
    [Alias("Patch")]
    Task<ScimResult> PatchAsync(string patchRequest, ETagCondition? ifMatch = null);

    /// <summary>Deletes the user. 204, 404, or 412 when <paramref name="ifMatch"/> does not match.</summary>
    [Alias("Delete")]
    Task<ScimResult> DeleteAsync(ETagCondition? ifMatch = null);
}
