using Cluster.Scim.Filtering;
using Cluster.Scim.Schema;

namespace Cluster.Abstractions;

/// <summary>
/// What every resource grain with index entries answers: its resource, whether it owns an index value (asked by a
/// unique index entry before it gives a value to someone else), and repair of its entries after a crash.
/// </summary>
/// <remarks>
/// No type alias on this base interface: a gateway (an Orleans client) failed to resolve the compound alias
/// <c>(inv,[GrainReference],[scim.IIndexedResourceGrain],"Get")</c> of its inherited methods when a draining silo bounced
/// a request back (TypeLoadException, see dotnet/orleans#9777), and kept failing; the full type name always resolves.
/// </remarks>
public interface IIndexedResourceGrain : IEventSourceGrain
{
    /// <summary>
    /// Creates the resource from a normalized body (see <c>ResourceNormalizer</c>; a group's may carry members). 201, 400
    /// invalidValue (a group's unknown member), 409 uniqueness. Idempotent: repeating a create with identical content on
    /// the same (new) id answers 201 with the stored resource, so the gateway may retry it after an unknown outcome.
    /// </summary>
    [Alias("Create")]
    Task<ScimResult> CreateAsync(string resource);

    /// <summary>
    /// <see cref="CreateAsync"/> under an id the caller has just made up (<see cref="GrainKeys.NewResourceId"/>), on its
    /// first attempt: nothing can be stored under it yet, so a grain that supports it writes the new resource without
    /// reading its empty state first (an insert: storage refuses it if a row exists after all). Retries call
    /// <see cref="CreateAsync"/>.
    /// </summary>
    [Alias("CreateNew")]
    Task<ScimResult> CreateNewAsync(string resource);

    /// <summary>
    /// PUT: replaces the resource (a group's members too) with a normalized one. 200, 400, 404, 409, 412 when
    /// <paramref name="ifMatch"/> does not match the current version (checked in the same turn as the write; a request the
    /// resource already reflects answers 200). 503 while a group applies an earlier change to many members.
    /// </summary>
    [Alias("Replace")]
    Task<ScimResult> ReplaceAsync(string resource, ETagCondition? ifMatch = null);

    /// <summary>PATCH: applies a PatchOp body atomically. 200 (a group's without members), 400, 404, 409, 412, 503 (see <see cref="ReplaceAsync"/>).</summary>
    [Alias("Patch")]
    Task<ScimResult> PatchAsync(string patchRequest, ETagCondition? ifMatch = null);

    /// <summary>Deletes the resource; it leaves every group it belongs to (a group: its members forget it). 204, 404, 412.</summary>
    [Alias("Delete")]
    Task<ScimResult> DeleteAsync(ETagCondition? ifMatch = null);

    /// <summary>The stored resource, or 404.</summary>
    [Alias("Get")]
    Task<ScimResult> GetAsync();

    /// <summary>
    /// True when this resource holds the value whose hash is <paramref name="valueHash"/> in <paramref name="indexName"/>.
    /// Interleaves, so an index may ask while this resource is claiming: the answer then waits for that change to settle
    /// (true if it wrote the value, false if it failed), or is true if it has not settled within a bound.
    /// </summary>
    [Alias("OwnsIndexValue"), AlwaysInterleave]
    Task<bool> OwnsIndexValueAsync(string indexName, string valueHash);

    /// <summary>
    /// Repairs the tenant's indexes and directory for this resource after a lookup found an entry that does not
    /// agree with it (a crash between two writes): removes stale entries, restores missing ones.
    /// </summary>
    [Alias("Reconcile")]
    Task ReconcileAsync(string? indexName, string? valueHash);
}

/// <summary>
/// A resource type with indexes: its SCIM definition, its directory, its index mapping and its grain. The one place
/// that says which grain answers for an index (<see cref="OfIndex"/>), so index entries and queries never need to
/// know resource types themselves.
/// </summary>
public sealed class ResourceKind
{
    public static readonly ResourceKind User = new(
        () => ScimSchemas.UserResource, "users", IndexNames.UserIndexes, UserIndexes.ValuesIn, UserIndexes.Plan,
        (grains, tenantId, id) => grains.Grain<IUserGrain>(GrainKeys.User(tenantId, id)));

    public static readonly ResourceKind Group = new(
        () => ScimSchemas.GroupResource, "groups", IndexNames.GroupIndexes, GroupIndexes.ValuesIn, GroupIndexes.Plan,
        (grains, tenantId, id) => grains.Grain<IGroupGrain>(GrainKeys.Group(tenantId, id)));

    private readonly Func<IGrainFactory, string, string, IIndexedResourceGrain> _grain;
    private readonly Func<ResourceTypeDefinition> _type;

    private ResourceKind(
        Func<ResourceTypeDefinition> type,
        string directoryName,
        IReadOnlyList<string> indexes,
        Func<System.Text.Json.Nodes.JsonObject?, string, string[]> valuesIn,
        Func<FilterNode, IndexProbe?> plan,
        Func<IGrainFactory, string, string, IIndexedResourceGrain> grain)
    {
        _type = type;
        DirectoryName = directoryName;
        Indexes = indexes;
        ValuesIn = valuesIn;
        Plan = plan;
        _grain = grain;
    }

    /// <summary>The SCIM resource type, with the extensions configured in this process (<see cref="ScimSchemas.Configure"/>).</summary>
    public ResourceTypeDefinition Type => _type();

    /// <summary>The directory name in <see cref="GrainKeys.Directory"/> (<c>users</c>, <c>groups</c>).</summary>
    public string DirectoryName { get; }

    /// <summary>The index names of this type.</summary>
    public IReadOnlyList<string> Indexes { get; }

    /// <summary>The values of a resource in each index (raw, not normalized).</summary>
    public Dictionary<string, string[]> ValuesOf(System.Text.Json.Nodes.JsonObject? resource) =>
        Indexes.ToDictionary(index => index, index => ValuesIn(resource, index), StringComparer.Ordinal);

    /// <summary>The values of a resource in one of this kind's indexes (raw, not normalized): <see cref="ValuesOf"/> for one index.</summary>
    public Func<System.Text.Json.Nodes.JsonObject?, string, string[]> ValuesIn { get; }

    /// <summary>The index probe that answers a filter, or null when it needs a scan.</summary>
    public Func<FilterNode, IndexProbe?> Plan { get; }

    /// <summary>The resource kind of a SCIM resource type name (<c>User</c>, <c>Group</c>).</summary>
    public static ResourceKind OfName(string resourceType) => string.Equals(resourceType, "Group", StringComparison.Ordinal) ? Group : User;

    /// <summary>The resource kind an index belongs to.</summary>
    public static ResourceKind OfIndex(string indexName) => Group.Indexes.Contains(indexName) ? Group : User;

    /// <summary>The grain of a resource of this kind.</summary>
    public IIndexedResourceGrain Grain(IGrainFactory grains, string tenantId, string id) => _grain(grains, tenantId, id);

    /// <summary>One partition of this kind's directory of a tenant.</summary>
    public IDirectoryGrain Directory(IGrainFactory grains, string tenantId, int partition) =>
        grains.Grain<IDirectoryGrain>(GrainKeys.Directory(tenantId, DirectoryName, partition));
}
