using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Scim.Resources;
using Cluster.Scim.Schema;

namespace Cluster.Grains.Tests;

/// <summary>Helpers to drive user grains the way the gateway does: normalized resource JSON in, ScimResult out.</summary>
internal static class Users
{
    /// <summary>A normalized user resource (what the gateway hands to <see cref="IIndexedResourceGrain.CreateAsync"/>).</summary>
    public static string Resource(string userName, string? externalId = null, string? workEmail = null, string? displayName = null)
    {
        var body = new JsonObject { ["userName"] = userName };
        if (externalId is not null)
        {
            body["externalId"] = externalId;
        }

        if (workEmail is not null)
        {
            body["emails"] = new JsonArray(new JsonObject { ["type"] = "work", ["value"] = workEmail });
        }

        if (displayName is not null)
        {
            body["displayName"] = displayName;
        }

        return ResourceNormalizer.Normalize(body, ScimSchemas.UserResource).ToJsonString();
    }

    /// <summary>A PatchOp body that replaces userName.</summary>
    public static string RenamePatch(string userName) =>
        $$"""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"userName","value":"{{userName}}"}]}""";

    public static IUserGrain User(this IGrainFactory grains, string tenantId, string userId) =>
        grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, userId));

    public static IIndexEntryGrain IndexEntry(this IGrainFactory grains, string tenantId, string indexName, string value) =>
        grains.GetGrain<IIndexEntryGrain>(GrainKeys.IndexEntry(tenantId, indexName, IndexNames.Hash(value)));

    public static IDirectoryGrain DirectoryOf(this IGrainFactory grains, string tenantId, string userId) =>
        grains.GetGrain<IDirectoryGrain>(GrainKeys.Directory(tenantId, "users", GrainKeys.DirectoryPartitionOf(userId)));

    /// <summary>Creates a user with a new id and asserts 201; returns its id.</summary>
    public static async Task<string> CreateUserAsync(this IGrainFactory grains, string tenantId, string userName, string? externalId = null, string? workEmail = null)
    {
        var id = GrainKeys.NewResourceId();
        var result = await grains.User(tenantId, id).CreateAsync(Resource(userName, externalId, workEmail));
        Assert.True(result.Status == 201, $"create {userName}: {result.Status} {result.Detail}");
        return id;
    }

    /// <summary>The ids the tenant's user directory lists (all partitions).</summary>
    public static async Task<HashSet<string>> DirectoryIdsAsync(this IGrainFactory grains, string tenantId)
    {
        var partitions = await Task.WhenAll(Enumerable.Range(0, GrainKeys.DirectoryPartitions)
            .Select(p => grains.GetGrain<IDirectoryGrain>(GrainKeys.Directory(tenantId, "users", p)).ListAsync()));
        return [.. partitions.SelectMany(p => p)];
    }

    /// <summary>The userName stored in a Get result.</summary>
    public static string? UserNameOf(ScimResult result) =>
        result.Resource is { } json ? JsonNode.Parse(json)!["userName"]?.GetValue<string>() : null;
}
