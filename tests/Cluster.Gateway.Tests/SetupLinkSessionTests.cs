using System.Net;
using System.Text.RegularExpressions;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>
/// A setup link's GET starts no session (login CSRF: another site could sign its visitors in to a tenant of its choosing):
/// it names the tenant and carries a form; only that form, posted with its antiforgery token and cookie, starts one.
/// </summary>
public sealed partial class SetupLinkSessionTests
{
    [Fact]
    public async Task OnlyTheLinksOwnFormStartsASession()
    {
        await using var gateway = GatewayFactory.With(new Dictionary<string, string?>());
        var tenant = await gateway.CreateTenantAsync("Tailspin <Toys>");
        var link = await gateway.SetupLinkPathAsync(tenant.TenantId);
        using var browser = gateway.CreateClient(new() { HandleCookies = false, AllowAutoRedirect = false });

        using var opened = await browser.GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        var html = await opened.Content.ReadAsStringAsync();
        Assert.Contains("Set up provisioning for Tailspin &lt;Toys&gt;", html, StringComparison.Ordinal);
        var cookies = opened.Headers.GetValues("Set-Cookie").Select(c => c.Split(';', 2)[0]).ToList();
        Assert.DoesNotContain(cookies, c => c.StartsWith("scim-portal=", StringComparison.Ordinal));
        var token = Token().Match(html).Groups[1].Value;
        Assert.NotEmpty(token);

        // The form without the page's cookie (another site's post carries none), or without its token: 400, no session.
        foreach (var (cookie, field) in new[] { ("", token), (string.Join("; ", cookies), "forged") })
        {
            using var forged = new HttpRequestMessage(HttpMethod.Post, link) { Content = new FormUrlEncodedContent([new("__RequestVerificationToken", field)]) };
            if (cookie.Length > 0)
            {
                forged.Headers.Add("Cookie", cookie);
            }

            using var refused = await browser.SendAsync(forged);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.False(refused.Headers.TryGetValues("Set-Cookie", out var set) && set.Any(c => c.StartsWith("scim-portal=", StringComparison.Ordinal)));
        }

        // The page's own form: a session for the link's tenant, and the portal.
        using var open = new HttpRequestMessage(HttpMethod.Post, link) { Content = new FormUrlEncodedContent([new("__RequestVerificationToken", token)]) };
        open.Headers.Add("Cookie", string.Join("; ", cookies));
        using var continued = await browser.SendAsync(open);
        Assert.Equal(HttpStatusCode.Redirect, continued.StatusCode);
        Assert.Equal($"/portal/t/{tenant.TenantId}", continued.Headers.Location!.OriginalString);
        var session = continued.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("scim-portal=", StringComparison.Ordinal)).Split(';', 2)[0];

        using var portal = new HttpRequestMessage(HttpMethod.Get, $"/portal/t/{tenant.TenantId}");
        portal.Headers.Add("Cookie", session);
        Assert.Equal(HttpStatusCode.OK, (await browser.SendAsync(portal)).StatusCode);

        // Opened again in the same browser, the link goes straight to the portal it is signed in to.
        using var again = new HttpRequestMessage(HttpMethod.Get, link);
        again.Headers.Add("Cookie", session);
        using var redirected = await browser.SendAsync(again);
        Assert.Equal(HttpStatusCode.Redirect, redirected.StatusCode);
        Assert.Equal($"/portal/t/{tenant.TenantId}", redirected.Headers.Location!.OriginalString);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex Token();
}
