using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Gateway.Tests;

/// <summary>Entra's group sequence (entra-scim.md §2.1, §2.8, §4.3, §7.1) through the real HTTP pipeline, in both PATCH dialects.</summary>
public sealed class GroupsTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    private const string PatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task EntraGroupSequence(bool flagDialect)
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var users = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            users.Add(await CreateUserAsync(scim, $"u{i}-{Guid.NewGuid():N}@contoso.com"));
        }

        // Test Connection's group probe: empty 200.
        var probe = await GetJsonAsync(scim, $"Groups?excludedAttributes=members&filter=displayName+eq+%22{Guid.NewGuid()}%22");
        Assert.Equal(0, probe["totalResults"]!.GetValue<int>());
        Assert.Empty(probe["Resources"]!.AsArray());

        // Create without members, with Entra's ADSCIM schema URI.
        var name = $"Group {Guid.NewGuid():N}";
        using var created = await SendAsync(scim, HttpMethod.Post, "Groups", $$$"""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
             "externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","displayName":"{{{name}}}","meta":{"resourceType":"Group"}}
            """);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var group = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        var id = group["id"]!.GetValue<string>();
        Assert.Empty(group["members"]!.AsArray());
        Assert.Equal(["urn:ietf:params:scim:schemas:core:2.0:Group"], group["schemas"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.EndsWith($"/Groups/{id}", created.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.NotNull(created.Headers.ETag);

        // Matching by displayName (other case), members excluded.
        var match = await GetJsonAsync(scim, $"Groups?excludedAttributes=members&filter=displayName+eq+%22{Uri.EscapeDataString(name.ToUpperInvariant())}%22");
        var found = Assert.Single(match["Resources"]!.AsArray())!.AsObject();
        Assert.Equal(id, found["id"]!.GetValue<string>());
        Assert.False(found.ContainsKey("members"));
        Assert.Equal(id, Assert.Single((await GetJsonAsync(scim, "Groups?filter=externalId+eq+%228aa1a0c0-c4c3-4bc0-b4a5-2ef676900159%22"))["Resources"]!.AsArray())!["id"]!.GetValue<string>());

        // Other filters scan the tenant's group directory.
        var scanned = await GetJsonAsync(scim, $"Groups?excludedAttributes=members&filter={Uri.EscapeDataString($"displayName sw \"{name[..10]}\" and not (externalId eq \"x\")")}");
        Assert.Equal(id, Assert.Single(scanned["Resources"]!.AsArray())!["id"]!.GetValue<string>());
        Assert.Equal(1, (await GetJsonAsync(scim, "Groups?count=0"))["totalResults"]!.GetValue<int>());

        // Add members, many in one op ("$ref": null).
        await PatchNoContentAsync(scim, id, Op(flagDialect ? "add" : "Add", "members", Members(users[0], users[1], users[2], users[3])));
        Assert.Equal(users.Order(StringComparer.Ordinal), await MembersAsync(scim, id));

        // Remove members with a value list (default dialect) or members[value eq] (flag dialect): only those.
        if (flagDialect)
        {
            await PatchNoContentAsync(scim, id, $$"""{"op":"remove","path":"members[value eq \"{{users[0]}}\"]"}""");
        }
        else
        {
            await PatchNoContentAsync(scim, id, Op("Remove", "members", Members(users[0])));
        }

        Assert.Equal(users.Skip(1).Order(StringComparer.Ordinal), await MembersAsync(scim, id));
        await PatchNoContentAsync(scim, id, $$"""{"op":"remove","path":"members[value eq \"{{users[1]}}\"]"}""");
        Assert.Equal(users.Skip(2).Order(StringComparer.Ordinal), await MembersAsync(scim, id));

        // Replace members (the validator's "Add Member").
        await PatchNoContentAsync(scim, id, Op(flagDialect ? "replace" : "Replace", "members", Members(users[0], users[3])));
        Assert.Equal(new[] { users[0], users[3] }.Order(StringComparer.Ordinal), await MembersAsync(scim, id));

        // Add then remove the same member in one request.
        await PatchNoContentAsync(scim, id,
            Op("add", "members", Members(users[2])),
            $$"""{"op":"remove","path":"members[value eq \"{{users[2]}}\"]"}""");
        Assert.Equal(new[] { users[0], users[3] }.Order(StringComparer.Ordinal), await MembersAsync(scim, id));

        // Rename (Replace displayName) → 204; the user's groups show the new name.
        var renamed = name + "updatedDisplayName";
        await PatchNoContentAsync(scim, id, flagDialect
            ? $$$"""{"op":"replace","value":{"displayName":"{{{renamed}}}"}}"""
            : $$"""{"op":"Replace","path":"displayName","value":"{{renamed}}"}""");
        var user0 = await GetJsonAsync(scim, $"Users/{users[0]}");
        var membership = Assert.Single(user0["groups"]!.AsArray())!;
        Assert.Equal(id, membership["value"]!.GetValue<string>());
        Assert.Equal(renamed, membership["display"]!.GetValue<string>());
        Assert.False((await GetJsonAsync(scim, $"Users/{users[1]}")).ContainsKey("groups"));

        // Membership pre-checks: 0 or 1 resources, attributes=id honoured.
        foreach (var form in new[] { "members[value eq \"{0}\"]", "members eq \"{0}\"" })
        {
            var yes = await GetJsonAsync(scim, $"Groups?attributes=id&filter={Uri.EscapeDataString($"id eq \"{id}\" and " + string.Format(System.Globalization.CultureInfo.InvariantCulture, form, users[0]))}");
            var hit = Assert.Single(yes["Resources"]!.AsArray())!.AsObject();
            Assert.Equal(id, hit["id"]!.GetValue<string>());
            Assert.False(hit.ContainsKey("members"));
            Assert.False(hit.ContainsKey("displayName"));

            var no = await GetJsonAsync(scim, $"Groups?attributes=id&filter={Uri.EscapeDataString($"id eq \"{id}\" and " + string.Format(System.Globalization.CultureInfo.InvariantCulture, form, users[1]))}");
            Assert.Equal(0, no["totalResults"]!.GetValue<int>());
        }

        // GET by id excluding members; PATCH with attributes answers 200 with the resource.
        var withoutMembers = await GetJsonAsync(scim, $"Groups/{id}?excludedAttributes=members");
        Assert.False(withoutMembers.ContainsKey("members"));
        Assert.Equal(renamed, withoutMembers["displayName"]!.GetValue<string>());
        using (var withBody = await SendAsync(scim, HttpMethod.Patch, $"Groups/{id}?excludedAttributes=members", Patch("""{"op":"replace","value":{"externalId":"ext-2"}}""")))
        {
            Assert.Equal(HttpStatusCode.OK, withBody.StatusCode);
            var body = (await withBody.Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.Equal("ext-2", body["externalId"]!.GetValue<string>());
            Assert.False(body.ContainsKey("members"));
        }

        // Delete → 204, then 404; the users no longer show the group.
        using (var deleted = await scim.DeleteAsync($"Groups/{id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using (var gone = await scim.GetAsync($"Groups/{id}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        using (var again = await scim.DeleteAsync($"Groups/{id}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        }

        Assert.False((await GetJsonAsync(scim, $"Users/{users[0]}")).ContainsKey("groups"));
    }

    [Fact]
    public async Task DuplicateDisplayNameIs409Uniqueness()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        using var first = await SendAsync(scim, HttpMethod.Post, "Groups", """{"displayName":"Admins"}""");
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        using var second = await SendAsync(scim, HttpMethod.Post, "Groups", """{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"ADMINS"}""");
        await AssertErrorAsync(second, HttpStatusCode.Conflict, "uniqueness");
    }

    [Fact]
    public async Task UnknownOrForeignMemberIs400InvalidValueAndNothingChanges()
    {
        var tenant = await gateway.CreateTenantAsync();
        var other = await gateway.CreateTenantAsync("Fabrikam");
        using var scim = gateway.ScimClient(tenant);
        using var otherScim = gateway.ScimClient(other);
        var user = await CreateUserAsync(scim, "member@contoso.com");
        var foreign = await CreateUserAsync(otherScim, "member@fabrikam.com");
        using var created = await SendAsync(scim, HttpMethod.Post, "Groups", """{"displayName":"Strict"}""");
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();

        foreach (var bad in new[] { "f648f8d5ea4e4cd38e9c", foreign, "../x" })
        {
            using var response = await SendAsync(scim, HttpMethod.Patch, $"Groups/{id}", Patch(Op("Add", "members", Members(user, bad))));
            await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalidValue");
        }

        Assert.Empty(await MembersAsync(scim, id));
        Assert.False((await GetJsonAsync(scim, $"Users/{user}")).ContainsKey("groups"));

        using var create = await SendAsync(scim, HttpMethod.Post, "Groups", $$"""{"displayName":"WithGhost","members":[{"value":"{{foreign}}"}]}""");
        await AssertErrorAsync(create, HttpStatusCode.BadRequest, "invalidValue");
        Assert.Equal(0, (await GetJsonAsync(scim, "Groups?filter=displayName+eq+%22WithGhost%22"))["totalResults"]!.GetValue<int>());
    }

    [Fact]
    public async Task ExcludingASubAttributeOfMembersKeepsTheMembersWithoutIt()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var user = await CreateUserAsync(scim, "shown@contoso.com");
        using var created = await SendAsync(scim, HttpMethod.Post, "Groups", $$"""{"displayName":"Shown","members":[{"value":"{{user}}"}]}""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();

        // By id, in a list, through .search and in a write's answer: the member is there, without its display.
        var byId = await GetJsonAsync(scim, $"Groups/{id}?excludedAttributes=members.display");
        var listed = (await GetJsonAsync(scim, $"Groups?excludedAttributes=urn:ietf:params:scim:schemas:core:2.0:Group:members.display&filter=displayName+eq+%22Shown%22"))["Resources"]![0]!.AsObject();
        using var search = await SendAsync(scim, HttpMethod.Post, "Groups/.search", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"displayName eq \"Shown\"","excludedAttributes":["members.display"]}""");
        var searched = (await search.Content.ReadFromJsonAsync<JsonObject>())!["Resources"]![0]!.AsObject();
        using var patched = await SendAsync(scim, HttpMethod.Put, $"Groups/{id}?excludedAttributes=members.display", $$"""{"displayName":"Shown","externalId":"shown-ext","members":[{"value":"{{user}}"}]}""");
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var written = (await patched.Content.ReadFromJsonAsync<JsonObject>())!;
        foreach (var group in new[] { byId, listed, searched, written })
        {
            var member = Assert.Single(group["members"]!.AsArray())!.AsObject();
            Assert.Equal(user, member["value"]!.GetValue<string>());
            Assert.Null(member["display"]);
        }

        // Excluding members itself still hides them.
        Assert.Null((await GetJsonAsync(scim, $"Groups/{id}?excludedAttributes=members"))["members"]);
    }

    [Fact]
    public async Task DeletingAUserRemovesItFromGroupsAndDiscoveryListsGroup()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var user = await CreateUserAsync(scim, "leaver@contoso.com");
        using var created = await SendAsync(scim, HttpMethod.Post, "Groups", $$"""{"displayName":"Team","members":[{"value":"{{user}}"}]}""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var group = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(user, Assert.Single(group["members"]!.AsArray())!["value"]!.GetValue<string>());

        using (var deleted = await scim.DeleteAsync($"Users/{user}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        Assert.Empty(await MembersAsync(scim, group["id"]!.GetValue<string>()));

        var types = await GetJsonAsync(scim, "ResourceTypes");
        Assert.Contains(types["Resources"]!.AsArray(), t => t!["name"]!.GetValue<string>() == "Group");
        var schemas = await GetJsonAsync(scim, "Schemas");
        Assert.Contains(schemas["Resources"]!.AsArray(), s => s!["id"]!.GetValue<string>() == "urn:ietf:params:scim:schemas:core:2.0:Group");
    }

    private static string Op(string op, string path, string value) => $$"""{"op":"{{op}}","path":"{{path}}","value":{{value}}}""";

    private static string Members(params string[] ids) => "[" + string.Join(",", ids.Select(id => $$"""{"$ref":null,"value":"{{id}}"}""")) + "]";

    private static string Patch(params string[] ops) => $$"""{"schemas":["{{PatchOp}}"],"Operations":[{{string.Join(",", ops)}}]}""";

    private static async Task PatchNoContentAsync(HttpClient scim, string id, params string[] ops)
    {
        using var response = await SendAsync(scim, HttpMethod.Patch, $"Groups/{id}", Patch(ops));
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, $"PATCH: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static async Task<string[]> MembersAsync(HttpClient scim, string id)
    {
        var group = await GetJsonAsync(scim, $"Groups/{id}");
        return [.. group["members"]!.AsArray().Select(m => m!["value"]!.GetValue<string>()).Order(StringComparer.Ordinal)];
    }

    [Fact]
    public async Task AFilterThatScansGroupsReadsTheMembersOfThoseOnThePageOnly()
    {
        // Invariant 8: a general filter walks the tenant's groups in bounded batches. While it matches, a group's members are
        // read only as far as the filter needs them (here: none); only the page's groups are read with all their members.
        await using var probed = new GatewayFactory().WithStorageProbe();
        var tenant = await probed.CreateTenantAsync();
        using var scim = probed.ScimClient(tenant);
        var members = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            members.Add(await CreateUserAsync(scim, $"m{i}@contoso.com"));
        }

        var values = string.Join(",", members.Select(m => $$"""{"value":"{{m}}"}"""));
        string big;
        using (var created = await SendAsync(scim, HttpMethod.Post, "Groups", $$"""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Big","members":[{{values}}]}"""))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            big = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        }

        foreach (var name in new[] { "G1", "G2" })
        {
            using var created = await SendAsync(scim, HttpMethod.Post, "Groups", $$"""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"{{name}}","members":[{"value":"{{members[0]}}"}]}""");
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        // Every activation goes, so what the query reads shows in storage.
        await probed.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        int BigPartitionReads() => Enumerable.Range(0, GrainKeys.GroupMemberPartitions).Sum(p => StorageProbe.ReadsOf(GrainKeys.GroupMembers(tenant.TenantId, big, p)));
        var before = BigPartitionReads();

        var found = await GetJsonAsync(scim, "Groups?filter=" + Uri.EscapeDataString("displayName sw \"G\""));
        Assert.Equal(2, found["totalResults"]!.GetValue<int>());
        Assert.All(found["Resources"]!.AsArray(), g => Assert.Equal(members[0], g!["members"]![0]!["value"]!.GetValue<string>()));
        Assert.Equal(before, BigPartitionReads());

        // Big on the page: now its members are read, and shown.
        var shown = await GetJsonAsync(scim, "Groups?filter=" + Uri.EscapeDataString("displayName sw \"B\""));
        Assert.Equal(40, shown["Resources"]![0]!["members"]!.AsArray().Count);
    }

    private static async Task<string> CreateUserAsync(HttpClient scim, string userName)
    {
        using var response = await SendAsync(scim, HttpMethod.Post, "Users", $$"""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{{userName}}","active":true}""");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    private static async Task<JsonObject> GetJsonAsync(HttpClient scim, string path)
    {
        using var response = await scim.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient scim, HttpMethod method, string path, string body) =>
        scim.SendAsync(new HttpRequestMessage(method, path) { Content = new StringContent(body, Encoding.UTF8, "application/scim+json") });

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string scimType)
    {
        Assert.Equal(status, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("urn:ietf:params:scim:api:messages:2.0:Error", error["schemas"]![0]!.GetValue<string>());
        Assert.Equal(((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture), error["status"]!.GetValue<string>());
        Assert.Equal(scimType, error["scimType"]!.GetValue<string>());
    }
}
