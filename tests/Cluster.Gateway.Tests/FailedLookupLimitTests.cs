using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;
using Microsoft.AspNetCore.Http;

namespace Cluster.Gateway.Tests;

/// <summary>
/// The failed-lookup limit (RateLimits:FailedAuthentication) and the count of every limit's refusals by reason. Runs with the
/// flood tests, alone: OpenTelemetry listens to meters by name, so a host's <c>/metrics</c> adds up the same-named meters of
/// every host alive in the test process, and one disposed meanwhile ends the shared series. Exact counts hold only alone
/// (the SCIM one was once missed in a parallel run, 2026-12-07).
/// </summary>
[Collection(nameof(FloodTests))]
public sealed class FailedLookupLimitTests
{
    [Fact]
    public async Task AClientOverItsFailedLookupBudgetGets429BeforeAnyGrainCallWhileKnownTenantsKeepWorking()
    {
        await using var gateway = GatewayFactory.With(new Dictionary<string, string?>
        {
            ["RateLimits:FailedAuthentication:PermitsPerSecond"] = "0.001",
            ["RateLimits:FailedAuthentication:Burst"] = "3",
            // Every request re-reads the known tenant's credentials, so that path is taken while the budget is spent.
            ["Gateway:TokenCacheSeconds"] = "0",
        }).WithStorageProbe();
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        using (var known = await scim.GetAsync(ScimUsers.Filter("first@contoso.com")))
        {
            Assert.Equal(HttpStatusCode.OK, known.StatusCode);
        }

        // The test server gives requests no remote address: they all come from one client.
        using var stranger = gateway.CreateClient();
        stranger.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "scim_" + new string('A', 43));
        string[] spent = [GrainKeys.NewTenantId(), GrainKeys.NewTenantId(), GrainKeys.NewTenantId()];
        foreach (var unknown in spent)
        {
            using var response = await stranger.GetAsync($"/scim/v2/tenants/{unknown}/Users");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal(1, StorageProbe.ReadsOf(GrainKeys.Tenant(unknown)));
        }

        var refused = GrainKeys.NewTenantId();
        using (var throttled = await stranger.GetAsync($"/scim/v2/tenants/{refused}/Users"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
            Assert.Equal(ScimUsers.ScimJson, throttled.Content.Headers.ContentType?.MediaType);
            Assert.True(throttled.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
            var body = await ScimUsers.BodyAsync(throttled);
            Assert.Equal("urn:ietf:params:scim:api:messages:2.0:Error", body["schemas"]![0]!.GetValue<string>());
            Assert.Equal("429", body["status"]!.GetValue<string>());
            Assert.Null(body["scimType"]);
            Assert.DoesNotContain(refused, body.ToJsonString(), StringComparison.Ordinal);
        }

        // Refused before any grain call: the tenant grain was never activated.
        Assert.Equal(0, StorageProbe.ReadsOf(GrainKeys.Tenant(refused)));

        // Answers from memory are not limited: an id remembered as unknown, another tenant's wrong token.
        using (var remembered = await stranger.GetAsync($"/scim/v2/tenants/{spent[0]}/Users"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, remembered.StatusCode);
        }

        using (var wrongToken = await stranger.GetAsync(new Uri(tenant.ScimUrl + "/Users")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrongToken.StatusCode);
        }

        // The known tenant keeps working from the same address, reads and writes.
        for (var i = 0; i < 10; i++)
        {
            using var response = await scim.GetAsync(ScimUsers.Filter($"probe{i}@contoso.com"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var created = await scim.PostAsync("Users", ScimUsers.NewUser("jo@contoso.com")))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        // A token issued, then the old one revoked, on this gateway (which forgets the tenant's credentials at once): the
        // tenant is still known, so neither the new token nor the revoked one is a lookup the spent budget refuses.
        using var admin = gateway.AdminClient();
        string newToken;
        using (var issued = await admin.PostAsync($"/admin/tenants/{tenant.TenantId}/tokens", null))
        {
            Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
            newToken = (await issued.Content.ReadFromJsonAsync<JsonObject>())!["secret"]!.GetValue<string>();
        }

        using var rotated = gateway.ScimClient(tenant with { Token = newToken });
        using (var withNew = await rotated.GetAsync(ScimUsers.Filter("rotated@contoso.com")))
        {
            Assert.Equal(HttpStatusCode.OK, withNew.StatusCode);
        }

        using (var revoked = await admin.DeleteAsync($"/admin/tenants/{tenant.TenantId}/tokens/{tenant.TokenId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }

        using (var withOld = await scim.GetAsync(ScimUsers.Filter("revoked@contoso.com")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, withOld.StatusCode);
        }

        using (var withNew = await rotated.GetAsync(ScimUsers.Filter("rotated@contoso.com")))
        {
            Assert.Equal(HttpStatusCode.OK, withNew.StatusCode);
        }

        // Counted by reason, with the bounded tenant label: the refused id is no label value.
        using var metricsClient = gateway.CreateClient();
        var metrics = await metricsClient.GetStringAsync("/metrics");
        Assert.Matches(@"scim_limits_rejections_total\{[^}]*reason=""failed-auth""[^}]*tenant=""other""[^}]*\} 1\b", metrics);
        Assert.DoesNotContain(refused, metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusalsOfEveryWayInAreCountedByReason()
    {
        // Until 2026-12-07 only the SCIM surface counted its failed-lookup refusals: a flood at /oauth2/token or at setup
        // links showed nowhere in the product's metrics.
        await using var gateway = GatewayFactory.With(new Dictionary<string, string?>
        {
            ["RateLimits:FailedAuthentication:PermitsPerSecond"] = "0.001",
            ["RateLimits:FailedAuthentication:Burst"] = "2",
            ["RateLimits:OAuthClient:PermitsPerSecond"] = "0.001",
            ["RateLimits:OAuthClient:Burst"] = "1",
        });
        var tenant = await gateway.CreateTenantAsync();
        var client = await gateway.CreateOAuthClientAsync(tenant);
        using var http = gateway.CreateClient();

        // An OAuth client over its own limit.
        (await http.RequestTokenAsync(client)).Dispose();
        using (var throttled = await http.RequestTokenAsync(client))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        }

        // The address's budget spent by client ids of tenants nobody created; then each way in is refused before a lookup.
        for (var i = 0; i < 2; i++)
        {
            using var unknown = await http.RequestTokenAsync(client with { ClientId = OAuthClientIds.New(GrainKeys.NewTenantId()) });
            Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        }

        using (var token = await http.RequestTokenAsync(client with { ClientId = OAuthClientIds.New(GrainKeys.NewTenantId()) }))
        using (var link = await http.GetAsync($"/portal/setup/{GrainKeys.NewTenantId()}/{SetupLinkSecrets.New()}"))
        using (var scim = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/scim/v2/tenants/{GrainKeys.NewTenantId()}/Users")
        {
            Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "scim_" + new string('A', 43)) },
        }))
        {
            Assert.Equal([HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], new[] { token.StatusCode, link.StatusCode, scim.StatusCode });
        }

        var metrics = await http.GetStringAsync("/metrics");
        Assert.Matches(@"scim_limits_rejections_total\{[^}]*reason=""oauth-client""[^}]*\} 1\b", metrics);
        Assert.Matches(@"scim_limits_rejections_total\{[^}]*reason=""failed-auth""[^}]*tenant=""other""[^}]*\} 3\b", metrics);
    }
}
