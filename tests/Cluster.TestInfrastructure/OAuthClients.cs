using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Grains.Events.Webhooks;
using Cluster.Grains.OAuth;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Cluster.TestInfrastructure;

/// <summary>An OAuth client as the admin API returned it: client id, one secret (with its id) and the token endpoint.</summary>
public sealed record TestOAuthClient(string TenantId, string ClientId, string SecretId, string Secret, string TokenEndpoint);

/// <summary>OAuth client credentials (issue 13) the way an operator and Entra use them: through the admin API and <c>/oauth2/token</c>.</summary>
public static class OAuthClients
{
    /// <summary>Creates an OAuth client of <paramref name="tenant"/> through the admin API.</summary>
    public static async Task<TestOAuthClient> CreateOAuthClientAsync(this GatewayFactory gateway, TestTenant tenant)
    {
        using var admin = gateway.AdminClient();
        using var response = await admin.PostAsync($"/admin/tenants/{tenant.TenantId}/oauth-clients", null);
        response.EnsureSuccessStatusCode();
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        return new TestOAuthClient(
            tenant.TenantId,
            body["clientId"]!.GetValue<string>(),
            body["secretId"]!.GetValue<string>(),
            body["clientSecret"]!.GetValue<string>(),
            body["tokenEndpoint"]!.GetValue<string>());
    }

    /// <summary>Adds a secret to the client (rotation) and returns the client with that secret.</summary>
    public static async Task<TestOAuthClient> AddSecretAsync(this GatewayFactory gateway, TestOAuthClient client)
    {
        using var admin = gateway.AdminClient();
        using var response = await admin.PostAsync($"/admin/tenants/{client.TenantId}/oauth-clients/{client.ClientId}/secrets", null);
        response.EnsureSuccessStatusCode();
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        return client with { SecretId = body["secretId"]!.GetValue<string>(), Secret = body["clientSecret"]!.GetValue<string>() };
    }

    /// <summary>POSTs a client credentials request with <c>client_secret_basic</c> (or <c>client_secret_post</c>).</summary>
    public static Task<HttpResponseMessage> RequestTokenAsync(this HttpClient http, TestOAuthClient client, bool post = false, string? secret = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token");
        var form = new List<KeyValuePair<string, string>> { new("grant_type", "client_credentials") };
        if (post)
        {
            form.Add(new("client_id", client.ClientId));
            form.Add(new("client_secret", secret ?? client.Secret));
        }
        else
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", BasicCredentials(client.ClientId, secret ?? client.Secret));
        }

        request.Content = new FormUrlEncodedContent(form);
        return http.SendAsync(request);
    }

    /// <summary>A valid access token for the client (fails the test otherwise).</summary>
    public static async Task<string> AccessTokenAsync(this GatewayFactory gateway, TestOAuthClient client)
    {
        using var http = gateway.CreateClient();
        using var response = await http.RequestTokenAsync(client);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["access_token"]!.GetValue<string>();
    }

    /// <summary><c>base64(urlencode(id):urlencode(secret))</c> (RFC 6749 §2.3.1).</summary>
    public static string BasicCredentials(string clientId, string secret) =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(Uri.EscapeDataString(clientId) + ":" + Uri.EscapeDataString(secret)));

    /// <summary>
    /// Signs any claims with the cluster's current signing key, the way the issuer grain does (test-only: to make tokens the
    /// token endpoint never would, such as expired ones or ones naming another tenant).
    /// </summary>
    public static async Task<string> SignAsync(IGrainFactory grains, Action<SecurityTokenDescriptor> describe, string? keyId = null, string tokenType = AccessTokenClaims.TokenType)
    {
        var material = await grains.GetGrain<ISigningKeySetGrain>(GrainKeys.SigningKeySet).GetSigningKeyAsync();
        var signer = SigningKeySetGrain.SigningCredentialsOf(material, new WebhookSecretProtector(Convert.FromBase64String(TestEvents.SecretKey)));
        var descriptor = new SecurityTokenDescriptor
        {
            TokenType = tokenType,
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(((ECDsaSecurityKey)signer.Key).ECDsa) { KeyId = keyId ?? material.Key.KeyId }, SecurityAlgorithms.EcdsaSha256),
        };
        describe(descriptor);
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// <summary>The claims the issuer grain would put in a token of <paramref name="client"/>, valid from <paramref name="issuedAt"/> for an hour.</summary>
    public static Action<SecurityTokenDescriptor> Claims(TestOAuthClient client, DateTime issuedAt, string issuer = "http://localhost", string audience = "scim", string? tenantId = null) => d =>
    {
        d.Issuer = issuer;
        d.Audience = audience;
        d.IssuedAt = issuedAt;
        d.NotBefore = issuedAt;
        d.Expires = issuedAt.AddHours(1);
        d.Claims = new Dictionary<string, object>
        {
            [JwtRegisteredClaimNames.Sub] = client.ClientId,
            [AccessTokenClaims.ClientId] = client.ClientId,
            [AccessTokenClaims.Tenant] = tenantId ?? client.TenantId,
            [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
        };
    };

    /// <summary>The grain factory of a gateway (its co-hosted silo's cluster).</summary>
    public static IGrainFactory Grains(this GatewayFactory gateway) => gateway.Services.GetRequiredService<IGrainFactory>();
}
