using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cluster.Gateway.Portal.Pages;

/// <summary>
/// Ends the portal session: a POST, from every signed-in page's header. A GET changes nothing (a link or a prefetch must not
/// end a session), so it says whether a session is still open. The POST needs no antiforgery token: the session cookie is
/// SameSite=Lax, so another site's form never signs anyone out, and a token issued to a session the server has ended since
/// (its setup link revoked, the operator key changed) would refuse the sign-out with a 400 and leave the dead cookie.
/// </summary>
[IgnoreAntiforgeryToken]
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
