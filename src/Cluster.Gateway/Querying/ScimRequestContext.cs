using Cluster.Gateway.Hosting;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Querying;

/// <summary>Where a tenant's SCIM endpoint lives, as seen by clients.</summary>
public static class ScimUrls
{
    /// <summary>The route value that carries the tenant id.</summary>
    public const string TenantRouteValue = Http.Surfaces.TenantRouteValue;

    /// <summary>The route prefix of one tenant's SCIM endpoint.</summary>
    public const string TenantRoutePrefix = Http.Surfaces.TenantsPrefix + "/{" + TenantRouteValue + "}";

    /// <summary>The Tenant URL an admin pastes into Entra: <c>{base}/scim/v2/tenants/{tenantId}</c>.</summary>
    public static string TenantBase(HttpRequest request, IOptions<GatewayOptions> options, string tenantId) =>
        $"{PublicRoot(request, options.Value)}/scim/v2/tenants/{tenantId}";

    /// <summary>The gateway's public base URL: <c>Gateway:PublicBaseUrl</c>, else the request's scheme and host.</summary>
    public static string PublicRoot(HttpRequest request, GatewayOptions options)
    {
        var configured = options.PublicBaseUrl.TrimEnd('/');
        return configured.Length > 0 ? configured : $"{request.Scheme}://{request.Host}{request.PathBase}";
    }
}
