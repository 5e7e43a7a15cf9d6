using System.Net;
using System.Text.Json.Nodes;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>entra-scim.md §2.4 (Account Discovery paging), §2.10, Q13 and Q15: listing, paging, projection, unknown parameters, methods.</summary>
public sealed class ListingTests : IClassFixture<GatewayFactory>
{
    private readonly GatewayFactory _gateway;

    public ListingTests(GatewayFactory gateway) => _gateway = gateway;

    [Fact]
    public async Task PagesPartitionTheTenantsUsers()
    {
        var (scim, ids) = await TwelveUsersAsync();
        using (scim)
        {
            var page = await ListAsync(scim, "Users?startIndex=6&count=5");
            Assert.Equal(12, page["totalResults"]!.GetValue<int>());
            Assert.Equal(5, page["itemsPerPage"]!.GetValue<int>());
            Assert.Equal(6, page["startIndex"]!.GetValue<int>());
            Assert.Equal(5, page["Resources"]!.AsArray().Count);
            Assert.Equal([EntraPayloads.ListResponseSchema], page["schemas"]!.AsArray().Select(s => s.Str()));

            // Logic-App pagination test: consecutive pages cover everyone exactly once.
            var seen = new List<string>();
            foreach (var start in new[] { 1, 6, 11 })
            {
                var p = await ListAsync(scim, $"Users?startIndex={start}&count=5");
                Assert.Equal(12, p["totalResults"]!.GetValue<int>());
                Assert.Equal(start, p["startIndex"]!.GetValue<int>());
                Assert.Equal(start == 11 ? 2 : 5, p["itemsPerPage"]!.GetValue<int>());
                seen.AddRange(p.Ids());
            }

            Assert.Equal(ids.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
            Assert.Equal(seen.Distinct().Count(), seen.Count);
            Assert.Equal(seen.Skip(5).Take(5), page.Ids());

            var whole = await ListAsync(scim, "Users");
            Assert.Equal(12, whole["totalResults"]!.GetValue<int>());
            Assert.Equal(12, whole["itemsPerPage"]!.GetValue<int>());
            Assert.Equal(1, whole["startIndex"]!.GetValue<int>());

            var beyond = await ListAsync(scim, "Users?startIndex=50&count=5");
            Assert.Equal(12, beyond["totalResults"]!.GetValue<int>());
            Assert.Empty(beyond["Resources"]!.AsArray());
            Assert.Equal(0, beyond["itemsPerPage"]!.GetValue<int>());
            Assert.Equal(50, beyond["startIndex"]!.GetValue<int>());

            // RFC 7644 §3.4.2.4: startIndex < 1 means 1; negative count means 0.
            var zeroStart = await ListAsync(scim, "Users?startIndex=0&count=3");
            Assert.Equal(1, zeroStart["startIndex"]!.GetValue<int>());
            Assert.Equal(seen.Take(3), zeroStart.Ids());
            var negativeCount = await ListAsync(scim, "Users?count=-4");
            Assert.Equal(12, negativeCount["totalResults"]!.GetValue<int>());
            Assert.Empty(negativeCount["Resources"]!.AsArray());
        }
    }

    [Fact]
    public async Task CountZeroReturnsTotalsOnly()
    {
        var (scim, _) = await TwelveUsersAsync();
        using (scim)
        {
            var totals = await ListAsync(scim, "Users?count=0");
            Assert.Equal(12, totals["totalResults"]!.GetValue<int>());
            Assert.Equal(0, totals["itemsPerPage"]!.GetValue<int>());
            Assert.Empty(totals["Resources"]!.AsArray());

            var filtered = await ListAsync(scim, "Users?count=0&filter=" + Uri.EscapeDataString("userName eq \"user03@contoso.com\""));
            Assert.Equal(1, filtered["totalResults"]!.GetValue<int>());
            Assert.Empty(filtered["Resources"]!.AsArray());
        }
    }

    [Fact]
    public async Task FiltersThatScanArePagedToo()
    {
        var (scim, _) = await TwelveUsersAsync();
        using (scim)
        {
            // displayName is not indexed: the directory is walked and filtered.
            var page = await ListAsync(scim, "Users?startIndex=2&count=3&filter=" + Uri.EscapeDataString("displayName eq \"Team Blue\""));
            Assert.Equal(6, page["totalResults"]!.GetValue<int>());
            Assert.Equal(3, page["itemsPerPage"]!.GetValue<int>());
            Assert.All(page["Resources"]!.AsArray(), r => Assert.Equal("Team Blue", r!["displayName"].Str()));

            var combined = await ListAsync(scim, "Users?filter=" + Uri.EscapeDataString("userName eq \"USER04@contoso.com\" and displayName eq \"team blue\""));
            Assert.Equal("user04@contoso.com", Assert.Single(combined["Resources"]!.AsArray())!["userName"].Str());
            var mismatch = await ListAsync(scim, "Users?filter=" + Uri.EscapeDataString("userName eq \"user04@contoso.com\" and active eq false"));
            ScimTestClient.AssertEmptyList(mismatch);
        }
    }

    [Fact]
    public async Task AttributesAndExcludedAttributesProjectResults()
    {
        var (scim, ids) = await TwelveUsersAsync();
        using (scim)
        {
            var onlyNames = await ListAsync(scim, "Users?attributes=userName&count=3");
            Assert.Equal(12, onlyNames["totalResults"]!.GetValue<int>());
            Assert.Equal(3, onlyNames["Resources"]!.AsArray().Count);
            foreach (var user in onlyNames["Resources"]!.AsArray().Select(r => r!.AsObject()))
            {
                Assert.Contains(user["id"].Str(), ids);
                Assert.EndsWith("@contoso.com", user["userName"].Str(), StringComparison.Ordinal);
                Assert.Null(user["emails"]);
                Assert.Null(user["name"]);
                Assert.Null(user["active"]);
                Assert.Null(user["externalId"]);
                Assert.Null(user["displayName"]);
            }

            var noEmails = await ListAsync(scim, "Users?excludedAttributes=emails&count=3");
            Assert.Equal(3, noEmails["Resources"]!.AsArray().Count);
            foreach (var user in noEmails["Resources"]!.AsArray().Select(r => r!.AsObject()))
            {
                Assert.Null(user["emails"]);
                Assert.NotNull(user["id"]);
                Assert.NotNull(user["userName"]);
                Assert.NotNull(user["name"]);
                Assert.NotNull(user["externalId"]);
            }

            // Legacy reference pre-check shape (Q13): attributes=id on a filter.
            var idOnly = await ListAsync(scim, "Users?attributes=id&filter=" + Uri.EscapeDataString($"id eq \"{ids[0]}\""));
            var only = Assert.Single(idOnly["Resources"]!.AsArray())!.AsObject();
            Assert.Equal(ids[0], only["id"].Str());
            Assert.Null(only["userName"]);

            // Projection on GET by id, and the id is never excluded.
            using var byId = await scim.GetAsync($"Users/{ids[1]}?excludedAttributes=emails,name,id");
            var projected = await byId.ExpectScimAsync(HttpStatusCode.OK);
            Assert.Equal(ids[1], projected["id"].Str());
            Assert.Null(projected["emails"]);
            Assert.Null(projected["name"]);
            Assert.NotNull(projected["userName"]);

            // The stored user is untouched by projections.
            var full = await scim.GetUserAsync(ids[1]);
            Assert.NotNull(full["emails"]);
            Assert.NotNull(full["name"]);
        }
    }

    [Fact]
    public async Task UnknownQueryParametersAreIgnored()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);

