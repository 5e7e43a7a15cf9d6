namespace Cluster.Abstractions;

/// <summary>
/// One SCIM user of one tenant. Holds the canonical resource JSON and keeps the tenant's indexes and directory
/// in step with it; a member of groups. Key: <see cref="GrainKeys.User"/>.
/// </summary>
[Alias("scim.IUserGrain")]
public interface IUserGrain : IIndexedResourceGrain, IGroupMemberGrain
{
    // Create, Replace, Patch, Delete and Get: IIndexedResourceGrain (one write path for users and groups).

    /// <summary>
    /// Offboarding only (the tenant is being erased): drops the reminder of a delete the user had not finished, through the
    /// reminder service (so its timer stops at once, not at the service's next read of its table), and deactivates; the
    /// sweep erases the rows.
    /// </summary>
    [Alias("Halt")]
    Task HaltAsync();
}
