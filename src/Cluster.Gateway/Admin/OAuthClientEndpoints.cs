using System.Text.Json.Serialization;
using Cluster.Abstractions;
using Cluster.Gateway.Credentials;
using Cluster.Gateway.Hosting;
using Cluster.Gateway.OAuth;
using Cluster.Gateway.Querying;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Admin;

/// <summary>
/// A tenant's OAuth clients in the admin API (issue 13), through <see cref="TenantCredentialService"/>: create a client
/// (its first secret shown once), add a secret for rotation (at most <see cref="ClientSecrets.MaxActive"/> active), revoke a
/// secret, revoke the client, list them. Every input is validated before anything changes; errors are problem+json.
/// </summary>
public static class OAuthClientEndpoints
{
    public static RouteGroupBuilder MapOAuthClients(this RouteGroupBuilder admin)
    {
        admin.MapGet("/tenants/{tenantId}/oauth-clients", ListAsync);
        admin.MapPost("/tenants/{tenantId}/oauth-clients", CreateAsync);
        admin.MapPost("/tenants/{tenantId}/oauth-clients/{clientId}/secrets", AddSecretAsync);
        admin.MapDelete("/tenants/{tenantId}/oauth-clients/{clientId}/secrets/{secretId}", RevokeSecretAsync);
        admin.MapDelete("/tenants/{tenantId}/oauth-clients/{clientId}", RevokeAsync);
        return admin;
    }

    private static async Task<Results<Ok<OAuthClientList>, ProblemHttpResult>> ListAsync(
        string tenantId, HttpRequest request, TenantCredentialService credentials, IOptions<GatewayOptions> options) =>
        await credentials.ListOAuthClientsAsync(tenantId) is { } clients
            ? TypedResults.Ok(new OAuthClientList(TokenEndpointUrl(request, options), [.. clients.Select(c => new OAuthClientView(c.ClientId, c.CreatedAt, [.. c.Secrets.Select(s => new ClientSecretView(s.SecretId, s.CreatedAt, s.ExpiresAt))]))]))
            : AdminEndpoints.TenantNotFound();

    private static async Task<Results<Created<CreatedClientSecret>, ProblemHttpResult>> CreateAsync(
        string tenantId, ClientSecretRequest? body, HttpRequest request, TenantCredentialService credentials, IOptions<GatewayOptions> options)
    {
        if (Lifetime(body) is not { } lifetime)
        {
            return InvalidLifetime();
        }

        return await credentials.CreateOAuthClientAsync(tenantId, lifetime) switch
        {
            { Outcome: IssueOutcome.Issued, Credential: { } secret } => TypedResults.Created(
                $"/admin/tenants/{tenantId}/oauth-clients/{secret.ClientId}", Created(secret, request, options, tenantId)),
            { Outcome: IssueOutcome.TooMany } => TypedResults.Problem(statusCode: 409, title: "Too many OAuth clients", detail: "Revoke a client before creating another."),
            _ => AdminEndpoints.TenantNotFound(),
        };
    }

    private static async Task<Results<Created<CreatedClientSecret>, ProblemHttpResult>> AddSecretAsync(
        string tenantId, string clientId, ClientSecretRequest? body, HttpRequest request, TenantCredentialService credentials, IOptions<GatewayOptions> options)
    {
        if (Lifetime(body) is not { } lifetime)
        {
            return InvalidLifetime();
        }

        return await credentials.AddClientSecretAsync(tenantId, clientId, lifetime) switch
        {
            { Outcome: IssueOutcome.Issued, Credential: { } secret } => TypedResults.Created(
                $"/admin/tenants/{tenantId}/oauth-clients/{clientId}/secrets/{secret.SecretId}", Created(secret, request, options, tenantId)),
            { Outcome: IssueOutcome.TooMany } => TypedResults.Problem(statusCode: 409, title: "Too many client secrets",
                detail: $"A client has at most {ClientSecrets.MaxActive} active secrets: revoke one before adding another."),
            _ => ClientNotFound(),
        };
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeSecretAsync(string tenantId, string clientId, string secretId, TenantCredentialService credentials) =>
        await credentials.RevokeClientSecretAsync(tenantId, clientId, secretId)
            ? TypedResults.NoContent()
            : TypedResults.Problem(statusCode: 404, title: "Not found", detail: "No such tenant, OAuth client or secret.");

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(string tenantId, string clientId, TenantCredentialService credentials) =>
        await credentials.RevokeOAuthClientAsync(tenantId, clientId) ? TypedResults.NoContent() : ClientNotFound();

    // The secret's lifetime: 1 year unless the body names 1 to 3 years' worth of days.
    private static TimeSpan? Lifetime(ClientSecretRequest? body) => body?.ExpiresInDays switch
    {
        null => ClientSecrets.DefaultLifetime,
        >= 1 and <= ClientSecrets.MaxLifetimeDays and var days => TimeSpan.FromDays(days),
        _ => null,
    };

    private static ProblemHttpResult InvalidLifetime() => TypedResults.Problem(statusCode: 400, title: "Invalid secret lifetime",
        detail: $"'expiresInDays' is optional: a whole number of days from 1 to {ClientSecrets.MaxLifetimeDays} (default 365).");

    private static ProblemHttpResult ClientNotFound() => TypedResults.Problem(statusCode: 404, title: "Not found", detail: "No such tenant or OAuth client.");

    private static CreatedClientSecret Created(IssuedClientSecret secret, HttpRequest request, IOptions<GatewayOptions> options, string tenantId) =>
        new(secret.ClientId, secret.Secret, secret.SecretId, secret.ExpiresAt, TokenEndpointUrl(request, options), ScimUrls.TenantBase(request, options, tenantId));

    /// <summary>The token endpoint Entra calls, as this request (or Gateway:PublicBaseUrl) names the gateway.</summary>
    public static string TokenEndpointUrl(HttpRequest request, IOptions<GatewayOptions> options) => ScimUrls.PublicRoot(request, options.Value) + TokenEndpoint.TokenPath;
}

/// <summary>Body of <c>POST …/oauth-clients</c> and <c>POST …/secrets</c> (optional): the secret's lifetime in days.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)] // a misspelt member is a 400, not a default
public sealed record ClientSecretRequest(int? ExpiresInDays);

/// <summary>
/// A client secret as created, shown once, with what an admin enters in Entra: the token endpoint and the Tenant URL.
/// </summary>
public sealed record CreatedClientSecret(string ClientId, string ClientSecret, string SecretId, DateTimeOffset ExpiresAt, string TokenEndpoint, string ScimUrl);

/// <summary>A secret's metadata.</summary>
public sealed record ClientSecretView(string SecretId, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

/// <summary>A client without secrets.</summary>
public sealed record OAuthClientView(string ClientId, DateTimeOffset CreatedAt, IReadOnlyList<ClientSecretView> Secrets);

/// <summary>A tenant's clients, and the token endpoint they use.</summary>
public sealed record OAuthClientList(string TokenEndpoint, IReadOnlyList<OAuthClientView> Clients);