        using (var probe = await scim.GetAsync("Users?aadOptscim062020&filter=userName+eq+%22nobody%40contoso.com%22"))
        {
            ScimTestClient.AssertEmptyList(await probe.ExpectScimAsync(HttpStatusCode.OK));
        }

        JsonObject created;
        using (var create = await scim.PostAsync("Users?aadOptscim062020", ScimTestClient.Body(EntraPayloads.CreateUser("flagged@contoso.com", "flagged-ext", "flagged@contoso.com"))))
        {
            created = await create.ExpectScimAsync(HttpStatusCode.Created);
        }

        var id = created["id"].Str();
        using (var match = await scim.GetAsync("Users?filter=userName+eq+%22flagged%40contoso.com%22&aadOptscim062020=&foo=bar"))
        {
            Assert.Equal([id], (await match.ExpectScimAsync(HttpStatusCode.OK)).Ids());
        }

        using (var patch = await scim.PatchAsync($"Users/{id}?aadOptscim062020", ScimTestClient.Body(EntraPayloads.SetActive("replace", "false"))))
        {
            Assert.False((await patch.ExpectScimAsync(HttpStatusCode.OK))["active"]!.GetValue<bool>());
        }

        using (var get = await scim.GetAsync($"Users/{id}?aadOptscim062020"))
        {
            Assert.False((await get.ExpectScimAsync(HttpStatusCode.OK))["active"]!.GetValue<bool>());
        }

