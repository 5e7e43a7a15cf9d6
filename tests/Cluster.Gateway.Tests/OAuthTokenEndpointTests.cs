using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Cluster.Abstractions;
using Cluster.Gateway.Auth;
using Cluster.Gateway.Limits;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Cluster.Gateway.Tests;

/// <summary>
/// Issue 13, <c>POST /oauth2/token</c> (RFC 6749 §4.4 client credentials): both client authentication methods, every
/// error case of RFC 6749 §5.2 with its status, the token's claims and signature, secret rotation and revocation, a
/// suspended tenant, the per-client limit and the limit of lookups of unknown tenants.
/// </summary>
public sealed class OAuthTokenEndpointTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    // The one mapping of an error's status to its RFC 6749 code. Our own failure is server_error: until 2026-12-07 a 500 said
    // invalid_request, which blames the client's request.
    [Theory]
    [InlineData(400, "invalid_request")]
    [InlineData(413, "invalid_request")]
    [InlineData(401, "invalid_client")]
    [InlineData(429, "temporarily_unavailable")]
    [InlineData(503, "temporarily_unavailable")]
    [InlineData(500, "server_error")]
    [InlineData(504, "server_error")]
    public void AnErrorsStatusGivesItsOAuthCode(int status, string code) => Assert.Equal(code, Http.SurfaceErrors.OAuthErrorCode(status));

    [Fact]
    public async Task BothClientAuthenticationMethodsGetASignedTokenBoundToTheTenant()
    {
        var tenant = await gateway.CreateTenantAsync();
        var client = await gateway.CreateOAuthClientAsync(tenant);
        Assert.StartsWith(OAuthClientIds.Prefix + tenant.TenantId + ".", client.ClientId, StringComparison.Ordinal);
        Assert.StartsWith(ClientSecrets.Prefix, client.Secret, StringComparison.Ordinal);
        Assert.Equal("http://localhost/oauth2/token", client.TokenEndpoint);

        using var http = gateway.CreateClient();
        foreach (var post in new[] { false, true })
        {
            using var response = await http.RequestTokenAsync(client, post);
            var token = new JsonWebTokenHandler().ReadJsonWebToken(await response.ExpectTokenAsync());
            Assert.Equal("ES256", token.Alg);
            Assert.Equal("at+jwt", token.Typ);
            Assert.Equal("http://localhost", token.Issuer);
            Assert.Equal(["scim"], token.Audiences);
            Assert.Equal(client.ClientId, token.Subject);
            Assert.Equal(client.ClientId, token.GetClaim("client_id").Value);
            Assert.Equal(tenant.TenantId, token.GetClaim("tenant_id").Value);
            Assert.Equal(TimeSpan.FromMinutes(60), token.ValidTo - token.IssuedAt);
            Assert.Equal(32, token.Id.Length);
            Assert.DoesNotContain(client.Secret, token.EncodedToken, StringComparison.Ordinal);

            // Its key is published.
            using var jwks = await http.GetAsync("/.well-known/jwks.json");
            var keys = (await jwks.ReadJsonAsync())["keys"]!.AsArray();
            Assert.Contains(keys, k => k!["kid"]!.GetValue<string>() == token.Kid && k["kty"]!.GetValue<string>() == "EC" && k["crv"]!.GetValue<string>() == "P-256" && k["d"] is null);
        }
    }

    public static TheoryData<string, string?, string?, string?, HttpStatusCode, string> Malformed => new()
    {
        // method, content type, Authorization, body → status, error
        { "POST", "application/json", null, "{\"grant_type\":\"client_credentials\"}", HttpStatusCode.BadRequest, "invalid_request" },
        { "POST", null, null, "grant_type=client_credentials", HttpStatusCode.BadRequest, "invalid_request" },
        { "POST", "multipart/form-data; boundary=x", null, "--x--", HttpStatusCode.BadRequest, "invalid_request" },
        { "POST", "application/x-www-form-urlencoded; charset=iso-8859-1", null, "grant_type=client_credentials", HttpStatusCode.BadRequest, "invalid_request" },
        { "POST", "application/x-www-form-urlencoded", null, "", HttpStatusCode.BadRequest, "invalid_request" },
        { "POST", "application/x-www-form-urlencoded", null, "grant_type=", HttpStatusCode.BadRequest, "invalid_request" },
        { "POST", "application/x-www-form-urlencoded", null, "grant_type=client_credentials&grant_type=client_credentials", HttpStatusCode.BadRequest, "invalid_request" },
        { "POST", "application/x-www-form-urlencoded", null, "grant_type=password&username=a&password=b", HttpStatusCode.BadRequest, "unsupported_grant_type" },
        { "POST", "application/x-www-form-urlencoded", null, "grant_type=authorization_code&code=x", HttpStatusCode.BadRequest, "unsupported_grant_type" },
        { "POST", "application/x-www-form-urlencoded", null, "grant_type=Client_Credentials", HttpStatusCode.BadRequest, "unsupported_grant_type" },
        { "POST", "application/x-www-form-urlencoded", null, "grant_type=client_credentials", HttpStatusCode.Unauthorized, "invalid_client" },
        { "POST", "application/x-www-form-urlencoded", null, "grant_type=client_credentials&client_id=x", HttpStatusCode.Unauthorized, "invalid_client" },
        { "POST", "application/x-www-form-urlencoded", "Basic %%%", "grant_type=client_credentials", HttpStatusCode.Unauthorized, "invalid_client" },
        { "POST", "application/x-www-form-urlencoded", "Basic " + Convert.ToBase64String("no-colon"u8.ToArray()), "grant_type=client_credentials", HttpStatusCode.Unauthorized, "invalid_client" },
        { "POST", "application/x-www-form-urlencoded", "Basic " + Convert.ToBase64String([0xC3, 0x28, (byte)':', 0xFF]), "grant_type=client_credentials", HttpStatusCode.Unauthorized, "invalid_client" },
        { "POST", "application/x-www-form-urlencoded", "Bearer scim_abc", "grant_type=client_credentials", HttpStatusCode.Unauthorized, "invalid_client" },
        { "POST", "application/x-www-form-urlencoded", null, "grant_type=client_credentials&client_id=not-a-client&client_secret=x", HttpStatusCode.Unauthorized, "invalid_client" },
        { "POST", "application/x-www-form-urlencoded", null, "grant_type=client_credentials&client_id=scimc_0123456789abcdef0123456789abcdef.0123456789abcdef01234567&client_secret=scimcs_x", HttpStatusCode.Unauthorized, "invalid_client" },
        { "POST", "application/x-www-form-urlencoded", null, "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=eyJ.x.y", HttpStatusCode.Unauthorized, "invalid_client" },
        { "GET", null, null, null, HttpStatusCode.MethodNotAllowed, "invalid_request" },
        { "PUT", "application/x-www-form-urlencoded", null, "grant_type=client_credentials", HttpStatusCode.MethodNotAllowed, "invalid_request" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task EveryMalformedRequestIsAnRfc6749Error(string method, string? contentType, string? authorization, string? body, HttpStatusCode status, string error)
    {
        using var http = gateway.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), "/oauth2/token");
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (contentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
        }

        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await http.SendAsync(request);
        await response.ExpectOAuthErrorAsync(status, error);
    }

    [Fact]
    public async Task WrongSecretsAndMixedMethodsAreRefusedAndNothingIsIssued()
    {
        var tenant = await gateway.CreateTenantAsync();
        var client = await gateway.CreateOAuthClientAsync(tenant);
        var other = await gateway.CreateOAuthClientAsync(await gateway.CreateTenantAsync("Other"));
        using var http = gateway.CreateClient();

        foreach (var post in new[] { false, true })
        {
            foreach (var secret in new[] { client.Secret + "x", client.Secret[..^1], other.Secret, ClientSecrets.Prefix + new string('A', 43), client.Secret.ToUpperInvariant(), new string('s', 300) })
            {
                using var refused = await http.RequestTokenAsync(client, post, secret);
                await refused.ExpectOAuthErrorAsync(HttpStatusCode.Unauthorized, "invalid_client");
            }
        }

        // Another tenant's client id with this client's secret, and the ids swapped.
        using (var swapped = await http.RequestTokenAsync(other with { Secret = client.Secret }))
        {
            await swapped.ExpectOAuthErrorAsync(HttpStatusCode.Unauthorized, "invalid_client");
        }

        // The wrong secrets spent this client's budget (RateLimits:OAuthClient); the rest uses another client of the tenant.
        client = await gateway.CreateOAuthClientAsync(tenant);

        // Basic and client_secret in the body at once: RFC 6749 §2.3 allows one method.
        using var both = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "client_credentials"), new("client_id", client.ClientId), new("client_secret", client.Secret)]),
        };
        both.Headers.Authorization = new AuthenticationHeaderValue("Basic", OAuthClients.BasicCredentials(client.ClientId, client.Secret));
        using (var mixed = await http.SendAsync(both))
        {
            await mixed.ExpectOAuthErrorAsync(HttpStatusCode.BadRequest, "invalid_request");
        }

        // Basic with the same client_id in the body (some clients send it) is fine.
        using var withId = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "client_credentials"), new("client_id", client.ClientId), new("scope", "scim")]),
        };
        withId.Headers.Authorization = new AuthenticationHeaderValue("Basic", OAuthClients.BasicCredentials(client.ClientId, client.Secret));
        using var accepted = await http.SendAsync(withId);
        await accepted.ExpectTokenAsync();

        // Basic with client_id and client_secret sent empty: a parameter without a value is one not sent (RFC 6749 §3.2).
        using var withEmpty = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "client_credentials"), new("client_id", ""), new("client_secret", "")]),
        };
        withEmpty.Headers.Authorization = new AuthenticationHeaderValue("Basic", OAuthClients.BasicCredentials(client.ClientId, client.Secret));
        using var acceptedEmpty = await http.SendAsync(withEmpty);
        await acceptedEmpty.ExpectTokenAsync();
    }

    [Fact]
    public async Task RotationWithTwoLiveSecretsThenARevokedSecretYieldsNoTokenAtOnceOnEveryGateway()
    {
        var tenant = await gateway.CreateTenantAsync();
        var first = await gateway.CreateOAuthClientAsync(tenant);
        var second = await gateway.AddSecretAsync(first);
        Assert.NotEqual(first.SecretId, second.SecretId);
        await using var other = GatewayFactory.ConnectTo(gateway);
        using var httpA = gateway.CreateClient();
        using var httpB = other.CreateClient();

        // Both secrets are live, on both gateways; a token from either works on SCIM.
        foreach (var client in new[] { first, second })
        {
            foreach (var http in new[] { httpA, httpB })
            {
                using var response = await http.RequestTokenAsync(client);
                using var scim = gateway.ScimClient(tenant, await response.ExpectTokenAsync());
                using var list = await scim.GetAsync("Users");
                await list.ExpectScimAsync(HttpStatusCode.OK);
            }
        }

        var tokenFromFirst = await gateway.AccessTokenAsync(first);
        using var admin = gateway.AdminClient();
        using (var revoke = await admin.DeleteAsync($"/admin/tenants/{tenant.TenantId}/oauth-clients/{first.ClientId}/secrets/{first.SecretId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        // At once, on both gateways (the secret is checked by the tenant grain, not from a cache).
        foreach (var http in new[] { httpA, httpB })
        {
            using var refused = await http.RequestTokenAsync(first);
            await refused.ExpectOAuthErrorAsync(HttpStatusCode.Unauthorized, "invalid_client");
            using var stillValid = await http.RequestTokenAsync(second);
            await stillValid.ExpectTokenAsync();
        }

        // A token issued before keeps working: revoking a secret is rotation, not an emergency (revoke the client for that).
        using var scimOld = gateway.ScimClient(tenant, tokenFromFirst);
        using var ok = await scimOld.GetAsync("Users");
        await ok.ExpectScimAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ASuspendedTenantsClientGetsUnauthorizedClientAndResumingRestoresIt()
    {
        var tenant = await gateway.CreateTenantAsync();
        var client = await gateway.CreateOAuthClientAsync(tenant);
        var tenantGrain = gateway.Grains().GetGrain<ITenantGrain>(GrainKeys.Tenant(tenant.TenantId));
        using var http = gateway.CreateClient();
        await tenantGrain.UpdateAsync(null, suspended: true);
        using (var refused = await http.RequestTokenAsync(client))
        {
            var error = await refused.ExpectOAuthErrorAsync(HttpStatusCode.BadRequest, "unauthorized_client");
            Assert.Contains("suspended", error["error_description"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        // A wrong secret of a suspended tenant is still just invalid_client: suspension is shown only to its own clients.
        using (var stranger = await http.RequestTokenAsync(client, secret: client.Secret + "x"))
        {
            await stranger.ExpectOAuthErrorAsync(HttpStatusCode.Unauthorized, "invalid_client");
        }

        await tenantGrain.UpdateAsync(null, suspended: false);
        using var restored = await http.RequestTokenAsync(client);
        await restored.ExpectTokenAsync();
    }

    [Fact]
    public async Task ARevokedClientGetsNoToken()
    {
        var tenant = await gateway.CreateTenantAsync();
        var client = await gateway.CreateOAuthClientAsync(tenant);
        using var admin = gateway.AdminClient();
        using (var revoke = await admin.DeleteAsync($"/admin/tenants/{tenant.TenantId}/oauth-clients/{client.ClientId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        using var http = gateway.CreateClient();
        foreach (var post in new[] { false, true })
        {
            using var refused = await http.RequestTokenAsync(client, post);
            await refused.ExpectOAuthErrorAsync(HttpStatusCode.Unauthorized, "invalid_client");
        }
    }

    [Fact]
    public async Task TokenRequestsAreLimitedPerClientAndUnknownTenantsPerAddressBeforeAnyGrainCall()
    {
        await using var limited = GatewayFactory.With(new Dictionary<string, string?>
        {
            ["RateLimits:OAuthClient:PermitsPerSecond"] = "0.01",
            ["RateLimits:OAuthClient:Burst"] = "3",
            ["RateLimits:FailedAuthentication:PermitsPerSecond"] = "0.01",
            ["RateLimits:FailedAuthentication:Burst"] = "5",
        }).WithStorageProbe();
        var tenant = await limited.CreateTenantAsync();
        var client = await limited.CreateOAuthClientAsync(tenant);
        var neighbour = await limited.CreateOAuthClientAsync(tenant);
        using var http = limited.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            using var ok = await http.RequestTokenAsync(client, secret: i == 1 ? "wrong" : null);
            Assert.NotEqual(HttpStatusCode.TooManyRequests, ok.StatusCode);
        }

        using (var throttled = await http.RequestTokenAsync(client))
        {
            await throttled.ExpectOAuthErrorAsync(HttpStatusCode.TooManyRequests, "temporarily_unavailable");
            Assert.True(int.Parse(throttled.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        }

        // Another client of the same tenant has its own budget.
        using (var other = await http.RequestTokenAsync(neighbour))
        {
            await other.ExpectTokenAsync();
        }

        // Client ids naming tenants nobody knows: at most the address's budget of lookups, then 429 before any grain call.
        var cache = limited.Services.GetRequiredService<TenantCredentialCache>();
        var unknown = Enumerable.Range(0, 20).Select(_ => OAuthClientIds.New(GrainKeys.NewTenantId())).ToList();
        var statuses = new List<HttpStatusCode>();
        foreach (var clientId in unknown)
        {
            using var response = await http.RequestTokenAsync(new TestOAuthClient("", clientId, "", ClientSecrets.Prefix + "x", ""));
            statuses.Add(response.StatusCode);
        }

        Assert.Equal(5, statuses.Count(s => s == HttpStatusCode.Unauthorized));
        Assert.Equal(15, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(5, unknown.Sum(id => OAuthClientIds.TryParseTenant(id, out var t) ? StorageProbe.ReadsOf(GrainKeys.Tenant(t)) : 0));

        // The same unknown ids again are answered from memory (remembered as unknown): 401, no grain call, no budget.
        foreach (var clientId in unknown.Take(5))
        {
            using var response = await http.RequestTokenAsync(new TestOAuthClient("", clientId, "", ClientSecrets.Prefix + "x", ""));
            await response.ExpectOAuthErrorAsync(HttpStatusCode.Unauthorized, "invalid_client");
        }

        Assert.Equal(5, unknown.Sum(id => OAuthClientIds.TryParseTenant(id, out var t) ? StorageProbe.ReadsOf(GrainKeys.Tenant(t)) : 0));
        Assert.True(cache.Count < 20);
    }

    [Fact]
    public async Task WrongSecretsFromOneAddressDoNotDenyTheClientItsTokensFromAnother()
    {
        // A client id is no secret (it is in Entra and in logs). Someone who knows it sends wrong secrets until the
        // client's bucket is spent; Entra, asking from its own address with the right secret, must still get its token.
        // The addresses come from X-Forwarded-For, as behind the operator's proxy.
        await using var limited = GatewayFactory.With(new Dictionary<string, string?>
        {
            ["FORWARDEDHEADERS_ENABLED"] = "true",
            ["RateLimits:OAuthClient:PermitsPerSecond"] = "0.01",
            ["RateLimits:OAuthClient:Burst"] = "3",
        });
        var client = await limited.CreateOAuthClientAsync(await limited.CreateTenantAsync());
        using var attacker = limited.CreateClient();
        attacker.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.7");
        using var entra = limited.CreateClient();

        // Addresses count in hashed partitions (seeded per process, this one): take one that is not the guesser's.
        var guesserPartition = FailedAuthenticationLimiter.AddressPartition(IPAddress.Parse("203.0.113.7"));
        entra.DefaultRequestHeaders.Add("X-Forwarded-For", Enumerable.Range(1, 254).Select(i => $"198.51.100.{i}")
            .First(a => FailedAuthenticationLimiter.AddressPartition(IPAddress.Parse(a)) != guesserPartition));

        for (var i = 0; i < 3; i++)
        {
            using var refused = await attacker.RequestTokenAsync(client, secret: client.Secret + "x");
            await refused.ExpectOAuthErrorAsync(HttpStatusCode.Unauthorized, "invalid_client");
        }

        using (var throttled = await attacker.RequestTokenAsync(client, secret: client.Secret + "x"))
        {
            await throttled.ExpectOAuthErrorAsync(HttpStatusCode.TooManyRequests, "temporarily_unavailable");
        }

        using (var issued = await entra.RequestTokenAsync(client))
        {
            await issued.ExpectTokenAsync();
        }

        // The limit still holds where the guesses came from, right secret or not.
        using var stillThrottled = await attacker.RequestTokenAsync(client);
        await stillThrottled.ExpectOAuthErrorAsync(HttpStatusCode.TooManyRequests, "temporarily_unavailable");
    }

    [Fact]
    public async Task AnOversizedBodyIsRefusedInTheOAuthFormat()
    {
        using var http = gateway.CreateClient();
        using var content = new StringContent("grant_type=client_credentials&x=" + new string('a', 20_000), Encoding.UTF8, "application/x-www-form-urlencoded");
        content.Headers.ContentType!.CharSet = null;
        using var response = await http.PostAsync("/oauth2/token", content);
        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge, $"{response.StatusCode}");
        await response.ExpectOAuthErrorAsync(response.StatusCode, "invalid_request");
    }
}
