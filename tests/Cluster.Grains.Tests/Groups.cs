using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Scim.Resources;
using Cluster.Scim.Schema;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests;

/// <summary>Helpers to drive group grains the way the gateway does.</summary>
internal static class Groups
{
    public static string Resource(string displayName, string? externalId = null, params string[] members)
    {
        var body = new JsonObject { ["displayName"] = displayName };
        if (externalId is not null)
        {
            body["externalId"] = externalId;
        }

        if (members.Length > 0)
        {
            body["members"] = new JsonArray([.. members.Select(m => (JsonNode)new JsonObject { ["value"] = m })]);
        }

        return ResourceNormalizer.Normalize(body, ScimSchemas.GroupResource).ToJsonString();
    }

    public static string Ops(params string[] operations) =>
        $$"""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{{string.Join(",", operations)}}]}""";

    public static string AddMembers(params string[] ids) =>
        Ops($$"""{"op":"Add","path":"members","value":[{{string.Join(",", ids.Select(id => $$"""{"$ref":null,"value":"{{id}}"}"""))}}]}""");

    public static string RemoveMembers(params string[] ids) =>
        Ops($$"""{"op":"Remove","path":"members","value":[{{string.Join(",", ids.Select(id => $$"""{"$ref":null,"value":"{{id}}"}"""))}}]}""");

    public static IGroupGrain Group(this IGrainFactory grains, string tenantId, string groupId) =>
        grains.GetGrain<IGroupGrain>(GrainKeys.Group(tenantId, groupId));

    public static async Task<string> CreateGroupAsync(this IGrainFactory grains, string tenantId, string displayName, params string[] members)
    {
        var id = GrainKeys.NewResourceId();
        var result = await grains.Group(tenantId, id).CreateAsync(Resource(displayName, null, members));
        Assert.True(result.Status == 201, $"create group {displayName}: {result.Status} {result.Detail}");
        return id;
    }

    /// <summary>
    /// A new user whose member partition (in any group) is that of <paramref name="memberId"/>, or with
    /// <paramref name="other"/> one whose partition is another.
    /// </summary>
    public static async Task<string> CreateUserInPartitionOfAsync(this IGrainFactory grains, string tenantId, string memberId, bool other = false)
    {
        while (true)
        {
            var user = await grains.CreateUserAsync(tenantId, $"partition-{Guid.NewGuid():N}@contoso.com");
            if ((GrainKeys.GroupMemberPartitionOf(user) == GrainKeys.GroupMemberPartitionOf(memberId)) != other)
            {
                return user;
            }
        }
    }

    /// <summary>The group's member ids (all partitions, read through the group).</summary>
    public static async Task<string[]> MembersAsync(this IGrainFactory grains, string tenantId, string groupId)
    {
        var result = await grains.Group(tenantId, groupId).ReadAsync(null);
        Assert.Equal(200, result.Status);
        var members = JsonNode.Parse(result.Resource!)!["members"] as JsonArray ?? [];
        return [.. members.Select(m => m!["value"]!.GetValue<string>()).Order(StringComparer.Ordinal)];
    }

    /// <summary>The group ids a user's <c>groups</c> attribute shows (verified against the groups).</summary>
    public static async Task<string[]> GroupsOfAsync(this IGrainFactory grains, string tenantId, string userId)
    {
        var result = await grains.User(tenantId, userId).GetAsync();
        Assert.Equal(200, result.Status);
        var groups = JsonNode.Parse(result.Resource!)!["groups"] as JsonArray ?? [];
        return [.. groups.Select(g => g!["value"]!.GetValue<string>()).Order(StringComparer.Ordinal)];
    }

    /// <summary>
    /// Invariant 7: the group's members and each known user's groups agree both ways, and every member exists;
    /// a user's recorded group ids (a superset of the truth) settle to exactly its memberships once repaired.
    /// </summary>
    public static async Task AssertMembershipAgreesAsync(this IGrainFactory grains, string tenantId, string[] groupIds, string[] userIds)
    {
        var members = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var g in groupIds)
        {
            var read = await grains.Group(tenantId, g).ReadAsync(null);
            members[g] = read.Status == 200 ? await grains.MembersAsync(tenantId, g) : [];
            foreach (var m in members[g])
            {
                // A member is a user or (nested) a group; either way it must exist.
                var exists = await grains.User(tenantId, m).ExistsAsync() || await grains.Group(tenantId, m).ExistsAsync();
                Assert.True(exists, $"group {g} lists {m}, which does not exist");
            }
        }

        foreach (var u in userIds)
        {
            if (!await grains.User(tenantId, u).ExistsAsync())
            {
                Assert.DoesNotContain(members.Values, m => m.Contains(u));
                continue;
            }

            var expected = groupIds.Where(g => members[g].Contains(u)).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(expected, await grains.GroupsOfAsync(tenantId, u));
        }
    }

    /// <summary>Waits (bounded, polling) until a user's recorded group ids equal <paramref name="expected"/>.</summary>
    public static async Task AssertRecordedGroupsSettleAsync(this IGrainFactory grains, string tenantId, string userId, params string[] expected)
    {
        // The repair is a one-way message the user's read sends to the group: give it a moment.
        var ordered = expected.Order(StringComparer.Ordinal).ToArray();
        string[] recorded = [];
        await Eventually.TrueAsync(
            async () => (recorded = await grains.User(tenantId, userId).GetGroupIdsAsync()).SequenceEqual(ordered),
            what: $"user {userId} records the groups [{string.Join(", ", ordered)}]");
        Assert.Equal(ordered, recorded);
    }
}
