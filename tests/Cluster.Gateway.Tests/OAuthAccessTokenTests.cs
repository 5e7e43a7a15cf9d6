using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Cluster.Abstractions;
using Cluster.Gateway.Auth;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Gateway.Tests;

/// <summary>
/// Issue 13, access tokens on the SCIM surface (invariants 1, 2): validated in memory, bound to one tenant, every refusal
/// the same 401 as a bad secret token; a revoked client's tokens and a suspended tenant's stop within 5 s on every gateway.
/// </summary>
public sealed class OAuthAccessTokenTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    private static readonly TimeSpan RevocationDeadline = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task AnAccessTokenProvisionsItsOwnTenant()
    {
        var tenant = await gateway.CreateTenantAsync();
        var client = await gateway.CreateOAuthClientAsync(tenant);
        using var scim = gateway.ScimClient(tenant, await gateway.AccessTokenAsync(client));
        var user = await scim.CreateUserAsync("oauth.user@contoso.com");
        Assert.Equal(user["id"].Str(), (await scim.GetUserAsync(user["id"].Str()))["id"].Str());
        Assert.Equal([user["id"].Str()], (await scim.FilterAsync("userName eq \"oauth.user@contoso.com\"")).Ids());
    }

    [Fact]
    public async Task EveryBadAccessTokenIsTheSame401AsABadSecretToken()
    {
        var tenantA = await gateway.CreateTenantAsync("A");
        var tenantB = await gateway.CreateTenantAsync("B");
        var clientA = await gateway.CreateOAuthClientAsync(tenantA);
        var clientB = await gateway.CreateOAuthClientAsync(tenantB);
        var grains = gateway.Grains();
        var now = DateTime.UtcNow;
        var valid = await gateway.AccessTokenAsync(clientA);
        var parts = valid.Split('.');
        var tokens = new Dictionary<string, string>
        {
            ["another tenant's token"] = await gateway.AccessTokenAsync(clientB),
            ["expired"] = await OAuthClients.SignAsync(grains, OAuthClients.Claims(clientA, now.AddHours(-2))),
            ["not yet valid"] = await OAuthClients.SignAsync(grains, OAuthClients.Claims(clientA, now.AddHours(1))),
            ["tenant claim of B, client of A"] = await OAuthClients.SignAsync(grains, OAuthClients.Claims(clientA, now, tenantId: tenantB.TenantId)),
            ["tenant claim of A, client of B"] = await OAuthClients.SignAsync(grains, OAuthClients.Claims(clientB, now, tenantId: tenantA.TenantId)),
            ["wrong audience"] = await OAuthClients.SignAsync(grains, OAuthClients.Claims(clientA, now, audience: "https://graph.microsoft.com")),
            ["wrong issuer"] = await OAuthClients.SignAsync(grains, OAuthClients.Claims(clientA, now, issuer: "https://evil.example")),
            ["wrong typ"] = await OAuthClients.SignAsync(grains, OAuthClients.Claims(clientA, now), tokenType: "JWT"),
            ["unknown key id"] = await OAuthClients.SignAsync(grains, OAuthClients.Claims(clientA, now), keyId: "0123456789abcdef"),
            ["unknown client of A"] = await OAuthClients.SignAsync(grains, OAuthClients.Claims(clientA with { ClientId = OAuthClientIds.New(tenantA.TenantId) }, now)),
            ["tampered payload"] = parts[0] + "." + parts[1][..^2] + (parts[1][^2] == 'A' ? "B" : "A") + parts[1][^1] + "." + parts[2],
            ["tampered signature"] = parts[0] + "." + parts[1] + "." + parts[2][..^3] + (parts[2][^3] == 'A' ? "BBB" : "AAA"),
            ["alg none"] = Base64("{\"alg\":\"none\",\"typ\":\"at+jwt\"}") + "." + parts[1] + ".",
            ["HS256 with the public key"] = Base64("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}") + "." + parts[1] + "." + parts[2],
            ["no signature"] = parts[0] + "." + parts[1],
            ["garbage JWT shape"] = "eyJhbGciOiJFUzI1NiJ9.eyJ.x",
            ["secret token of A as JWT"] = "eyJ" + tenantA.Token,
            ["wrong secret token"] = "scim_" + new string('A', 43),
        };

        using var reference = gateway.ScimClient(tenantA, "scim_" + new string('B', 43));
        using var referenceResponse = await reference.GetAsync("Users");
        var expected = (await referenceResponse.ExpectScimErrorAsync(HttpStatusCode.Unauthorized)).ToJsonString();

        foreach (var (name, token) in tokens)
        {
            using var scim = gateway.ScimClient(tenantA, token);
            foreach (var path in new[] { "Users", "Groups", "ServiceProviderConfig", "NoSuchEndpoint" })
            {
                using var response = await scim.GetAsync(path);
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{name} on {path}: {(int)response.StatusCode}");
                Assert.Equal(expected, (await response.ExpectScimErrorAsync(HttpStatusCode.Unauthorized)).ToJsonString());
                Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).ToString());
            }
        }

        // A's token on A is fine; B's on B too.
        using var own = gateway.ScimClient(tenantA, valid);
        using var ok = await own.GetAsync("Users");
        await ok.ExpectScimAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task RevokingTheClientRejectsItsIssuedTokensWithin5SecondsOnEveryGateway()
    {
        var tenant = await gateway.CreateTenantAsync();
        var client = await gateway.CreateOAuthClientAsync(tenant);
        var keep = await gateway.CreateOAuthClientAsync(tenant);
        await using var other = GatewayFactory.ConnectTo(gateway);
        var token = await gateway.AccessTokenAsync(client);
        var kept = await gateway.AccessTokenAsync(keep);
        using var onFirst = gateway.ScimClient(tenant, token);
        using var onSecond = other.ScimClient(tenant, token);
        foreach (var scim in new[] { onFirst, onSecond })
        {
            using var warm = await scim.GetAsync("Users");
            await warm.ExpectScimAsync(HttpStatusCode.OK);
        }

        using var admin = gateway.AdminClient();
        using (var revoke = await admin.DeleteAsync($"/admin/tenants/{tenant.TenantId}/oauth-clients/{client.ClientId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        var clock = Stopwatch.StartNew();
        await Task.WhenAll(RefusedWithinAsync(onFirst, HttpStatusCode.Unauthorized, clock), RefusedWithinAsync(onSecond, HttpStatusCode.Unauthorized, clock));

        // The tenant's other client is untouched.
        using var stillValid = other.ScimClient(tenant, kept);
        using var ok = await stillValid.GetAsync("Users");
        await ok.ExpectScimAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ASuspendedTenantsAccessTokensAre403Within5SecondsAndResumingRestoresThem()
    {
        var tenant = await gateway.CreateTenantAsync();
        var client = await gateway.CreateOAuthClientAsync(tenant);
        await using var other = GatewayFactory.ConnectTo(gateway);
        var token = await gateway.AccessTokenAsync(client);
        using var onFirst = gateway.ScimClient(tenant, token);
        using var onSecond = other.ScimClient(tenant, token);
        var user = await onFirst.CreateUserAsync("suspend.me@contoso.com");
        using (var warm = await onSecond.GetAsync("Users"))
        {
            await warm.ExpectScimAsync(HttpStatusCode.OK);
        }

        var tenantGrain = gateway.Grains().GetGrain<ITenantGrain>(GrainKeys.Tenant(tenant.TenantId));
        await tenantGrain.UpdateAsync(null, suspended: true);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(RefusedWithinAsync(onFirst, HttpStatusCode.Forbidden, clock), RefusedWithinAsync(onSecond, HttpStatusCode.Forbidden, clock));
        using (var write = await onSecond.PatchUserAsync(user["id"].Str(), EntraPayloads.SetActive("Replace", "\"False\"")))
        {
            Assert.Contains("suspended", (await write.ExpectScimErrorAsync(HttpStatusCode.Forbidden))["detail"].Str(), StringComparison.Ordinal);
        }

        await tenantGrain.UpdateAsync(null, suspended: false);
        for (var attempt = 0; ; attempt++)
        {
            using var response = await onSecond.GetAsync($"Users/{user["id"].Str()}");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                Assert.True((await response.ExpectScimAsync(HttpStatusCode.OK))["active"]!.GetValue<bool>());
                break;
            }

            Assert.True(attempt < 100);
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task ForgedAccessTokensForManyTenantsNeverReachAGrain()
    {
        await using var probed = GatewayFactory.With(new Dictionary<string, string?>()).WithStorageProbe();
        var tenant = await probed.CreateTenantAsync();
        var client = await probed.CreateOAuthClientAsync(tenant);
        var valid = await probed.AccessTokenAsync(client);
        var parts = valid.Split('.');
        var cache = probed.Services.GetRequiredService<TenantCredentialCache>();
        var before = cache.Count;
        var keys = probed.Services.GetRequiredService<SigningKeyCache>();
        var keyReads = keys.Reads;
        var clock = Stopwatch.StartNew();
        var random = new Random(13);
        var tenants = Enumerable.Range(0, 300).Select(_ => GrainKeys.NewTenantId()).ToList();
        using var http = probed.CreateClient();
        foreach (var (tenantId, i) in tenants.Select((t, i) => (t, i)))
        {
            // A header naming a random key id, or the real one; claims of the random tenant; a signature that is not theirs.
            var header = i % 2 == 0 ? parts[0] : Base64($"{{\"alg\":\"ES256\",\"kid\":\"{random.Next():x8}\",\"typ\":\"at+jwt\"}}");
            var payload = Base64($"{{\"tenant_id\":\"{tenantId}\",\"client_id\":\"{OAuthClientIds.New(tenantId)}\",\"iss\":\"http://localhost\",\"aud\":\"scim\",\"exp\":{DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds()}}}");
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/scim/v2/tenants/{tenantId}/Users");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", header + "." + payload + "." + parts[2]);
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        Assert.Equal(0, tenants.Sum(t => StorageProbe.ReadsOf(GrainKeys.Tenant(t))));
        Assert.Equal(before, cache.Count);

        // Made-up key ids cost at most one key-set read per second (SigningKeyCache.MinimumRefreshInterval).
        Assert.True(keys.Reads - keyReads <= clock.Elapsed.TotalSeconds + 1, $"{keys.Reads - keyReads} key-set reads in {clock.Elapsed}");
    }

    private static async Task RefusedWithinAsync(HttpClient scim, HttpStatusCode status, Stopwatch clock)
    {
        while (true)
        {
            // The deadline bounds when a request is sent, not when its answer (slow on a loaded machine) comes back.
            var sentAt = clock.Elapsed;
            using var response = await scim.GetAsync("Users");
            if (response.StatusCode == status)
            {
                await response.ExpectScimErrorAsync(status);
                return;
            }

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(sentAt < RevocationDeadline, $"Still accepted in a request sent after {sentAt}.");
            await Task.Delay(50);
        }
    }

    private static string Base64(string json) => System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));
}
