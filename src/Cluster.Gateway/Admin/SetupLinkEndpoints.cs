using System.Text.Json.Serialization;
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

    /// <summary>Why <paramref name="minutes"/> is not a setup link's lifetime, or null.</summary>
    public static string? LifetimeError(int minutes) =>
        minutes is < 1 or > MaxMinutes ? $"A setup link lasts 1 to {MaxMinutes} minutes (30 days); default {DefaultMinutes} (one day)." : null;

    /// <summary>
    /// Creates a setup link (the one way, for the admin API and the operator console): null with the reason when the
    /// tenant has too many. The lifetime must have passed <see cref="LifetimeError"/>; the tenant must exist.
    /// </summary>
    public static async Task<SetupLink?> CreateLinkAsync(IGrainFactory grains, string tenantId, int minutes, ILogger logger)
    {
        var link = await grains.Grain<IPortalAccessGrain>(GrainKeys.PortalAccess(tenantId)).CreateLinkAsync(TimeSpan.FromMinutes(minutes));
        if (link is not null)
        {
            GatewayLog.SetupLinkCreated(logger, tenantId, link.Id);
        }

        return link;
    }

    /// <summary>Revokes every setup link of the tenant (the one way): their sessions end within seconds.</summary>
    public static async Task<int> RevokeLinksAsync(IGrainFactory grains, string tenantId, ILogger logger)
    {
        var revoked = await grains.Grain<IPortalAccessGrain>(GrainKeys.PortalAccess(tenantId)).RevokeLinksAsync();
        GatewayLog.SetupLinksRevoked(logger, tenantId, revoked);
        return revoked;
    }

    /// <summary>What an operator is told when a tenant has the most setup links allowed.</summary>
    public const string TooManyLinks = "The tenant has the most active setup links allowed: revoke them before making another.";

    private static async Task<IResult> CreateAsync(string tenantId, SetupLinkRequest? body, HttpRequest request, IGrainFactory grains, IOptions<GatewayOptions> options, ILogger<SetupLinkRequest> logger)
    {
        var minutes = body?.ExpiresInMinutes ?? DefaultMinutes;
        if (LifetimeError(minutes) is { } error)
        {
            return TypedResults.Problem(statusCode: 400, title: "Invalid lifetime", detail: $"'expiresInMinutes': {error}");
        }

        if (!GrainKeys.IsValidId(tenantId) || await grains.Grain<ITenantGrain>(GrainKeys.Tenant(tenantId)).GetInfoAsync() is null)
        {
            return TypedResults.Problem(statusCode: 404, title: "Not found", detail: "No such tenant.");
        }

        if (await CreateLinkAsync(grains, tenantId, minutes, logger) is not { } link)
        {
            return TypedResults.Problem(statusCode: 409, title: "Too many setup links", detail: TooManyLinks);
        }

        return TypedResults.Created($"/admin/tenants/{tenantId}/setup-links", new SetupLinkView(Url(request, options, tenantId, link.Secret), link.ExpiresAt));
    }

    private static async Task<IResult> RevokeAsync(string tenantId, IGrainFactory grains, ILogger<SetupLinkRequest> logger)
    {
        if (!GrainKeys.IsValidId(tenantId) || await grains.Grain<ITenantGrain>(GrainKeys.Tenant(tenantId)).GetInfoAsync() is null)
        {
            return TypedResults.Problem(statusCode: 404, title: "Not found", detail: "No such tenant.");
        }

        await RevokeLinksAsync(grains, tenantId, logger);
        return TypedResults.NoContent();
    }
}

/// <summary><c>POST …/setup-links</c> body.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)] // a misspelt member is a 400, not a default
public sealed record SetupLinkRequest(int? ExpiresInMinutes);

/// <summary>A setup link as created: the URL (holding the secret) is shown only here.</summary>
public sealed record SetupLinkView(string Url, DateTimeOffset ExpiresAt);
