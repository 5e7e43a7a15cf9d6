using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>
/// Issue 13, OAuth clients in the admin API: every input validated with a clear problem+json error and nothing changed;
/// limits; and the authentication model's matrix — each surface with each kind of credential.
/// </summary>
public sealed class OAuthAdminTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    [Fact]
    public async Task BadAdminInputIsAClearErrorAndChangesNothing()
    {
        var tenant = await gateway.CreateTenantAsync();
        var client = await gateway.CreateOAuthClientAsync(tenant);
        var otherTenant = await gateway.CreateTenantAsync("Other");
        var foreign = await gateway.CreateOAuthClientAsync(otherTenant);
        var grain = gateway.Grains().GetGrain<ITenantGrain>(GrainKeys.Tenant(tenant.TenantId));
        var otherGrain = gateway.Grains().GetGrain<ITenantGrain>(GrainKeys.Tenant(otherTenant.TenantId));
        var before = Describe(await grain.GetOAuthClientsAsync());
        var otherBefore = Describe(await otherGrain.GetOAuthClientsAsync());
        var t = tenant.TenantId;
        var c = client.ClientId;
        var cases = new (string Method, string Path, string? Body, HttpStatusCode Status)[]
        {
            ("POST", $"/admin/tenants/{t}/oauth-clients", "{\"expiresInDays\":0}", HttpStatusCode.BadRequest),
            ("POST", $"/admin/tenants/{t}/oauth-clients", "{\"expiresInDays\":1096}", HttpStatusCode.BadRequest),
            ("POST", $"/admin/tenants/{t}/oauth-clients", "{\"expiresInDays\":-5}", HttpStatusCode.BadRequest),
            ("POST", $"/admin/tenants/{t}/oauth-clients", "{\"expiresInDays\":\"x\"}", HttpStatusCode.BadRequest),
            ("POST", $"/admin/tenants/{t}/oauth-clients", "{\"expiresInDays\":1.5}", HttpStatusCode.BadRequest),
            ("POST", $"/admin/tenants/{t}/oauth-clients", "{\"expiresInDays\":", HttpStatusCode.BadRequest),
            ("POST", $"/admin/tenants/{t}/oauth-clients", "[]", HttpStatusCode.BadRequest),
            ("POST", $"/admin/tenants/{t}/oauth-clients", "{\"expiresInDay\":30}", HttpStatusCode.BadRequest), // misspelt: was a 365-day secret
            ("POST", $"/admin/tenants/{t}/oauth-clients/{c}/secrets", "{\"expiresInDays\":30,\"scope\":\"all\"}", HttpStatusCode.BadRequest),
            ("POST", $"/admin/tenants/{t}/setup-links", "{\"expiresInMinute\":60}", HttpStatusCode.BadRequest),
            ("PUT", $"/admin/tenants/{t}/webhook", "{\"url\":\"https://hooks.example.com/x\",\"secrett\":\"s\"}", HttpStatusCode.BadRequest),
            ("POST", "/admin/tenants", "{\"nmae\":\"Typo\"}", HttpStatusCode.BadRequest),
            ("POST", "/admin/tenants", "{\"name\":\"Contoso\",\"NAME\":\"Other\"}", HttpStatusCode.BadRequest), // was a tenant named Other
            ("POST", "/admin/tenants", "{\"Name\":\"Contoso\"}", HttpStatusCode.BadRequest),
            ("POST", $"/admin/tenants/{t}/setup-links", "{\"expiresInMinutes\":60,\"expiresInMinutes\":43200}", HttpStatusCode.BadRequest), // was a 30-day link
            ("POST", $"/admin/tenants/{t}/oauth-clients", "{\"expiresInDays\":30,\"expiresInDays\":1000}", HttpStatusCode.BadRequest),
            ("POST", "/admin/tenants/0123456789abcdef0123456789abcdef/oauth-clients", null, HttpStatusCode.NotFound),
            ("POST", "/admin/tenants/bad!id/oauth-clients", null, HttpStatusCode.NotFound),
            ("POST", $"/admin/tenants/{t}/oauth-clients/{c}/secrets", "{\"expiresInDays\":0}", HttpStatusCode.BadRequest),
            ("POST", $"/admin/tenants/{t}/oauth-clients/{foreign.ClientId}/secrets", null, HttpStatusCode.NotFound),
            ("POST", $"/admin/tenants/{t}/oauth-clients/{OAuthClientIds.New(t)}/secrets", null, HttpStatusCode.NotFound),
            ("POST", $"/admin/tenants/{t}/oauth-clients/not-a-client/secrets", null, HttpStatusCode.NotFound),
            ("DELETE", $"/admin/tenants/{t}/oauth-clients/{c}/secrets/0123456789ab", null, HttpStatusCode.NotFound),
            ("DELETE", $"/admin/tenants/{t}/oauth-clients/{c}/secrets/{client.SecretId.ToUpperInvariant()}", null, HttpStatusCode.NotFound),
            ("DELETE", $"/admin/tenants/{t}/oauth-clients/{foreign.ClientId}/secrets/{foreign.SecretId}", null, HttpStatusCode.NotFound),
            ("DELETE", $"/admin/tenants/{otherTenant.TenantId}/oauth-clients/{c}", null, HttpStatusCode.NotFound),
            ("DELETE", $"/admin/tenants/{t}/oauth-clients/{foreign.ClientId}", null, HttpStatusCode.NotFound),
            ("DELETE", $"/admin/tenants/{t}/oauth-clients/{c}x", null, HttpStatusCode.NotFound),
            ("DELETE", $"/admin/tenants/{t}/oauth-clients/{new string('a', 500)}", null, HttpStatusCode.NotFound),
            ("GET", "/admin/tenants/0123456789abcdef0123456789abcdef/oauth-clients", null, HttpStatusCode.NotFound),
            ("PUT", $"/admin/tenants/{t}/oauth-clients", "{}", HttpStatusCode.MethodNotAllowed),
        };

        using var admin = gateway.AdminClient();
        foreach (var (method, path, body, status) in cases)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            }

            using var response = await admin.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, $"{method} {path} {body}: {(int)response.StatusCode} {text}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.DoesNotContain(ClientSecrets.Prefix, text, StringComparison.Ordinal);
        }

        Assert.Equal(before, Describe(await grain.GetOAuthClientsAsync()));
        Assert.Equal(otherBefore, Describe(await otherGrain.GetOAuthClientsAsync()));
    }

    [Fact]
    public async Task ClientsAndSecretsAreListedWithoutSecretsAndBounded()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var admin = gateway.AdminClient();
        using (var created = await admin.PostAsync($"/admin/tenants/{tenant.TenantId}/oauth-clients", new StringContent("{\"expiresInDays\":730}", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var body = await created.ReadJsonAsync();
            var expires = body["expiresAt"]!.GetValue<DateTimeOffset>();
            Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromDays(729), TimeSpan.FromDays(730));
            Assert.Equal(tenant.ScimUrl, body["scimUrl"].Str());
            Assert.EndsWith($"/oauth-clients/{body["clientId"].Str()}", created.Headers.Location!.ToString(), StringComparison.Ordinal);
        }

        var client = await gateway.CreateOAuthClientAsync(tenant);
        for (var i = 1; i < ClientSecrets.MaxActive; i++)
        {
            await gateway.AddSecretAsync(client);
        }

        using (var sixth = await admin.PostAsync($"/admin/tenants/{tenant.TenantId}/oauth-clients/{client.ClientId}/secrets", null))
        {
            Assert.Equal(HttpStatusCode.Conflict, sixth.StatusCode);
            Assert.Equal("application/problem+json", sixth.Content.Headers.ContentType?.MediaType);
        }

        using (var list = await admin.GetAsync($"/admin/tenants/{tenant.TenantId}/oauth-clients"))
        {
            var text = await list.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
            Assert.DoesNotContain(ClientSecrets.Prefix, text, StringComparison.Ordinal);
            var body = await list.ReadJsonAsync();
            Assert.Equal("http://localhost/oauth2/token", body["tokenEndpoint"].Str());
            var clients = body["clients"]!.AsArray();
            Assert.Equal(2, clients.Count);
            Assert.Equal(ClientSecrets.MaxActive, clients.Single(x => x!["clientId"].Str() == client.ClientId)!["secrets"]!.AsArray().Count);
        }

        for (var i = 2; i < 10; i++)
        {
            await gateway.CreateOAuthClientAsync(tenant);
        }

        using var eleventh = await admin.PostAsync($"/admin/tenants/{tenant.TenantId}/oauth-clients", null);
        Assert.Equal(HttpStatusCode.Conflict, eleventh.StatusCode);
    }

    /// <summary>The authentication model: each surface with each kind of credential (right tenant, wrong tenant, expired, revoked).</summary>
    [Fact]
    public async Task EachSurfaceAcceptsOnlyItsOwnCredentialOfTheRightTenant()
    {
        var tenantA = await gateway.CreateTenantAsync("A");
        var tenantB = await gateway.CreateTenantAsync("B");
        var clientA = await gateway.CreateOAuthClientAsync(tenantA);
        var clientB = await gateway.CreateOAuthClientAsync(tenantB);
        var revokedClient = await gateway.CreateOAuthClientAsync(tenantA);
        var revokedAccessToken = await gateway.AccessTokenAsync(revokedClient);
        using var admin = gateway.AdminClient();
        using var issued = await admin.PostAsync($"/admin/tenants/{tenantA.TenantId}/tokens", null);
        var revokedToken = (await issued.ReadJsonAsync())["secret"].Str();
        (await admin.DeleteAsync($"/admin/tenants/{tenantA.TenantId}/tokens/{(await issued.ReadJsonAsync())["id"].Str()}")).Dispose();
        (await admin.DeleteAsync($"/admin/tenants/{tenantA.TenantId}/oauth-clients/{revokedClient.ClientId}")).Dispose();
        var expired = await OAuthClients.SignAsync(gateway.Grains(), OAuthClients.Claims(clientA, DateTime.UtcNow.AddHours(-3)));

        var credentials = new (string Name, string Bearer, bool Scim, bool Admin)[]
        {
            ("secret token of A", tenantA.Token, true, false),
            ("secret token of B", tenantB.Token, false, false),
            ("revoked secret token of A", revokedToken, false, false),
            ("access token of A", await gateway.AccessTokenAsync(clientA), true, false),
            ("access token of B", await gateway.AccessTokenAsync(clientB), false, false),
            ("expired access token of A", expired, false, false),
            ("revoked client's access token of A", revokedAccessToken, false, false),
            ("client secret of A as a bearer", clientA.Secret, false, false),
            ("operator key", GatewayFactory.AdminKey, false, true),
        };

        using var http = gateway.CreateClient();
        foreach (var (name, bearer, scimOk, adminOk) in credentials)
        {
            // SCIM, tenant A's URL.
            using (var scim = gateway.ScimClient(tenantA, bearer))
            {
                await Eventually.TrueAsync(
                    async () =>
                    {
                        using var response = await scim.GetAsync("Users");
                        return response.StatusCode == (scimOk ? HttpStatusCode.OK : HttpStatusCode.Unauthorized);
                    },
                    what: $"SCIM with {name} answers as expected");
            }

            // Admin.
            using (var request = new HttpRequestMessage(HttpMethod.Get, $"/admin/tenants/{tenantA.TenantId}"))
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
                using var response = await http.SendAsync(request);
                Assert.True(response.StatusCode == (adminOk ? HttpStatusCode.OK : HttpStatusCode.Unauthorized), $"admin with {name}: {response.StatusCode}");
            }

            // OAuth: no bearer credential authenticates a client.
            using (var request = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token") { Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]) })
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
                using var response = await http.SendAsync(request);
                await response.ExpectOAuthErrorAsync(HttpStatusCode.Unauthorized, "invalid_client");
            }
        }
    }

    private static string Describe(IReadOnlyList<OAuthClientInfo>? clients) =>
        string.Join(";", (clients ?? []).Select(c => c.ClientId + ":" + string.Join(",", c.Secrets.Select(s => s.SecretId + "@" + s.ExpiresAt.ToUnixTimeSeconds()))));
}
