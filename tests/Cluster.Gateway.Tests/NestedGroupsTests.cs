using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>
/// Groups as members of groups (RFC 7643 §4.2) through the real HTTP pipeline: Entra's member PATCH shapes in both
/// dialects, <c>type</c> and <c>$ref</c> of each member, the membership pre-check filters, bad members and deletes.
/// </summary>
public sealed class NestedGroupsTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    private const string PatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GroupMemberAddedByPatchShowsTypeGroupAndRefToGroups(bool flagDialect)
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var user = await CreateUserAsync(scim, $"nested-{Guid.NewGuid():N}@contoso.com");
        var child = await CreateGroupAsync(scim, $"Child {Guid.NewGuid():N}", user);
        var parent = await CreateGroupAsync(scim, $"Parent {Guid.NewGuid():N}");

        // Entra's add shape ("$ref": null): the group decides the member is a group.
        await PatchNoContentAsync(scim, parent, Op(flagDialect ? "add" : "Add", "members", Members(child, user)));

        var members = (await GetJsonAsync(scim, $"Groups/{parent}"))["members"]!.AsArray().Select(m => m!.AsObject()).ToDictionary(m => m["value"]!.GetValue<string>());
        Assert.Equal(new[] { child, user }.Order(StringComparer.Ordinal), members.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("Group", members[child]["type"]!.GetValue<string>());
        Assert.EndsWith($"/tenants/{tenant.TenantId}/Groups/{child}", members[child]["$ref"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("User", members[user]["type"]!.GetValue<string>());
        Assert.EndsWith($"/tenants/{tenant.TenantId}/Users/{user}", members[user]["$ref"]!.GetValue<string>(), StringComparison.Ordinal);

        // Membership pre-checks find the group member (and answer 0 for a group that is not one).
        foreach (var form in new[] { "members[value eq \"{0}\"]", "members eq \"{0}\"" })
        {
            var yes = await GetJsonAsync(scim, $"Groups?attributes=id&filter={Uri.EscapeDataString($"id eq \"{parent}\" and " + string.Format(CultureInfo.InvariantCulture, form, child))}");
            Assert.Equal(parent, Assert.Single(yes["Resources"]!.AsArray())!["id"]!.GetValue<string>());

            var no = await GetJsonAsync(scim, $"Groups?attributes=id&filter={Uri.EscapeDataString($"id eq \"{child}\" and " + string.Format(CultureInfo.InvariantCulture, form, parent))}");
            Assert.Equal(0, no["totalResults"]!.GetValue<int>());
        }

        // A filter on the member's type reads every member and sees the kind.
        var byType = await GetJsonAsync(scim, $"Groups?excludedAttributes=members&filter={Uri.EscapeDataString("members[type eq \"Group\"]")}");
        Assert.Equal(parent, Assert.Single(byType["Resources"]!.AsArray())!["id"]!.GetValue<string>());

        // A user's groups list its direct groups only (the parent reached through the child is not expanded).
        var userOnlyInChild = await CreateUserAsync(scim, $"only-child-{Guid.NewGuid():N}@contoso.com");
        await PatchNoContentAsync(scim, child, Op("add", "members", Members(userOnlyInChild)));
        var groups = (await GetJsonAsync(scim, $"Users/{userOnlyInChild}"))["groups"]!.AsArray();
        Assert.Equal(child, Assert.Single(groups)!["value"]!.GetValue<string>());
        Assert.Equal("direct", groups[0]!["type"]!.GetValue<string>());

        // Removal in the dialect's shape: only the child goes.
        await PatchNoContentAsync(scim, parent, flagDialect
            ? $$"""{"op":"remove","path":"members[value eq \"{{child}}\"]"}"""
            : Op("Remove", "members", Members(child)));
        Assert.Equal([user], await MemberIdsAsync(scim, parent));
    }

    [Fact]
    public async Task MemberTypeAndRefFromTheClientAreHonouredOnCreate()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var child = await CreateGroupAsync(scim, "Typed child");
        var other = await CreateGroupAsync(scim, "Referenced child");

        using var created = await SendAsync(scim, HttpMethod.Post, "Groups", $$"""
            {"displayName":"Typed parent","members":[{"value":"{{child}}","type":"Group"},{"value":"{{other}}","$ref":"{{tenant.ScimUrl}}/Groups/{{other}}"}]}
            """);
        var body = await created.ExpectScimAsync(HttpStatusCode.Created);
        Assert.Equal(new[] { child, other }.Order(StringComparer.Ordinal), body["members"]!.AsArray().Select(m => m!["value"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.All(body["members"]!.AsArray(), m =>
        {
            Assert.Equal("Group", m!["type"]!.GetValue<string>());
            Assert.EndsWith($"/tenants/{tenant.TenantId}/Groups/{m["value"]!.GetValue<string>()}", m["$ref"]!.GetValue<string>(), StringComparison.Ordinal);
        });

        // A stated kind that does not match is 400 and creates nothing.
        using var wrong = await SendAsync(scim, HttpMethod.Post, "Groups", $$"""{"displayName":"Wrong kind","members":[{"value":"{{child}}","type":"User"}]}""");
        await wrong.ExpectScimErrorAsync(HttpStatusCode.BadRequest, "invalidValue");
        Assert.Equal(0, (await GetJsonAsync(scim, "Groups?filter=displayName+eq+%22Wrong+kind%22"))["totalResults"]!.GetValue<int>());
    }

    [Fact]
    public async Task SelfUnknownAndForeignGroupMembersAre400InvalidValueAndNothingChanges()
    {
        var tenant = await gateway.CreateTenantAsync();
        var other = await gateway.CreateTenantAsync("Fabrikam");
        using var scim = gateway.ScimClient(tenant);
        using var otherScim = gateway.ScimClient(other);
        var user = await CreateUserAsync(scim, $"strict-{Guid.NewGuid():N}@contoso.com");
        var group = await CreateGroupAsync(scim, "Strict", user);
        var foreignGroup = await CreateGroupAsync(otherScim, "Foreign");
        var before = await GetJsonAsync(scim, $"Groups/{group}");

        foreach (var bad in new[] { group, foreignGroup, Guid.NewGuid().ToString("N") })
        {
            using var response = await SendAsync(scim, HttpMethod.Patch, $"Groups/{group}", Patch(Op("Add", "members", Members(bad))));
            await response.ExpectScimErrorAsync(HttpStatusCode.BadRequest, "invalidValue");
        }

        Assert.Equal(before.ToJsonString(), (await GetJsonAsync(scim, $"Groups/{group}")).ToJsonString());
        Assert.Empty(await MemberIdsAsync(otherScim, foreignGroup));
    }

    [Fact]
    public async Task DeletingAChildOrAParentGroupCascadesOneLevel()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var user = await CreateUserAsync(scim, $"cascade-{Guid.NewGuid():N}@contoso.com");
        var child = await CreateGroupAsync(scim, "Cascade child", user);
        var parent = await CreateGroupAsync(scim, "Cascade parent", child);
        var grandparent = await CreateGroupAsync(scim, "Cascade grandparent", parent);

        // Deleting the middle group: it leaves the grandparent; its own member group stays, with its members.
        using (var deleted = await scim.DeleteAsync($"Groups/{parent}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        Assert.Empty(await MemberIdsAsync(scim, grandparent));
        Assert.Equal([user], await MemberIdsAsync(scim, child));
        var precheck = await GetJsonAsync(scim, $"Groups?attributes=id&filter={Uri.EscapeDataString($"id eq \"{grandparent}\" and members eq \"{parent}\"")}");
        Assert.Equal(0, precheck["totalResults"]!.GetValue<int>());

        // The child joins another parent; deleting that parent leaves the child free to join again.
        var second = await CreateGroupAsync(scim, "Second parent");
        await PatchNoContentAsync(scim, second, Op("add", "members", Members(child)));
        using (var deleted = await scim.DeleteAsync($"Groups/{second}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        await PatchNoContentAsync(scim, grandparent, Op("add", "members", Members(child)));
        Assert.Equal([child], await MemberIdsAsync(scim, grandparent));
        using (var deleted = await scim.DeleteAsync($"Groups/{child}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        Assert.Empty(await MemberIdsAsync(scim, grandparent));
        Assert.False((await GetJsonAsync(scim, $"Users/{user}")).ContainsKey("groups"));
    }

    private static string Op(string op, string path, string value) => $$"""{"op":"{{op}}","path":"{{path}}","value":{{value}}}""";

    private static string Members(params string[] ids) => "[" + string.Join(",", ids.Select(id => $$"""{"$ref":null,"value":"{{id}}"}""")) + "]";

    private static string Patch(params string[] ops) => $$"""{"schemas":["{{PatchOp}}"],"Operations":[{{string.Join(",", ops)}}]}""";

    private static async Task PatchNoContentAsync(HttpClient scim, string id, params string[] ops)
    {
        using var response = await SendAsync(scim, HttpMethod.Patch, $"Groups/{id}", Patch(ops));
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, $"PATCH: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static async Task<string[]> MemberIdsAsync(HttpClient scim, string id)
    {
        var group = await GetJsonAsync(scim, $"Groups/{id}");
        return [.. group["members"]!.AsArray().Select(m => m!["value"]!.GetValue<string>()).Order(StringComparer.Ordinal)];
    }

    private static async Task<string> CreateUserAsync(HttpClient scim, string userName)
    {
        using var response = await SendAsync(scim, HttpMethod.Post, "Users", $$"""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{{userName}}","active":true}""");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    private static async Task<string> CreateGroupAsync(HttpClient scim, string displayName, params string[] members)
    {
        var body = new JsonObject { ["displayName"] = displayName };
        if (members.Length > 0)
        {
            body["members"] = JsonNode.Parse(Members(members));
        }

        using var response = await SendAsync(scim, HttpMethod.Post, "Groups", body.ToJsonString());
        return (await response.ExpectScimAsync(HttpStatusCode.Created))["id"]!.GetValue<string>();
    }

    private static async Task<JsonObject> GetJsonAsync(HttpClient scim, string path)
    {
        using var response = await scim.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient scim, HttpMethod method, string path, string body) =>
        scim.SendAsync(new HttpRequestMessage(method, path) { Content = new StringContent(body, Encoding.UTF8, "application/scim+json") });
}
