using System.Net;
using System.Text.Json.Nodes;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>Edges around uniqueness, renames, PUT and encodings that Entra's traffic can reach.</summary>
public sealed class UserEdgeCaseTests : IClassFixture<GatewayFactory>
{
    private readonly GatewayFactory _gateway;

    public UserEdgeCaseTests(GatewayFactory gateway) => _gateway = gateway;

    [Fact]
    public async Task CaseOnlyRenameSucceedsAndKeepsTheNameReserved()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var id = (await scim.CreateUserAsync("Mixed.Case@contoso.com"))["id"].Str();

        using var rename = await scim.PatchUserAsync(id, EntraPayloads.RenameUserName("mixed.case@contoso.com"));
        Assert.Equal("mixed.case@contoso.com", (await rename.ExpectScimAsync(HttpStatusCode.OK))["userName"].Str());

        Assert.Equal([id], (await scim.FilterAsync("userName eq \"MIXED.CASE@contoso.com\"")).Ids());
        using var duplicate = await scim.PostAsync("Users", ScimTestClient.Body(EntraPayloads.MinimalUser("Mixed.Case@contoso.com")));
        await duplicate.ExpectScimErrorAsync(HttpStatusCode.Conflict, "uniqueness");

        // Renaming to its own current name is a no-op, not a conflict with itself.
        using var same = await scim.PatchUserAsync(id, EntraPayloads.RenameUserName("mixed.case@contoso.com"));
        Assert.Equal("mixed.case@contoso.com", (await same.ExpectScimAsync(HttpStatusCode.OK))["userName"].Str());
    }

    [Fact]
    public async Task SwappingNamesThroughAThirdNameWorks()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var a = (await scim.CreateUserAsync("a@contoso.com"))["id"].Str();
        var b = (await scim.CreateUserAsync("b@contoso.com"))["id"].Str();

        foreach (var (id, name) in new[] { (a, "tmp@contoso.com"), (b, "a@contoso.com"), (a, "b@contoso.com") })
        {
            using var response = await scim.PatchUserAsync(id, EntraPayloads.RenameUserName(name));
            await response.ExpectScimAsync(HttpStatusCode.OK);
        }

        Assert.Equal([b], (await scim.FilterAsync("userName eq \"a@contoso.com\"")).Ids());
        Assert.Equal([a], (await scim.FilterAsync("userName eq \"b@contoso.com\"")).Ids());
        ScimTestClient.AssertEmptyList(await scim.FilterAsync("userName eq \"tmp@contoso.com\""));
    }

    [Fact]
    public async Task ExternalIdAndWorkEmailAreNotUniqueButBothMatchesAreFound()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var one = (await scim.CreateUserAsync("one@contoso.com", "shared-ext", "shared@contoso.com"))["id"].Str();
        var two = (await scim.CreateUserAsync("two@contoso.com", "SHARED-EXT", "Shared@Contoso.com"))["id"].Str();

        Assert.Equal(new[] { one, two }.Order(StringComparer.Ordinal), (await scim.FilterAsync("externalId eq \"shared-ext\"")).Ids().Order(StringComparer.Ordinal));
        Assert.Equal(new[] { one, two }.Order(StringComparer.Ordinal), (await scim.FilterAsync("emails[type eq \"work\"].value eq \"SHARED@contoso.com\"")).Ids().Order(StringComparer.Ordinal));

        // Changing one of them leaves the other findable.
        using (var patch = await scim.PatchUserAsync(one, EntraPayloads.Patch("""{"op":"Replace","path":"externalId","value":"own-ext"}""")))
        {
            await patch.ExpectScimAsync(HttpStatusCode.OK);
        }

        Assert.Equal([two], (await scim.FilterAsync("externalId eq \"shared-ext\"")).Ids());
        Assert.Equal([one], (await scim.FilterAsync("externalId eq \"own-ext\"")).Ids());
    }

    [Theory]
    [InlineData("user+tag@contoso.com")]
    [InlineData("first last@contoso.com")]
    [InlineData("o'brien@contoso.com")]
    [InlineData("percent%41@contoso.com")]
    [InlineData("amp&eq=@contoso.com")]
    public async Task UserNamesWithUrlSignificantCharactersMatch(string userName)
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var id = (await scim.CreateUserAsync(userName))["id"].Str();

        Assert.Equal([id], (await scim.FilterAsync($"userName eq \"{userName}\"")).Ids());
        ScimTestClient.AssertEmptyList(await scim.FilterAsync($"userName eq \"{userName}x\""));
    }

    [Fact]
    public async Task ValidatorStyleAtSignEncodingMatches()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var id = (await scim.CreateUserAsync("dale.mohr@romaguera.uk"))["id"].Str();

        using var response = await scim.GetAsync("Users?filter=userName+eq+\"dale.mohr%40romaguera.uk\"");

        Assert.Equal([id], (await response.ExpectScimAsync(HttpStatusCode.OK)).Ids());
    }

    [Fact]
    public async Task PutReplacesTheUserAndEnforcesUniqueness()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var taken = await scim.CreateUserAsync("taken@contoso.com");
        var user = await scim.CreateUserAsync("put.me@contoso.com", "put-ext", "put.me@contoso.com");
        var id = user["id"].Str();

        using (var conflict = await scim.PutAsync($"Users/{id}", ScimTestClient.Body("""{"userName":"TAKEN@contoso.com"}""")))
        {
            await conflict.ExpectScimErrorAsync(HttpStatusCode.Conflict, "uniqueness");
        }

        using (var invalid = await scim.PutAsync($"Users/{id}", ScimTestClient.Body("""{"displayName":"no user name"}""")))
        {
            await invalid.ExpectScimErrorAsync(HttpStatusCode.BadRequest, "invalidValue");
        }

        Assert.True(JsonNode.DeepEquals(user, await scim.GetUserAsync(id)));
        Assert.True(JsonNode.DeepEquals(taken, await scim.GetUserAsync(taken["id"].Str())));

        using var replaced = await scim.PutAsync($"Users/{id}", ScimTestClient.Body($$"""{"id":"{{id}}","userName":"put.me@contoso.com","displayName":"Replaced"}"""));
        var body = await replaced.ExpectScimAsync(HttpStatusCode.OK);
        Assert.Equal(id, body["id"].Str());
        Assert.Equal("Replaced", body["displayName"].Str());
        Assert.Null(body["emails"]);
        Assert.Null(body["externalId"]);
        Assert.Equal(user["meta"]!["created"].Str(), body["meta"]!["created"].Str());
        ScimTestClient.AssertEmptyList(await scim.FilterAsync("externalId eq \"put-ext\""));
        ScimTestClient.AssertEmptyList(await scim.FilterAsync("emails[type eq \"work\"].value eq \"put.me@contoso.com\""));

        using var missing = await scim.PutAsync($"Users/{Guid.NewGuid():N}", ScimTestClient.Body("""{"userName":"ghost@contoso.com"}"""));
        await missing.ExpectScimErrorAsync(HttpStatusCode.NotFound);
        ScimTestClient.AssertEmptyList(await scim.FilterAsync("userName eq \"ghost@contoso.com\""));
    }

    [Fact]
    public async Task ClientSuppliedIdAndMetaAreIgnoredOnCreate()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var victim = (await scim.CreateUserAsync("victim@contoso.com"))["id"].Str();

        var created = await scim.PostUserAsync($$"""
            {"id":"{{victim}}","userName":"forger@contoso.com",
             "meta":{"resourceType":"Group","created":"2000-01-01T00:00:00Z","location":"https://evil.example/x","version":"W/\"99\""} }
            """);

        Assert.NotEqual(victim, created["id"].Str());
        Assert.Equal("User", created["meta"]!["resourceType"].Str());
        Assert.NotEqual("2000-01-01T00:00:00Z", created["meta"]!["created"].Str());
        Assert.StartsWith(tenant.ScimUrl, created["meta"]!["location"].Str(), StringComparison.Ordinal);
        Assert.Equal("victim@contoso.com", (await scim.GetUserAsync(victim))["userName"].Str());
    }

    [Fact]
    public async Task UnknownScimRouteIsScimNotFound()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);

        using var response = await scim.GetAsync("Nowhere");

        await response.ExpectScimErrorAsync(HttpStatusCode.NotFound);
    }
}
