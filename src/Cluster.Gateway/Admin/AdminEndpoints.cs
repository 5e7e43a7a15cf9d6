using System.Text.Json.Serialization;
using Cluster.Abstractions;
using Cluster.Gateway.Auth;
using Cluster.Gateway.Credentials;
using Cluster.Gateway.Hosting;
using Cluster.Gateway.Http;
using Cluster.Gateway.Querying;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Admin;

/// <summary>
/// The operator's API: create tenants and hand out the provisioning information (Tenant URL + Secret Token),
/// rotate and revoke tokens and OAuth clients (<see cref="TenantCredentialService"/>). Secrets appear only in the responses
/// that create them.
/// </summary>
public static class AdminEndpoints
{
    public static IEndpointRouteBuilder MapAdmin(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin")
            .WithMetadata(new SurfaceMetadata(Surface.Admin))
            .RequireAuthorization(GatewayAuthentication.OperatorPolicy)
            .AddEndpointFilter(NotStored);
        admin.MapPost("/tenants", CreateTenantAsync);
        admin.MapGet("/tenants/{tenantId}", GetTenantAsync);
        admin.MapTenantLifecycle();
        admin.MapPost("/tenants/{tenantId}/tokens", IssueTokenAsync);
        admin.MapDelete("/tenants/{tenantId}/tokens/{tokenId}", RevokeTokenAsync);
        admin.MapOAuthClients();
        admin.MapEventFeed();
        admin.MapSetupLinks();
        admin.MapRequestLog();
        return app;
    }

    // Answers that create a credential carry its secret (a token, an OAuth client secret, a webhook secret, a setup link),
    // and the others carry tenants' data: no cache along the way may keep any of them.
    private static ValueTask<object?> NotStored(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        SurfaceErrors.NotStored(context.HttpContext.Response);
        return next(context);
    }

    private static async Task<Results<Created<CreatedTenant>, ProblemHttpResult>> CreateTenantAsync(
        CreateTenantRequest? body, HttpRequest request, TenantLifecycleService tenants, IOptions<GatewayOptions> options)
    {
        if (TenantLifecycleService.ValidName(body?.Name) is not { } name)
        {
            return TenantLifecycleEndpoints.InvalidName();
        }

        if (await tenants.CreateAsync(name) is not { } tenant)
        {
            return TypedResults.Problem(statusCode: 409, title: "Tenant id collision", detail: "Retry the request.");
        }

        var token = tenant.Token;
        var created = new CreatedTenant(tenant.TenantId, name, ScimUrls.TenantBase(request, options, tenant.TenantId), new TokenSecret(token.Id, token.Secret, token.CreatedAt));
        return TypedResults.Created($"/admin/tenants/{tenant.TenantId}", created);
    }

    // The tenant with its counts and last request (O(1) each), or the progress of its deletion until it is gone (issue 13).
    private static async Task<IResult> GetTenantAsync(string tenantId, HttpRequest request, IGrainFactory grains, IOptions<GatewayOptions> options)
    {
        if (!GrainKeys.IsValidId(tenantId) || await grains.Grain<ITenantGrain>(GrainKeys.Tenant(tenantId)).GetSummaryAsync() is not { } summary)
        {
            return TenantNotFound();
        }

        return TypedResults.Json(TenantLifecycleEndpoints.View(summary, ScimUrls.TenantBase(request, options, tenantId)));
    }

    private static async Task<Results<Created<TokenSecret>, ProblemHttpResult>> IssueTokenAsync(string tenantId, TenantCredentialService credentials) =>
        await credentials.IssueTokenAsync(tenantId) switch
        {
            { Outcome: IssueOutcome.Issued, Credential: { } token } =>
                TypedResults.Created($"/admin/tenants/{tenantId}/tokens/{token.Id}", new TokenSecret(token.Id, token.Secret, token.CreatedAt)),
            { Outcome: IssueOutcome.TooMany } => TypedResults.Problem(statusCode: 409, title: "Too many tokens", detail: "Revoke an old token before issuing another."),
            _ => TenantNotFound(),
        };

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeTokenAsync(string tenantId, string tokenId, TenantCredentialService credentials) =>
        await credentials.RevokeTokenAsync(tenantId, tokenId)
            ? TypedResults.NoContent()
            : TypedResults.Problem(statusCode: 404, title: "Not found", detail: "No such tenant or token.");

    // A problem+json body (TypedResults.NotFound(problem) would send it as application/json: found by the fuzzing harness).
    internal static ProblemHttpResult TenantNotFound() =>
        TypedResults.Problem(statusCode: 404, title: "Not found", detail: "No such tenant.");
}

/// <summary><c>POST /admin/tenants</c> body.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)] // a misspelt member is a 400, not a default
public sealed record CreateTenantRequest(string? Name);

/// <summary>A token with its secret: returned once, at creation.</summary>
public sealed record TokenSecret(string Id, string Secret, DateTimeOffset CreatedAt);

/// <summary>The provisioning information an admin pastes into Entra: Tenant URL (<c>scimUrl</c>) and Secret Token.</summary>
public sealed record CreatedTenant(string TenantId, string Name, string ScimUrl, TokenSecret Token);

