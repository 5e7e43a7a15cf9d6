using System.Net;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>
/// Invariant 12 through the real pipeline: canonically equal spellings (NFC, case-folded) are one userName or group
/// displayName for uniqueness and Entra's eq lookups; names are returned as sent; control characters are refused.
/// </summary>
public sealed class CanonicalIdentityHttpTests : IClassFixture<GatewayFactory>
{
    private const string Precomposed = "\u00E9mile@contoso.com";
    private const string Decomposed = "E\u0301MILE@contoso.com";

    private readonly GatewayFactory _gateway;

    public CanonicalIdentityHttpTests(GatewayFactory gateway) => _gateway = gateway;

    [Fact]
    public async Task EntrasLookupFindsTheUserUnderAnyCanonicallyEqualSpellingAndACreateOfOneConflicts()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var user = await scim.PostUserAsync(EntraPayloads.CreateUser(Precomposed, "ext-1", Precomposed));
        Assert.Equal(Precomposed, user["userName"].Str());

        Assert.Equal([user["id"].Str()], (await scim.FilterAsync($"userName eq \"{Decomposed}\"")).Ids());
        Assert.Equal([user["id"].Str()], (await scim.FilterAsync($"emails[type eq \"work\"].value eq \"{Decomposed}\"")).Ids());

        using var duplicate = await scim.PostAsync("Users", ScimTestClient.Body(EntraPayloads.CreateUser(Decomposed, "ext-2", "other@contoso.com")));
        await duplicate.ExpectScimErrorAsync(HttpStatusCode.Conflict, "uniqueness");

        using var group = await scim.PostAsync("Groups", ScimTestClient.Body("""{"displayName":"Caf\u00E9"}"""));
        await group.ExpectScimAsync(HttpStatusCode.Created);
        using var sameGroup = await scim.PostAsync("Groups", ScimTestClient.Body("""{"displayName":"CAFE\u0301"}"""));
        await sameGroup.ExpectScimErrorAsync(HttpStatusCode.Conflict, "uniqueness");
        var found = await (await scim.GetAsync("Groups?filter=" + Uri.EscapeDataString("displayName eq \"cafe\u0301\"") + "&excludedAttributes=members")).ExpectScimAsync(HttpStatusCode.OK);
        Assert.Equal("Caf\u00E9", Assert.Single(found["Resources"]!.AsArray())!["displayName"].Str());
    }

    [Fact]
    public async Task AWorkEmailWhoseTypeIsCanonicallyWorkIsFoundByTheIndexedLookupAsByTheFilter()
    {
        // "wor" + KELVIN SIGN: canonically "work" for the filter, but the index compared the type ordinally ignoring case
        // (until 2026-12-07), so the indexed lookup missed a user the filter matches.
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var user = await scim.PostUserAsync("""{"userName":"kelvin@contoso.com","emails":[{"type":"wor\u212A","value":"kelvin.mail@contoso.com"}]}""");

        Assert.Equal([user["id"].Str()], (await scim.FilterAsync("emails[type eq \"work\"].value eq \"kelvin.mail@contoso.com\"")).Ids());
        Assert.Equal([user["id"].Str()], (await scim.FilterAsync("emails[type eq \"work\" and value eq \"KELVIN.MAIL@contoso.com\"]")).Ids());
    }

    public static TheoryData<string, string> ControlCharacterWrites => new()
    {
        { "POST", """{"userName":"nul\u0000@contoso.com"}""" },
        { "POST", """{"userName":"ok@contoso.com","displayName":"Jo\u0009Wong"}""" },
        { "POST", """{"userName":"ok@contoso.com","externalId":"c1\u0085"}""" },
        { "PUT", """{"userName":"nonchar\uFFFF@contoso.com"}""" },
        { "PATCH", EntraPayloads.Patch("""{"op":"Replace","path":"userName","value":"line\nbreak@contoso.com"}""") },
        { "PATCH", EntraPayloads.Patch("""{"op":"replace","value":{"displayName":"esc\u001B"}}""") },
    };

    [Theory]
    [MemberData(nameof(ControlCharacterWrites))]
    public async Task ControlCharactersInIdentifyingAttributesAreInvalidValueAndChangeNothing(string method, string body)
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var user = await scim.CreateUserAsync("kept@contoso.com");
        var path = method == "POST" ? "Users" : $"Users/{user["id"].Str()}";

        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = ScimTestClient.Body(body) };
        using var response = await scim.SendAsync(request);

        await response.ExpectScimErrorAsync(HttpStatusCode.BadRequest, "invalidValue");
        Assert.Equal(user.ToJsonString(), (await scim.GetUserAsync(user["id"].Str())).ToJsonString());
        var all = await (await scim.GetAsync("Users")).ExpectScimAsync(HttpStatusCode.OK);
        Assert.Equal(1, all["totalResults"]!.GetValue<int>());
    }

    [Fact]
    public async Task AGroupDisplayNameWithAControlCharacterIsRefused()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        using var response = await scim.PostAsync("Groups", ScimTestClient.Body("""{"displayName":"Sales\u0000"}"""));
        await response.ExpectScimErrorAsync(HttpStatusCode.BadRequest, "invalidValue");
        var all = await (await scim.GetAsync("Groups")).ExpectScimAsync(HttpStatusCode.OK);
        Assert.Equal(0, all["totalResults"]!.GetValue<int>());
    }
}
