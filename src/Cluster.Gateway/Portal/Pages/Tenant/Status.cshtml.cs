using Cluster.Gateway.RequestLog;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cluster.Gateway.Portal.Pages.Tenant;

/// <summary>
/// Is Entra connected, and is it working: the last request and the last Test Connection, users (active, disabled) and groups,
/// and the last error Entra received from us with its SCIM error (<see cref="TenantStatusReader"/>, as the admin API's status).
/// </summary>
public sealed class StatusModel(TenantStatusReader reader) : PageModel
{
    [FromRoute]
    public string TenantId { get; set; } = "";

    public TenantConnectionStatus? Status { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        Status = await reader.ReadAsync(TenantId);
        if (Status is null)
        {
            return NotFound();
        }

        ViewData["Nav"] = PortalTenant.Navigation(TenantId, "status", User.HasClaim(c => c.Type == PortalHosting.Claims.Operator));
        return Page();
    }

    /// <summary>The last refusal was of an OAuth client's token request (its secret), not of a Secret Token.</summary>
    public bool OAuthRefused => Status?.Log.LastError?.Operation == Cluster.Abstractions.RequestLogOperations.Token;

    /// <summary>A time as the portal shows it (UTC), or the text for "never".</summary>
    public static string When(DateTimeOffset? at, string never = "Never") =>
        at?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture) ?? never;
}
