using Cluster.Abstractions;
using Cluster.Gateway.Hosting;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Admin;

/// <summary>
/// Setup links for the customer portal (issue 14): <c>POST /admin/tenants/{tenantId}/setup-links</c>
/// <c>{"expiresInMinutes":1440}</c> (default one day, at most 30 days) → 201 <c>{"url","expiresAt"}</c>, the URL shown once;
/// <c>DELETE /admin/tenants/{tenantId}/setup-links</c> revokes them all (their sessions end within seconds).
/// </summary>
public static class SetupLinkEndpoints
{
    public const int DefaultMinutes = 1440;
    public const int MaxMinutes = 30 * 24 * 60;

    public static RouteGroupBuilder MapSetupLinks(this RouteGroupBuilder admin)
    {
        admin.MapPost("/tenants/{tenantId}/setup-links", CreateAsync);
        admin.MapDelete("/tenants/{tenantId}/setup-links", RevokeAsync);
        return admin;
    }

    /// <summary>The portal URL a setup link opens.</summary>
    public static string Url(HttpRequest request, IOptions<GatewayOptions> options, string tenantId, string secret)
    {
        var configured = options.Value.PublicBaseUrl.TrimEnd('/');
        var root = configured.Length > 0 ? configured : $"{request.Scheme}://{request.Host}{request.PathBase}";
        return $"{root}/portal/setup/{tenantId}/{secret}";
    }

    private static async Task<IResult> CreateAsync(string tenantId, SetupLinkRequest? body, HttpRequest request, IGrainFactory grains, IOptions<GatewayOptions> options, ILogger<SetupLinkRequest> logger)
    {
        var minutes = body?.ExpiresInMinutes ?? DefaultMinutes;
        if (minutes is < 1 or > MaxMinutes)
        {
            return TypedResults.Problem(statusCode: 400, title: "Invalid lifetime", detail: $"'expiresInMinutes' must be 1 to {MaxMinutes} (30 days); default {DefaultMinutes}.");
        }

        if (!GrainKeys.IsValidId(tenantId) || await grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenantId)).GetInfoAsync() is null)
        {
            return TypedResults.Problem(statusCode: 404, title: "Not found", detail: "No such tenant.");
        }

        if (await grains.GetGrain<IPortalAccessGrain>(GrainKeys.PortalAccess(tenantId)).CreateLinkAsync(TimeSpan.FromMinutes(minutes)) is not { } link)
        {
            return TypedResults.Problem(statusCode: 409, title: "Too many setup links", detail: "Revoke the tenant's setup links before making another.");
        }

        GatewayLog.SetupLinkCreated(logger, tenantId, link.Id);
        return TypedResults.Created($"/admin/tenants/{tenantId}/setup-links", new SetupLinkView(Url(request, options, tenantId, link.Secret), link.ExpiresAt));
    }

    private static async Task<IResult> RevokeAsync(string tenantId, IGrainFactory grains, ILogger<SetupLinkRequest> logger)
    {
        if (!GrainKeys.IsValidId(tenantId) || await grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenantId)).GetInfoAsync() is null)
        {
            return TypedResults.Problem(statusCode: 404, title: "Not found", detail: "No such tenant.");
        }

        var revoked = await grains.GetGrain<IPortalAccessGrain>(GrainKeys.PortalAccess(tenantId)).RevokeLinksAsync();
        GatewayLog.SetupLinksRevoked(logger, tenantId, revoked);
        return TypedResults.NoContent();
    }
}

/// <summary><c>POST …/setup-links</c> body.</summary>
public sealed record SetupLinkRequest(int? ExpiresInMinutes);

/// <summary>A setup link as created: the URL (holding the secret) is shown only here.</summary>
public sealed record SetupLinkView(string Url, DateTimeOffset ExpiresAt);
