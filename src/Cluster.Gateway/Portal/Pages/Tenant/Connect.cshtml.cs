using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cluster.Gateway.Portal.Pages.Tenant;

/// <summary>
/// Connect Microsoft Entra ID: the Tenant URL, Secret Tokens (generated here and shown once; listed and revoked), and the
/// Entra admin center's steps with this tenant's values.
/// </summary>
public sealed class ConnectModel(PortalTenant portal, IGrainFactory grains, ILogger<ConnectModel> logger) : PageModel
{
    [FromRoute]
    public string TenantId { get; set; } = "";

    public Cluster.Abstractions.TenantInfo? Tenant { get; private set; }

    public string TenantUrl { get; private set; } = "";

    public Cluster.Abstractions.IssuedToken? NewToken { get; private set; }

    public string? Message { get; private set; }

    public bool MessageIsError { get; private set; }

    public Task<IActionResult> OnGetAsync() => RenderAsync();

    public async Task<IActionResult> OnPostGenerateAsync()
    {
        if (await portal.LoadAsync(TenantId) is null)
        {
            return NotFound();
        }

        NewToken = await Tenants().IssueTokenAsync();
        if (NewToken is null)
        {
            (Message, MessageIsError) = ("This organisation already has the most tokens allowed. Revoke an old one first.", true);
            Response.StatusCode = StatusCodes.Status409Conflict;
        }
        else
        {
            GatewayLog.TokenIssued(logger, TenantId, NewToken.Id);
        }

        return await RenderAsync();
    }

    public async Task<IActionResult> OnPostRevokeAsync(string? tokenId)
    {
        if (string.IsNullOrEmpty(tokenId) || tokenId.Length > 64 || !await Tenants().RevokeTokenAsync(tokenId))
        {
            (Message, MessageIsError) = ("No such token.", true);
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }
        else
        {
            GatewayLog.TokenRevoked(logger, TenantId, tokenId);
            (Message, MessageIsError) = ($"Token {tokenId} is revoked: Entra's requests with it are refused within a few seconds.", false);
        }

        return await RenderAsync();
    }

    private async Task<IActionResult> RenderAsync()
    {
        Tenant = await portal.LoadAsync(TenantId);
        if (Tenant is null)
        {
            return NotFound();
        }

        TenantUrl = portal.TenantUrl(this, TenantId);
        ViewData["Nav"] = PortalTenant.Navigation(TenantId, "connect", User.HasClaim(c => c.Type == PortalHosting.Claims.Operator));
        return Page();
    }

    private Cluster.Abstractions.ITenantGrain Tenants() =>
        grains.GetGrain<Cluster.Abstractions.ITenantGrain>(Cluster.Abstractions.GrainKeys.Tenant(TenantId));
}