        using (var config = await scim.GetAsync("ServiceProviderConfig?aadOptscim062020"))
        {
            await config.ExpectScimAsync(HttpStatusCode.OK);
        }
    }

    [Theory]
    [InlineData("PUT", "Users")]
    [InlineData("DELETE", "Users")]
    [InlineData("PATCH", "Users")]
    [InlineData("POST", "Users/0123456789abcdef0123456789abcdef")]
    [InlineData("POST", "ServiceProviderConfig")]
    public async Task UnsupportedMethodIs405WithScimError(string method, string path)
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var before = await ListAsync(scim, "Users");

        using var request = new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = ScimTestClient.Body(EntraPayloads.MinimalUser("via.wrong.method@contoso.com")),
        };
        using var response = await scim.SendAsync(request);

        await response.ExpectScimErrorAsync(HttpStatusCode.MethodNotAllowed);
        Assert.Contains("GET", response.Content.Headers.Allow); // RFC 9110 §15.5.6: a 405 names the methods allowed
        Assert.DoesNotContain(method, response.Content.Headers.Allow);
        Assert.True(JsonNode.DeepEquals(before, await ListAsync(scim, "Users")));
    }

    [Fact]
    public async Task PasswordIsWriteOnlyAndNeverReturned()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);

        var created = await scim.PostUserAsync("""{"userName":"pw.user@contoso.com","password":"Hunter2!Hunter2!"}""");
        var id = created["id"].Str();
        using var patch = await scim.PatchUserAsync(id, EntraPayloads.Patch("""{"op":"replace","path":"password","value":"Another1!Another1!"}"""));
        var patched = await patch.ExpectScimAsync(HttpStatusCode.OK);

        foreach (var body in new[]
        {
            created,
            patched,
            await scim.GetUserAsync(id),
            await ListAsync(scim, "Users"),
            await ListAsync(scim, "Users?attributes=password"),
            await ListAsync(scim, "Users?filter=" + Uri.EscapeDataString("userName eq \"pw.user@contoso.com\"")),
        })
        {
            var text = body.ToJsonString();
            Assert.DoesNotContain("password", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("Hunter2", text, StringComparison.Ordinal);
            Assert.DoesNotContain("Another1", text, StringComparison.Ordinal);
        }
    }

    private async Task<(HttpClient Scim, List<string> Ids)> TwelveUsersAsync()
    {
        var tenant = await _gateway.CreateTenantAsync();
        var scim = _gateway.ScimClient(tenant);
        var ids = new List<string>();
        for (var i = 1; i <= 12; i++)
        {
            var created = await scim.PostUserAsync($$"""
                {"schemas":["{{EntraPayloads.CoreUserSchema}}"],"userName":"user{{i:00}}@contoso.com","externalId":"ext-{{i:00}}",
                 "displayName":"{{(i % 2 == 0 ? "Team Blue" : "Team Red")}}","active":true,
                 "name":{"givenName":"Given{{i}}","familyName":"Family{{i}}"},
                 "emails":[{"type":"work","value":"user{{i:00}}@contoso.com","primary":true}]}
                """);
            ids.Add(created["id"].Str());
        }

        return (scim, ids);
    }

    private static async Task<JsonObject> ListAsync(HttpClient scim, string query)
    {
        using var response = await scim.GetAsync(query);
        return await response.ExpectScimAsync(HttpStatusCode.OK);
    }
}
