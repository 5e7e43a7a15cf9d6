using System.Net;
using Cluster.TestInfrastructure;
using Microsoft.Playwright;

namespace Cluster.Portal.Tests;

/// <summary>
/// <em>Sign out</em>, from the header of every signed-in page, ends the session it was clicked in: the tenant's portal and
/// the operator console answer 401 afterwards in that browser. Until 2026-12-07 its POST was refused (400: the page had no
/// signed-in user to check the form's antiforgery token against) and the session lived on; a GET of the page only showed
/// "Signed out".
/// </summary>
[Collection(PortalFixture.Collection)]
public sealed class SignOutTests(PortalFixture portal)
{
    [Fact]
    public async Task SigningOutEndsATenantSession()
    {
        var tenant = await portal.CreateTenantAsync();
        await using var browser = await portal.NewBrowserAsync();
        var page = await portal.OpenPortalAsync(browser, tenant.TenantId);

        await SignOutAsync(page);

        Assert.Equal(401, (await page.GotoAsync($"/portal/t/{tenant.TenantId}"))!.Status);
        Assert.DoesNotContain(await browser.CookiesAsync(), c => c.Name == "scim-portal");
    }

    [Fact]
    public async Task SigningOutEndsAnOperatorSession()
    {
        await using var browser = await portal.NewBrowserAsync();
        var page = await PortalFixture.SignInAsOperatorAsync(browser);

        await SignOutAsync(page);

        // The console sends a visitor without a session to sign in.
        await page.GotoAsync("/portal/operator");
        Assert.Contains("/portal/signin", page.Url, StringComparison.Ordinal);
        Assert.DoesNotContain(await browser.CookiesAsync(), c => c.Name == "scim-portal");
    }

    [Fact]
    public async Task SigningOutOfASessionTheServerHasEndedClearsIt()
    {
        // The page was loaded before the tenant's setup links were revoked; its Sign out still answers "Signed out" and
        // drops the dead cookie (its antiforgery token named a user the server no longer accepts: a 400 until 2026-12-07).
        var tenant = await portal.CreateTenantAsync();
        await using var browser = await portal.NewBrowserAsync();
        var page = await portal.OpenPortalAsync(browser, tenant.TenantId);
        using (var admin = portal.Admin())
        {
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/admin/tenants/{tenant.TenantId}/setup-links")).StatusCode);
        }

        var probe = await browser.NewPageAsync();
        await Eventually.TrueAsync(async () => (await probe.GotoAsync($"/portal/t/{tenant.TenantId}"))!.Status == 401, what: "the session ended");

        await SignOutAsync(page);
        Assert.DoesNotContain(await browser.CookiesAsync(), c => c.Name == "scim-portal");
    }

    [Fact]
    public async Task OpeningTheSignOutAddressDoesNotClaimASignOut()
    {
        // A GET changes nothing (a link or a prefetch must not end a session), so it must not say the session ended.
        await using var browser = await portal.NewBrowserAsync();
        var page = await PortalFixture.SignInAsOperatorAsync(browser);

        await page.GotoAsync("/portal/signout");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Sign out");
        Assert.Equal(200, (await page.GotoAsync("/portal/operator"))!.Status);
        Assert.EndsWith("/portal/operator", page.Url, StringComparison.Ordinal);
    }

    private static async Task SignOutAsync(IPage page)
    {
        var response = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync(),
            r => r.Request.IsNavigationRequest && r.Request.Method == "POST");
        Assert.Equal(200, response.Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Signed out");
    }
}
