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

    /// <summary>The last refusal was of an access token whose OAuth client was revoked: Entra needs a new client.</summary>
    public bool ClientRevoked => Status?.Log.LastError?.Detail?.StartsWith(RequestLogCapture.RevokedClientDetailStart, StringComparison.Ordinal) == true;

    /// <summary>The last refusal in words, what to make on Connect Entra, and what to paste into Entra.</summary>
    public (string Refused, string Make, string Paste) Refusal =>
        ClientRevoked ? ("a request with an access token of an OAuth client that was revoked", "Create a new OAuth client", "paste its Client ID and Client Secret")
        : OAuthRefused ? ("a request for an access token with an OAuth client secret that is not valid (wrong, expired or revoked)", "Add a new client secret", "paste it")
        : ("a request with a token that is not valid (revoked, expired or mistyped)", "If you revoked the token Entra uses, generate a new Secret Token", "paste it");

    /// <summary>A time as the portal shows it (UTC), or the text for "never".</summary>
    public static string When(DateTimeOffset? at, string never = "Never") =>
        at?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture) ?? never;
}
