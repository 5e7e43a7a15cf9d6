using System.Security.Claims;
using Cluster.Gateway.Limits;
using Cluster.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cluster.Gateway.Portal.Pages;

/// <summary>The operator's way in: the operator key once, then a session cookie (the key itself is never stored in it).</summary>
public sealed class SignInModel(PortalSessions sessions, FailedAuthenticationLimiter failures, ScimInstruments instruments) : PageModel
{
    public string? Error { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(string? key)
    {
        // Wrong keys spend the client address's budget of failed authentications, as wrong tokens do.
        using var attempt = failures.Begin(HttpContext.Connection.RemoteIpAddress);
        if (attempt.RetryAfter is { } wait)
        {
            instruments.LimitRejected(ScimInstruments.LimitReasons.FailedAuthentication, null);
            Response.Headers.RetryAfter = ScimRateLimiting.RetryAfterSeconds(wait);
            Error = "Too many failed sign-ins from this address. Wait a moment and try again.";
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            return Page();
        }

        if (string.IsNullOrEmpty(key) || key.Length > 512 || !sessions.IsOperatorKey(key))
        {
            attempt.Failed();
            Error = "That is not the operator key.";
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }

        var identity = new ClaimsIdentity([new(PortalHosting.Claims.Operator, sessions.OperatorFingerprint)], PortalHosting.Scheme);
        await HttpContext.SignInAsync(PortalHosting.Scheme, new ClaimsPrincipal(identity));
        return Redirect("/portal/operator");
    }
}
