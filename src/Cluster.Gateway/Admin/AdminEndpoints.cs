using Cluster.Abstractions;
using Cluster.Gateway.Auth;
using Cluster.Gateway.Hosting;
using Cluster.Gateway.Http;
using Cluster.Gateway.Querying;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Admin;

/// <summary>
/// The operator's API: create tenants and hand out the provisioning information (Tenant URL + Secret Token),
/// rotate and revoke tokens. Secrets appear only in the responses that create them.
/// </summary>
public static class AdminEndpoints
{
    public static IEndpointRouteBuilder MapAdmin(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin")
            .WithMetadata(new SurfaceMetadata(Surface.Admin))
            .RequireAuthorization(GatewayAuthentication.OperatorPolicy);
        admin.MapPost("/tenants", CreateTenantAsync);
        admin.MapGet("/tenants/{tenantId}", GetTenantAsync);
        admin.MapPost("/tenants/{tenantId}/tokens", IssueTokenAsync);
        admin.MapDelete("/tenants/{tenantId}/tokens/{tokenId}", RevokeTokenAsync);
        admin.MapEventFeed();
        admin.MapRequestLog();
        return app;
    }

    private static async Task<Results<Created<CreatedTenant>, ProblemHttpResult>> CreateTenantAsync(
        CreateTenantRequest? body, HttpRequest request, IGrainFactory grains, TenantCredentialCache credentials, IOptions<GatewayOptions> options, ILogger<CreateTenantRequest> logger)
    {
        var name = body?.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 200 || name.Any(char.IsControl))
        {
            return TypedResults.Problem(statusCode: 400, title: "Invalid tenant name", detail: "'name' is required: 1 to 200 characters, no control characters.");
        }

        var tenantId = GrainKeys.NewTenantId();
        var token = await grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenantId)).CreateAsync(name);
        if (token is null)
        {
            return TypedResults.Problem(statusCode: 409, title: "Tenant id collision", detail: "Retry the request.");
        }

        // This gateway must not keep remembering the new id as unknown. Other gateways can hold such an entry only if
        // a client asked for this 128-bit random id before it existed; it would expire within Gateway:UnknownTenantCacheSeconds.
        credentials.Invalidate(tenantId);
        GatewayLog.TenantCreated(logger, tenantId);
        var created = new CreatedTenant(tenantId, name, ScimUrls.TenantBase(request, options, tenantId), new TokenSecret(token.Id, token.Secret, token.CreatedAt));
        return TypedResults.Created($"/admin/tenants/{tenantId}", created);
    }

    private static async Task<Results<Ok<TenantView>, ProblemHttpResult>> GetTenantAsync(
        string tenantId, HttpRequest request, IGrainFactory grains, ResourceQueries queries, IOptions<GatewayOptions> options)
    {
        if (!GrainKeys.IsValidId(tenantId) || await grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenantId)).GetInfoAsync() is not { } info)
        {
            return TenantNotFound();
        }

        return TypedResults.Ok(new TenantView(
            info.TenantId,
            info.Name,
            info.CreatedAt,
            ScimUrls.TenantBase(request, options, tenantId),
            [.. info.Tokens.Select(t => new TokenView(t.Id, t.CreatedAt))],
            await queries.CountAsync(ResourceKind.User, tenantId)));
    }

    private static async Task<Results<Created<TokenSecret>, ProblemHttpResult>> IssueTokenAsync(
        string tenantId, IGrainFactory grains, ILogger<CreateTenantRequest> logger)
    {
        if (!GrainKeys.IsValidId(tenantId))
        {
            return TenantNotFound();
        }

        var tenant = grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenantId));
        if (await tenant.GetInfoAsync() is null)
        {
            return TenantNotFound();
        }

        if (await tenant.IssueTokenAsync() is not { } token)
        {
            return TypedResults.Problem(statusCode: 409, title: "Too many tokens", detail: "Revoke an old token before issuing another.");
        }

        GatewayLog.TokenIssued(logger, tenantId, token.Id);
        return TypedResults.Created($"/admin/tenants/{tenantId}/tokens/{token.Id}", new TokenSecret(token.Id, token.Secret, token.CreatedAt));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeTokenAsync(
        string tenantId, string tokenId, IGrainFactory grains, TenantCredentialCache credentials, ILogger<CreateTenantRequest> logger)
    {
        if (!GrainKeys.IsValidId(tenantId) || !await grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenantId)).RevokeTokenAsync(tokenId))
        {
            return TypedResults.Problem(statusCode: 404, title: "Not found", detail: "No such tenant or token.");
        }

        credentials.Invalidate(tenantId);
        GatewayLog.TokenRevoked(logger, tenantId, tokenId);
        return TypedResults.NoContent();
    }

    // A problem+json body (TypedResults.NotFound(problem) would send it as application/json: found by the fuzzing harness).
    internal static ProblemHttpResult TenantNotFound() =>
        TypedResults.Problem(statusCode: 404, title: "Not found", detail: "No such tenant.");
}

/// <summary><c>POST /admin/tenants</c> body.</summary>
public sealed record CreateTenantRequest(string? Name);

/// <summary>A token with its secret: returned once, at creation.</summary>
public sealed record TokenSecret(string Id, string Secret, DateTimeOffset CreatedAt);

/// <summary>A token without its secret.</summary>
public sealed record TokenView(string Id, DateTimeOffset CreatedAt);

/// <summary>The provisioning information an admin pastes into Entra: Tenant URL (<c>scimUrl</c>) and Secret Token.</summary>
public sealed record CreatedTenant(string TenantId, string Name, string ScimUrl, TokenSecret Token);

/// <summary>A tenant without secrets.</summary>
public sealed record TenantView(string TenantId, string Name, DateTimeOffset CreatedAt, string ScimUrl, IReadOnlyList<TokenView> Tokens, int UserCount);
