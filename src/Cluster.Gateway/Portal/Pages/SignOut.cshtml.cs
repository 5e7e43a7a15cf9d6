using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cluster.Gateway.Portal.Pages;

/// <summary>
/// Ends the portal session: a POST with its antiforgery token, from every signed-in page's header. A GET changes nothing
/// (a link or a prefetch must not end a session), so it says whether a session is still open.
/// </summary>
public sealed class SignOutModel : PageModel
{
    public bool SignedOut { get; private set; }

    public IActionResult OnGet()
    {
        SignedOut = User.Identity?.IsAuthenticated != true;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(PortalHosting.Scheme);
        HttpContext.User = new ClaimsPrincipal(new ClaimsIdentity()); // this answer's header offers no sign-out any more
        SignedOut = true;
        return Page();
    }
}
