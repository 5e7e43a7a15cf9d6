using Cluster.Abstractions;
using Cluster.Gateway.Hosting;
using Cluster.Gateway.Querying;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Portal;

/// <summary>What every page of one tenant's portal shows and needs: the tenant, its Tenant URL, the navigation.</summary>
public sealed class PortalTenant(IGrainFactory grains, IOptions<GatewayOptions> options)
{
    /// <summary>The tenant's profile, or null when it does not exist (the page then answers 404).</summary>
    public Task<TenantInfo?> LoadAsync(string tenantId) =>
        GrainKeys.IsValidId(tenantId) ? grains.Grain<ITenantGrain>(GrainKeys.Tenant(tenantId)).GetInfoAsync() : Task.FromResult<TenantInfo?>(null);

    /// <summary>The Tenant URL the admin pastes into Entra.</summary>
    public string TenantUrl(PageModel page, string tenantId) => ScimUrls.TenantBase(page.Request, options, tenantId);

    /// <summary>The navigation of a tenant's pages, with the current one marked.</summary>
    public static IReadOnlyList<(string Text, string Href, bool Current)> Navigation(string tenantId, string current, bool operatorSession)
    {
        List<(string, string, bool)> items =
        [
            ("Connect Entra", $"/portal/t/{tenantId}", current == "connect"),
            ("Status", $"/portal/t/{tenantId}/status", current == "status"),
            ("Provisioning log", $"/portal/t/{tenantId}/log", current == "log"),
            ("Users", $"/portal/t/{tenantId}/users", current == "users"),
            ("Groups", $"/portal/t/{tenantId}/groups", current == "groups"),
        ];
        if (operatorSession)
        {
            items.Add(("Links and webhook", $"/portal/operator/t/{tenantId}", current == "operator"));
            items.Add(("All tenants", "/portal/operator", false));
        }

        return items;
    }

    /// <summary>The navigation of the operator console's own pages.</summary>
    public static IReadOnlyList<(string Text, string Href, bool Current)> ConsoleNavigation() => [("All tenants", "/portal/operator", true)];
}
