using Cluster.Abstractions;
using Cluster.Gateway.Admin;
using Cluster.Gateway.Credentials;
using Cluster.Gateway.Hosting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Portal.Pages.Tenant;

/// <summary>
/// Connect Microsoft Entra ID: the Tenant URL, Secret Tokens (generated here and shown once; listed and revoked), OAuth client
/// credentials (created, rotated and revoked; a secret shown once), and the Entra admin center's steps with this tenant's values.
/// Every change goes through <see cref="TenantCredentialService"/>, as the admin API's do.
/// </summary>
public sealed class ConnectModel(PortalTenant portal, TenantCredentialService credentials, IOptions<GatewayOptions> options) : PageModel
{
    [FromRoute]
    public string TenantId { get; set; } = "";

    public TenantInfo? Tenant { get; private set; }

    public string TenantUrl { get; private set; } = "";

    public string TokenEndpoint { get; private set; } = "";

    public IReadOnlyList<OAuthClientInfo> Clients { get; private set; } = [];

    public IssuedToken? NewToken { get; private set; }

    public IssuedClientSecret? NewSecret { get; private set; }

    public string? Message { get; private set; }

    public bool MessageIsError { get; private set; }

    /// <summary>Which section the message belongs to: "token" or "oauth".</summary>
    public string MessageSection { get; private set; } = "token";

    public Task<IActionResult> OnGetAsync() => RenderAsync();

    public async Task<IActionResult> OnPostGenerateAsync()
    {
        var issued = await credentials.IssueTokenAsync(TenantId);
        switch (issued.Outcome)
        {
            case IssueOutcome.Issued:
                NewToken = issued.Credential;
                break;
            case IssueOutcome.TooMany:
                Fail("token", StatusCodes.Status409Conflict, "This organisation already has the most tokens allowed. Revoke an old one first.");
                break;
            default:
                return NotFound();
        }

        return await RenderAsync();
    }

    public async Task<IActionResult> OnPostRevokeAsync(string? tokenId)
    {
        if (string.IsNullOrEmpty(tokenId) || !await credentials.RevokeTokenAsync(TenantId, tokenId))
        {
            Fail("token", StatusCodes.Status400BadRequest, "No such token.");
        }
        else
        {
            Done("token", $"Token {tokenId} is revoked: Entra's requests with it are refused within a few seconds.");
        }

        return await RenderAsync();
    }

    public async Task<IActionResult> OnPostCreateClientAsync() => await IssuedAsync(await credentials.CreateOAuthClientAsync(TenantId, ClientSecrets.DefaultLifetime),
        "This organisation already has the most OAuth clients allowed. Revoke one first.");

    public async Task<IActionResult> OnPostAddSecretAsync(string? clientId) => string.IsNullOrEmpty(clientId)
        ? await NoSuchClientAsync()
        : await IssuedAsync(await credentials.AddClientSecretAsync(TenantId, clientId, ClientSecrets.DefaultLifetime),
            $"A client has at most {ClientSecrets.MaxActive} active secrets. Revoke an old one first.");

    public async Task<IActionResult> OnPostRevokeSecretAsync(string? clientId, string? secretId)
    {
        if (string.IsNullOrEmpty(clientId) || string.IsNullOrEmpty(secretId) || !await credentials.RevokeClientSecretAsync(TenantId, clientId, secretId))
        {
            Fail("oauth", StatusCodes.Status400BadRequest, "No such OAuth client or secret.");
        }
        else
        {
            Done("oauth", $"Secret {secretId} is revoked: it obtains no more access tokens.");
        }

        return await RenderAsync();
    }

    public async Task<IActionResult> OnPostRevokeClientAsync(string? clientId)
    {
        if (string.IsNullOrEmpty(clientId) || !await credentials.RevokeOAuthClientAsync(TenantId, clientId))
        {
            return await NoSuchClientAsync();
        }

        Done("oauth", $"OAuth client {clientId} is revoked: its access tokens are refused within a few seconds.");
        return await RenderAsync();
    }

    private async Task<IActionResult> IssuedAsync(Issued<IssuedClientSecret> issued, string tooMany)
    {
        switch (issued.Outcome)
        {
            case IssueOutcome.Issued:
                NewSecret = issued.Credential;
                break;
            case IssueOutcome.TooMany:
                Fail("oauth", StatusCodes.Status409Conflict, tooMany);
                break;
            default:
                // A tenant that does not exist answers 404 on render; a client that does not, a form error.
                return await portal.LoadAsync(TenantId) is null ? NotFound() : await NoSuchClientAsync();
        }

        return await RenderAsync();
    }

    private async Task<IActionResult> NoSuchClientAsync()
    {
        Fail("oauth", StatusCodes.Status400BadRequest, "No such OAuth client.");
        return await RenderAsync();
    }

    private void Fail(string section, int status, string message)
    {
        (Message, MessageIsError, MessageSection) = (message, true, section);
        Response.StatusCode = status;
    }

    private void Done(string section, string message) => (Message, MessageIsError, MessageSection) = (message, false, section);

    private async Task<IActionResult> RenderAsync()
    {
        Tenant = await portal.LoadAsync(TenantId);
        if (Tenant is null)
        {
            return NotFound();
        }

        Clients = await credentials.ListOAuthClientsAsync(TenantId) ?? [];
        TenantUrl = portal.TenantUrl(this, TenantId);
        TokenEndpoint = OAuthClientEndpoints.TokenEndpointUrl(Request, options);
        ViewData["Nav"] = PortalTenant.Navigation(TenantId, "connect", User.HasClaim(c => c.Type == PortalHosting.Claims.Operator));
        return Page();
    }
}
