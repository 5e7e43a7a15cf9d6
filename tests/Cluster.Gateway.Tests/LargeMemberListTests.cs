using System.Net;
using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Scim.Resources;
using Cluster.Scim.Schema;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Gateway.Tests;

/// <summary>
/// Issue 11: 10,000 members in one request through the real pipeline — a PATCH that adds them and a PUT that replaces
/// them — are accepted (a member list is not held to the 1,000-element limit of stored attributes; the body limit bounds
/// it) and applied in bounded steps after the answer; Entra's membership pre-check then finds them.
/// </summary>
public sealed class LargeMemberListTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    private const int Count = 10_000;

    [Fact]
    public async Task TenThousandMembersAreAddedByOnePatchAndReplacedByOnePut()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var users = await SeedUsersAsync(tenant.TenantId, 2 * Count);
        using var created = await scim.PostAsync("Groups", ScimTestClient.Body("""{"displayName":"Everyone"}"""));
        var group = (await created.ExpectScimAsync(HttpStatusCode.Created))["id"].Str();

        var add = new JsonObject
        {
            ["schemas"] = new JsonArray("urn:ietf:params:scim:api:messages:2.0:PatchOp"),
            ["Operations"] = new JsonArray(new JsonObject { ["op"] = "Add", ["path"] = "members", ["value"] = Members(users[..Count]) }),
        };
        using (var patched = await scim.PatchAsync($"Groups/{group}", ScimTestClient.Body(add.ToJsonString())))
        {
            Assert.Equal(HttpStatusCode.NoContent, patched.StatusCode);
        }

        await WaitForMembersAsync(scim, group, users[..Count]);
        await AssertPreCheckAsync(scim, group, users[Count - 1], true);

        var put = new JsonObject { ["displayName"] = "Everyone", ["members"] = Members(users[Count..]) };
        using (var replaced = await scim.PutAsync($"Groups/{group}?excludedAttributes=members", ScimTestClient.Body(put.ToJsonString())))
        {
            await replaced.ExpectScimAsync(HttpStatusCode.OK);
        }

        await WaitForMembersAsync(scim, group, users[Count..]);
        await AssertPreCheckAsync(scim, group, users[0], false);
        await AssertPreCheckAsync(scim, group, users[^1], true);
    }

    private static JsonArray Members(IEnumerable<string> ids) => new([.. ids.Select(id => (JsonNode)new JsonObject { ["value"] = id })]);

    private static async Task WaitForMembersAsync(HttpClient scim, string group, string[] expected)
    {
        for (var attempt = 0; ; attempt++)
        {
            var body = await (await scim.GetAsync($"Groups/{group}")).ExpectScimAsync(HttpStatusCode.OK);
            var members = (body["members"] as JsonArray ?? []).Select(m => m!["value"].Str()).Order(StringComparer.Ordinal).ToArray();
            if (members.SequenceEqual(expected.Order(StringComparer.Ordinal)))
            {
                return;
            }

            Assert.True(attempt < 600, $"the group has {members.Length} members, expected {expected.Length}");
            await Task.Delay(100);
        }
    }

    private static async Task AssertPreCheckAsync(HttpClient scim, string group, string user, bool member)
    {
        // With excludedAttributes=members, with attributes=id (Entra's documented form), and with neither: answered without
        // members (entra-scim.md §2.8), not with the group's 10,000.
        foreach (var filter in new[] { $"id eq \"{group}\" and members[value eq \"{user}\"]", $"id eq \"{group}\" and members eq \"{user}\"" })
        {
            foreach (var projection in new[] { "&excludedAttributes=members", "&attributes=id", "", "&excludedAttributes=meta" })
            {
                var found = await (await scim.GetAsync($"Groups?filter={Uri.EscapeDataString(filter)}{projection}")).ExpectScimAsync(HttpStatusCode.OK);
                Assert.True((member ? 1 : 0) == found["totalResults"]!.GetValue<int>(), $"{filter} {projection}: totalResults {found["totalResults"]}");
                Assert.All(found["Resources"] as JsonArray ?? [], g => Assert.Null(g!["members"]));
            }
        }

        // POST /Groups/.search answers the same.
        var search = new JsonObject
        {
            ["schemas"] = new JsonArray("urn:ietf:params:scim:api:messages:2.0:SearchRequest"),
            ["filter"] = $"id eq \"{group}\" and members eq \"{user}\"",
        };
        var searched = await (await scim.PostAsync("Groups/.search", ScimTestClient.Body(search.ToJsonString()))).ExpectScimAsync(HttpStatusCode.OK);
        Assert.Equal(member ? 1 : 0, searched["totalResults"]!.GetValue<int>());
        Assert.All(searched["Resources"] as JsonArray ?? [], g => Assert.Null(g!["members"]));

        // Asked for, members are shown: all of them, as for any query; so they are for a member filter without an id (which
        // groups hold this user), as RFC 7643 has them returned by default.
        foreach (var query in new[] { $"filter={Uri.EscapeDataString($"id eq \"{group}\" and members eq \"{user}\"")}&attributes=members", $"filter={Uri.EscapeDataString($"members eq \"{user}\"")}" })
        {
            var shown = await (await scim.GetAsync($"Groups?{query}")).ExpectScimAsync(HttpStatusCode.OK);
            if (member)
            {
                Assert.Equal(Count, Assert.Single(shown["Resources"]!.AsArray())!["members"]!.AsArray().Count);
            }
        }
    }

    private async Task<string[]> SeedUsersAsync(string tenantId, int count)
    {
        var grains = gateway.Services.GetRequiredService<IGrainFactory>();
        var ids = Enumerable.Range(0, count).Select(_ => GrainKeys.NewResourceId()).ToArray();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
        {
            var resource = ResourceNormalizer.Normalize(new JsonObject { ["userName"] = $"member{i}@contoso.com" }, ScimSchemas.UserResource).ToJsonString();
            Assert.Equal(201, (await grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, ids[i])).CreateAsync(resource)).Status);
        });
        return ids;
    }
}
