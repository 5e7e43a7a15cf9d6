using System.Net;
using System.Text.Json.Nodes;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>
/// entra-scim.md §2.3 (match then create), §2.6 (disable), §2.5.1 (rename) and §2.7 (hard delete), replayed with
/// Entra's documented request bodies through the real pipeline.
/// </summary>
public sealed class UserProvisioningTests : IClassFixture<GatewayFactory>
{
    private readonly GatewayFactory _gateway;

    public UserProvisioningTests(GatewayFactory gateway) => _gateway = gateway;

    [Fact]
    public async Task MatchThenCreateReturnsTheStoredUserAndFiltersFindIt()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);

        for (var i = 0; i < 3; i++)
        {
            var userName = $"Test_User_{Guid.NewGuid()}@contoso.com";
            var externalId = Guid.NewGuid().ToString();
            var email = $"Test_User_{Guid.NewGuid():N}@testuser.com";

            // 1. Match: not found.
            ScimTestClient.AssertEmptyList(await scim.FilterAsync($"userName eq \"{userName}\""));

            // 2. Create with Entra's body.
            var sent = JsonNode.Parse(EntraPayloads.CreateUser(userName, externalId, email, $"Given{i}", $"Family{i}"))!.AsObject();
            using var response = await scim.PostAsync("Users", ScimTestClient.Body(sent.ToJsonString()));
            var created = await response.ExpectScimAsync(HttpStatusCode.Created);

            var id = created["id"].Str();
            Assert.False(string.IsNullOrWhiteSpace(id));
            Assert.Equal(created["meta"]!["location"].Str(), response.Headers.Location?.ToString());
            Assert.EndsWith($"/Users/{id}", response.Headers.Location!.ToString(), StringComparison.Ordinal);
            Assert.StartsWith(tenant.ScimUrl, response.Headers.Location!.ToString(), StringComparison.Ordinal);
            Assert.NotNull(response.Headers.ETag);
            Assert.Equal("User", created["meta"]!["resourceType"].Str());
            Assert.NotNull(created["meta"]!["created"]);
            Assert.NotNull(created["meta"]!["lastModified"]);

            // Values exactly as sent; no extension values, so only the core schema.
            Assert.Equal([EntraPayloads.CoreUserSchema], created["schemas"]!.AsArray().Select(s => s.Str()));
            Assert.Equal(userName, created["userName"].Str());
            Assert.Equal(externalId, created["externalId"].Str());
            Assert.True(created["active"]!.GetValue<bool>());
            Assert.True(JsonNode.DeepEquals(sent["emails"], created["emails"]), created["emails"]!.ToJsonString());
            Assert.True(JsonNode.DeepEquals(sent["name"], created["name"]), created["name"]!.ToJsonString());
            Assert.Null(created[EntraPayloads.EnterpriseUserSchema]);

            // GET returns the same resource.
            Assert.True(JsonNode.DeepEquals(created, await scim.GetUserAsync(id)));

            // 3. The matching queries Entra may use find it: case-insensitive userName, externalId, work email.
            Assert.Equal([id], (await scim.FilterAsync($"userName eq \"{userName.ToUpperInvariant()}\"")).Ids());
            Assert.Equal([id], (await scim.FilterAsync($"userName eq \"{userName}\"")).Ids());
            Assert.Equal([id], (await scim.FilterAsync($"externalId eq \"{externalId}\"")).Ids());
            Assert.Equal([id], (await scim.FilterAsync($"emails[type eq \"work\"].value eq \"{email}\"")).Ids());
            var found = await scim.FilterAsync($"userName eq \"{userName}\"");
            Assert.Equal(1, found["totalResults"]!.GetValue<int>());
            Assert.Equal(1, found["itemsPerPage"]!.GetValue<int>());
            Assert.Equal(1, found["startIndex"]!.GetValue<int>());
            Assert.Equal([EntraPayloads.ListResponseSchema], found["schemas"]!.AsArray().Select(s => s.Str()));
            Assert.True(JsonNode.DeepEquals(created, found["Resources"]![0]));

            // 4. Duplicate create (same name, different case) → 409 uniqueness, nothing else created.
            var duplicate = EntraPayloads.CreateUser(userName.ToLowerInvariant(), Guid.NewGuid().ToString(), "other@testuser.com");
            using var conflict = await scim.PostAsync("Users", ScimTestClient.Body(duplicate));
            await conflict.ExpectScimErrorAsync(HttpStatusCode.Conflict, "uniqueness");
            Assert.Equal([id], (await scim.FilterAsync($"userName eq \"{userName}\"")).Ids());
        }

        var all = await (await scim.GetAsync("Users")).ExpectScimAsync(HttpStatusCode.OK);
        Assert.Equal(3, all["totalResults"]!.GetValue<int>());
    }

    [Fact]
    public async Task CreateWithEnterpriseValuesListsTheExtensionSchema()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);

        var created = await scim.PostUserAsync(EntraPayloads.CreateUserWithEnterprise("ent.user@contoso.com", "ent-ext", "ent.user@contoso.com", "E-1001", "Sales"));

        Assert.Equal([EntraPayloads.CoreUserSchema, EntraPayloads.EnterpriseUserSchema], created["schemas"]!.AsArray().Select(s => s.Str()));
        var enterprise = created[EntraPayloads.EnterpriseUserSchema]!.AsObject();
        Assert.Equal("E-1001", enterprise["employeeNumber"].Str());
        Assert.Equal("Sales", enterprise["department"].Str());
        Assert.True(JsonNode.DeepEquals(created, await scim.GetUserAsync(created["id"].Str())));
    }

    [Fact]
    public async Task CreateAcceptsPlainApplicationJson()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);

        using var response = await scim.PostAsync("Users", ScimTestClient.Body(EntraPayloads.MinimalUser("json.user@contoso.com"), "application/json"));

        var created = await response.ExpectScimAsync(HttpStatusCode.Created);
        Assert.Equal("json.user@contoso.com", created["userName"].Str());
    }

    [Theory]
    [InlineData("Replace", "\"False\"", "Replace", "\"True\"")]
    [InlineData("replace", "false", "replace", "true")]
    [InlineData("Replace", "\"false\"", "Replace", "\"true\"")]
    public async Task DisabledUserIsStillReturnedWithBooleanActive(string op, string disable, string enableOp, string enable)
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var user = await scim.CreateUserAsync("disable.me@contoso.com", "disable-ext");
        var id = user["id"].Str();

        using var disabled = await scim.PatchUserAsync(id, EntraPayloads.SetActive(op, disable));
        var disabledBody = await disabled.ExpectScimAsync(HttpStatusCode.OK);
        AssertActive(disabledBody, false);
        Assert.Equal(id, disabledBody["id"].Str());
        Assert.Equal("disable.me@contoso.com", disabledBody["userName"].Str());

        AssertActive(await scim.GetUserAsync(id), false);
        var byName = await scim.FilterAsync("userName eq \"disable.me@contoso.com\"");
        Assert.Equal([id], byName.Ids());
        AssertActive(byName["Resources"]![0]!.AsObject(), false);
        Assert.Equal([id], (await scim.FilterAsync("externalId eq \"disable-ext\"")).Ids());

        using var enabled = await scim.PatchUserAsync(id, EntraPayloads.SetActive(enableOp, enable));
        AssertActive(await enabled.ExpectScimAsync(HttpStatusCode.OK), true);
        AssertActive(await scim.GetUserAsync(id), true);
    }

    [Fact]
    public async Task RenameMovesTheUserNameAndFreesTheOldOne()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var user = await scim.CreateUserAsync("old.name@contoso.com");
        var id = user["id"].Str();

        using var renamed = await scim.PatchUserAsync(id, EntraPayloads.RenameUserName("5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"));
        var body = await renamed.ExpectScimAsync(HttpStatusCode.OK);
        Assert.Equal("5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com", body["userName"].Str());
        Assert.Equal(id, body["id"].Str());

        ScimTestClient.AssertEmptyList(await scim.FilterAsync("userName eq \"old.name@contoso.com\""));
        Assert.Equal([id], (await scim.FilterAsync("userName eq \"5B50642D-79FC-4410-9E90-4C077CDD1A59@testuser.com\"")).Ids());

        // The SCIM Validator re-creates the old name after renaming: it must be free.
        var newcomer = await scim.CreateUserAsync("old.name@contoso.com", "newcomer-ext", "newcomer@contoso.com");
        Assert.NotEqual(id, newcomer["id"].Str());
        Assert.Equal([newcomer["id"].Str()], (await scim.FilterAsync("userName eq \"old.name@contoso.com\"")).Ids());
    }

    [Fact]
    public async Task RenameToAnotherUsersNameIsConflictAndChangesNothing()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var alice = await scim.CreateUserAsync("alice@contoso.com");
        var bob = await scim.CreateUserAsync("bob@contoso.com");

        using var response = await scim.PatchUserAsync(bob["id"].Str(), EntraPayloads.RenameUserName("ALICE@contoso.com"));

        await response.ExpectScimErrorAsync(HttpStatusCode.Conflict, "uniqueness");
        Assert.True(JsonNode.DeepEquals(alice, await scim.GetUserAsync(alice["id"].Str())));
        Assert.True(JsonNode.DeepEquals(bob, await scim.GetUserAsync(bob["id"].Str())));
        Assert.Equal([alice["id"].Str()], (await scim.FilterAsync("userName eq \"alice@contoso.com\"")).Ids());
        Assert.Equal([bob["id"].Str()], (await scim.FilterAsync("userName eq \"bob@contoso.com\"")).Ids());
    }

    [Fact]
    public async Task HardDeleteRemovesTheUserAndFreesItsName()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var user = await scim.CreateUserAsync("delete.me@contoso.com", "delete-ext", "delete.me@contoso.com");
        var id = user["id"].Str();

        using (var deleted = await scim.DeleteAsync($"Users/{id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
            Assert.Empty(await deleted.Content.ReadAsByteArrayAsync());
        }

        using (var get = await scim.GetAsync($"Users/{id}"))
        {
            await get.ExpectScimErrorAsync(HttpStatusCode.NotFound);
        }

        using (var again = await scim.DeleteAsync($"Users/{id}"))
        {
            await again.ExpectScimErrorAsync(HttpStatusCode.NotFound);
        }

        using (var patch = await scim.PatchUserAsync(id, EntraPayloads.SetActive("Replace", "\"False\"")))
        {
            await patch.ExpectScimErrorAsync(HttpStatusCode.NotFound);
        }

        ScimTestClient.AssertEmptyList(await scim.FilterAsync("userName eq \"delete.me@contoso.com\""));
        ScimTestClient.AssertEmptyList(await scim.FilterAsync("externalId eq \"delete-ext\""));
        ScimTestClient.AssertEmptyList(await scim.FilterAsync("emails[type eq \"work\"].value eq \"delete.me@contoso.com\""));

        // Restore_User_Test: unassign → DELETE, reassign → create again.
        var recreated = await scim.CreateUserAsync("delete.me@contoso.com", "delete-ext", "delete.me@contoso.com");
        Assert.NotEqual(id, recreated["id"].Str());
        Assert.Equal([recreated["id"].Str()], (await scim.FilterAsync("userName eq \"delete.me@contoso.com\"")).Ids());
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    public async Task UnknownOrMalformedIdIsNotFound(string method)
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);

        foreach (var id in new[] { Guid.NewGuid().ToString("N"), "not..valid!" })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), $"Users/{Uri.EscapeDataString(id)}");
            if (method == "PATCH")
            {
                request.Content = ScimTestClient.Body(EntraPayloads.SetActive("Replace", "\"False\""));
            }

            using var response = await scim.SendAsync(request);
            await response.ExpectScimErrorAsync(HttpStatusCode.NotFound);
        }
    }

    private static void AssertActive(JsonObject user, bool expected)
    {
        var active = user["active"]!.AsValue();
        Assert.Equal(expected ? System.Text.Json.JsonValueKind.True : System.Text.Json.JsonValueKind.False, active.GetValueKind());
    }
}
