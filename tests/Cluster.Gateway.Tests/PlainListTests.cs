using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>
/// A list without <c>attributes</c> or <c>excludedAttributes</c> (Entra's match query <c>filter=userName eq "…"</c>, a
/// listing, a search) sends each user's text on as a plain GET does and writes the ListResponse around it as text: it
/// must be byte for byte what the full rendering gives, which a projection parameter that selects everything (an unknown
/// excluded name is ignored) still goes through. Groups are always rendered.
/// </summary>
public sealed class PlainListTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    private const string Unselective = "excludedAttributes=noSuchAttribute";

    [Fact]
    public async Task PlainListsAreByteForByteTheRenderedLists()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var names = new List<string>();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var name = $"list-{i}-{Guid.NewGuid():N}@contoso.com";
            var user = await scim.PostUserAsync(EntraPayloads.CreateUserWithEnterprise(name, "ext-" + Guid.NewGuid().ToString("N"), name, "E-" + i, "R&D }} <x> ü"));
            names.Add(name);
            ids.Add(user["id"].Str());
        }

        // One user with groups (added by the grain, meta moved last) and a write-only extension value (left out by the grain).
        using (var group = await scim.PostAsync("Groups", ScimTestClient.Body($$"""{"displayName":"Plain list {{Guid.NewGuid():N}}","members":[{"value":"{{ids[0]}}"}]}""")))
        {
            await group.ExpectScimAsync(HttpStatusCode.Created);
        }

        using (var patched = await scim.PatchUserAsync(ids[0], $$$"""
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","value":{"{{{TestExtension.UserUrn}}}:site":"Berlin","{{{TestExtension.UserUrn}}}:pin":"4711"}}]}
            """))
        {
            await patched.ExpectScimAsync(HttpStatusCode.OK);
        }

        // Entra's match query (one result, none), a listing page, a non-indexed filter, and groups (rendered either way).
        foreach (var path in new[]
        {
            ScimTestClient.UsersFilter($"userName eq \"{names[0].ToUpperInvariant()}\""),
            ScimTestClient.UsersFilter("userName eq \"nobody@contoso.com\""),
            "Users?startIndex=2&count=2",
            ScimTestClient.UsersFilter("title pr"),
            "Groups",
        })
        {
            var plain = await TextAsync(scim.GetAsync(path));
            var rendered = await TextAsync(scim.GetAsync(path + (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + Unselective));
            Assert.Equal(rendered, plain);
        }

        // The match query's answer, read back: the user with its location and groups, without the write-only value.
        var found = JsonNode.Parse(await TextAsync(scim.GetAsync(ScimTestClient.UsersFilter($"userName eq \"{names[0]}\""))))!.AsObject();
        Assert.Equal(1, found["totalResults"]!.GetValue<int>());
        var only = found["Resources"]!.AsArray().Single()!;
        Assert.Equal(ids[0], only["id"].Str());
        Assert.Equal($"{tenant.ScimUrl}/Users/{ids[0]}", only["meta"]!["location"].Str());
        Assert.Single(only["groups"]!.AsArray());
        Assert.Equal("Berlin", only[TestExtension.UserUrn]!["site"].Str());
        Assert.DoesNotContain("4711", found.ToJsonString(), StringComparison.Ordinal);

        // A search over users and groups: users as text, groups rendered, one list.
        var search = ScimTestClient.Body("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"count":10}""");
        var searchRendered = ScimTestClient.Body("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"count":10,"excludedAttributes":["noSuchAttribute"]}""");
        var plainSearch = await TextAsync(scim.PostAsync(".search", search));
        Assert.Equal(await TextAsync(scim.PostAsync(".search", searchRendered)), plainSearch);
        Assert.Equal(4, JsonNode.Parse(plainSearch)!["totalResults"]!.GetValue<int>());
    }

    private static async Task<string> TextAsync(Task<HttpResponseMessage> send)
    {
        using var response = await send;
        var text = Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync());
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {text}");
        Assert.Equal("application/scim+json", response.Content.Headers.ContentType?.MediaType);

        // Written as text, yet exactly what serializing the parsed list gives.
        Assert.Equal(JsonNode.Parse(text)!.ToJsonString(Cluster.Scim.ScimSerializer.Options), text);
        return text;
    }
}
