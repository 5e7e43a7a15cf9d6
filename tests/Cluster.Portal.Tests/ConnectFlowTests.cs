using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Cluster.Portal.Tests;

[Collection(PortalFixture.Collection)]
public sealed class ConnectFlowTests(PortalFixture portal)
{
    [Fact]
    public async Task AnAdminConnectsEntraWithTheSetupLink()
    {
        var tenant = await portal.CreateTenantAsync("Fabrikam");
        var link = await portal.SetupLinkAsync(tenant.TenantId);
        await using var browser = await portal.NewBrowserAsync();
        var page = await browser.NewPageAsync();

        // The link names the organisation whose portal it opens, and asks before it starts a session.
        await page.GotoAsync(link);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Set up provisioning for Fabrikam");
        Assert.DoesNotContain(await browser.CookiesAsync(), c => c.Name == "scim-portal");
        await PortalFixture.ContinueAsync(page, tenant.TenantId);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Fabrikam");

        // Copy the Tenant URL with its button, as the admin does.
        await page.GetByRole(AriaRole.Button, new() { Name = "Copy" }).First.ClickAsync();
        var tenantUrl = await page.EvaluateAsync<string>("() => navigator.clipboard.readText()");
        Assert.Equal(tenant.ScimUrl.TrimEnd('/'), tenantUrl.TrimEnd('/'));

        // Generate a Secret Token: shown once.
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate a Secret Token" }).ClickAsync();
        var secret = await page.GetByLabel("New Secret Token").InputValueAsync();
        Assert.False(string.IsNullOrEmpty(secret));

        // Entra's Test Connection with the pasted values: a filter on a random GUID, as Entra sends it.
        using var http = portal.Http();
        using var probe = new HttpRequestMessage(HttpMethod.Get, tenantUrl.TrimEnd('/') + "/Users?filter=" + Uri.EscapeDataString($"userName eq \"{Guid.NewGuid()}\""));
        probe.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        using (var answer = await http.SendAsync(probe))
        {
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        // The status and the provisioning log show the probe (the gateway writes the log in the background: flush it now).
        await portal.FlushRequestLogAsync();
        await Nav(page, "Status").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Connected.");
        Assert.DoesNotContain("Never", await page.Locator("#last-test-connection").InnerTextAsync(), StringComparison.Ordinal);
        await Nav(page, "Provisioning log").ClickAsync();
        var newest = page.Locator("#log tbody tr").First;
        await Assertions.Expect(newest).ToContainTextAsync("(Test Connection)");
        await Assertions.Expect(newest.Locator("td").Nth(4)).ToHaveTextAsync("200");

        // Revoke the token: Entra's next request is refused, and the log shows the refusal.
        await Nav(page, "Connect Entra").ClickAsync();
        await page.Locator("table button", new() { HasText = "Revoke" }).First.ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("is revoked");
        using (var again = new HttpRequestMessage(HttpMethod.Get, tenantUrl.TrimEnd('/') + "/Users?filter=" + Uri.EscapeDataString($"userName eq \"{Guid.NewGuid()}\"")))
        {
            again.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
            using var refused = await http.SendAsync(again);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        await portal.FlushRequestLogAsync();
        await Nav(page, "Provisioning log").ClickAsync();
        newest = page.Locator("#log tbody tr").First;
        await Assertions.Expect(newest.Locator("td").Nth(4)).ToHaveTextAsync("401");
        await Assertions.Expect(newest).ToContainTextAsync("not valid for this tenant");
        await page.GetByLabel("Outcome").SelectOptionAsync("error");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Assertions.Expect(page.Locator("#log tbody tr")).ToHaveCountAsync(1);

        // The Status page tells that Entra's newest request was refused (until 2026-12-07 it showed a plain "Connected." from
        // the earlier probe, whatever came after). Still connected: anyone who knows the Tenant URL can send a wrong token.
        await Nav(page, "Status").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Connected, but the newest request was refused.");
        using var admin = portal.Admin();
        var status = await admin.GetFromJsonAsync<JsonObject>($"/admin/tenants/{tenant.TenantId}/status");
        Assert.True(status!["connected"]!.GetValue<bool>());
    }

    [Fact]
    public async Task AReloadOfATokenFormsAnswerIssuesNoSecondToken()
    {
        var tenant = await portal.CreateTenantAsync("Contoso Twice");
        await using var browser = await portal.NewBrowserAsync();
        var page = await portal.OpenPortalAsync(browser, tenant.TenantId);
        Assert.Equal([tenant.TokenId], await portal.TokenIdsAsync(tenant.TenantId));

        // A double click: one token, shown (Chromium itself drops a second submission this quick; the script's guard is for
        // a second click once the first request is on its way, which this test does not time).
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate a Secret Token" }).DblClickAsync();
        await Assertions.Expect(page.GetByLabel("New Secret Token")).ToBeVisibleAsync();
        Assert.Equal(2, (await portal.TokenIdsAsync(tenant.TenantId)).Length);

        // A reload of the answer asks for the page: no token more, and the secret is not shown again (it was a POST, and a
        // second token, before the script replaced the answer's history entry).
        var reload = await page.ReloadAsync();
        Assert.Equal("GET", reload!.Request.Method);
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Generate a Secret Token" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByLabel("New Secret Token")).ToHaveCountAsync(0);
        Assert.Equal(2, (await portal.TokenIdsAsync(tenant.TenantId)).Length);

        // The form still works for the next token.
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate a Secret Token" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("New Secret Token")).ToBeVisibleAsync();
        Assert.Equal(3, (await portal.TokenIdsAsync(tenant.TenantId)).Length);
    }

    [Fact]
    public async Task AWrongOAuthClientSecretInEntraIsShownOnTheStatusPage()
    {
        // Entra's app gallery uses OAuth client credentials: a mistyped secret fails Test Connection at the token endpoint,
        // before any SCIM request. The admin sees why, and what to do, without calling anyone.
        var tenant = await portal.CreateTenantAsync("Fabrikam OAuth");
        var client = await portal.Gateway.CreateOAuthClientAsync(tenant);
        using (var http = portal.Gateway.CreateClient())
        using (var refused = await http.RequestTokenAsync(client, secret: client.Secret + "x"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        await portal.FlushRequestLogAsync();
        await using var browser = await portal.NewBrowserAsync();
        var page = await portal.OpenPortalAsync(browser, tenant.TenantId);
        await page.GotoAsync($"/portal/t/{tenant.TenantId}/status");
        await Assertions.Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("an OAuth client secret that is not valid");
        await Assertions.Expect(page.Locator("#last-error")).ToContainTextAsync(client.ClientId);
        await Assertions.Expect(page.Locator("#last-error")).Not.ToContainTextAsync(client.Secret);
    }

    [Fact]
    public async Task ARevokedOAuthClientIsNamedOnTheStatusPageNotASecretToken()
    {
        // Entra keeps using its access token after the admin revoked the client it came from (thinking it an old one).
        // Until 2026-12-07 the log's entry said "bearer token … revoked, expired or mistyped", and Status told the admin to
        // generate a Secret Token, which a gallery app has no field for: it needs a new OAuth client.
        var tenant = await portal.CreateTenantAsync("Fabrikam Revoked");
        var client = await portal.Gateway.CreateOAuthClientAsync(tenant);
        var accessToken = await portal.Gateway.AccessTokenAsync(client);
        using (var scim = portal.Gateway.ScimClient(tenant, token: accessToken))
        {
            Assert.Equal(HttpStatusCode.OK, (await scim.GetAsync("Users?count=1")).StatusCode);
            using var admin = portal.Admin();
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/admin/tenants/{tenant.TenantId}/oauth-clients/{client.ClientId}")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await scim.GetAsync("Users?count=1")).StatusCode);
        }

        await portal.FlushRequestLogAsync();
        await using var browser = await portal.NewBrowserAsync();
        var page = await portal.OpenPortalAsync(browser, tenant.TenantId);
        await page.GotoAsync($"/portal/t/{tenant.TenantId}/status");
        var banner = page.GetByRole(AriaRole.Status).First;
        await Assertions.Expect(banner).ToContainTextAsync("an access token of an OAuth client that was revoked");
        await Assertions.Expect(banner).ToContainTextAsync("Create a new OAuth client");
        await Assertions.Expect(banner).Not.ToContainTextAsync("Secret Token");
        await Assertions.Expect(page.Locator("#last-error")).ToContainTextAsync(client.ClientId);
    }

    [Fact]
    public async Task ASetupLinkClickedOnAnotherSiteOpensThePortalAtTheFirstClick()
    {
        // The operator mails the link; the admin clicks it in webmail, a page of another site. The link's answer signs in
        // and redirects to the portal: that redirect is part of a navigation another site started, so a session cookie
        // kept off cross-site requests (SameSite=Strict) would not come with it.
        var tenant = await portal.CreateTenantAsync("Northwind");
        var link = await portal.SetupLinkAsync(tenant.TenantId);
        await using var browser = await portal.NewBrowserAsync();
        var page = await browser.NewPageAsync();
        await page.RouteAsync("http://mail.example.test/**", route => route.FulfillAsync(new RouteFulfillOptions
        {
            ContentType = "text/html",
            Body = $"<!doctype html><title>Inbox</title><p><a id=\"setup\" href=\"{WebUtility.HtmlEncode(link)}\">Open your setup link</a></p>",
        }));
        await page.GotoAsync("http://mail.example.test/inbox");

        await page.Locator("#setup").ClickAsync();
        await PortalFixture.ContinueAsync(page, tenant.TenantId);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Northwind");
    }

    [Fact]
    public async Task AnotherSiteCannotSignAVisitorInToAPortalOfItsChoosing()
    {
        // Login CSRF: a site makes its visitor's browser open a setup link of a tenant it controls, hoping the visitor then
        // pastes that tenant's Tenant URL and token into their own Entra (their directory would flow to it). Until 2026-12-07
        // the link's GET started the session at once. Now a GET only asks, naming the tenant; the visitor's own portal
        // session stays; and a form another site posts to the link lacks the page's antiforgery token.
        var visitors = await portal.CreateTenantAsync("Visitor Corp");
        var attackers = await portal.CreateTenantAsync("Attacker Ltd");
        var link = await portal.SetupLinkAsync(attackers.TenantId);
        await using var browser = await portal.NewBrowserAsync();
        var page = await portal.OpenPortalAsync(browser, visitors.TenantId);

        await page.RouteAsync("http://evil.example.test/**", route => route.FulfillAsync(new RouteFulfillOptions
        {
            ContentType = "text/html",
            Body = $"<!doctype html><title>Offer</title><a id=\"go\" href=\"{WebUtility.HtmlEncode(link)}\">Go</a>"
                + $"<form id=\"post\" method=\"post\" action=\"{WebUtility.HtmlEncode(link)}\"><input name=\"__RequestVerificationToken\" value=\"x\"></form>",
        }));

        // A link followed: the page names the attacker's tenant and warns that this browser is in the visitor's portal.
        await page.GotoAsync("http://evil.example.test/offer");
        await page.Locator("#go").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Set up provisioning for Attacker Ltd");
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("signed in to the portal of Visitor Corp");
        Assert.Equal(200, (await page.GotoAsync($"/portal/t/{visitors.TenantId}"))!.Status);
        Assert.Equal(403, (await page.GotoAsync($"/portal/t/{attackers.TenantId}"))!.Status);

        // A form posted from the other site: refused, and the session is still the visitor's.
        await page.GotoAsync("http://evil.example.test/offer");
        var posted = await page.RunAndWaitForResponseAsync(() => page.Locator("#post").EvaluateAsync("f => f.submit()"), r => r.Request.Method == "POST");
        Assert.Equal(400, posted.Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Main)).ToContainTextAsync("Open your setup link again");
        Assert.Equal(200, (await page.GotoAsync($"/portal/t/{visitors.TenantId}"))!.Status);
        Assert.Equal(403, (await page.GotoAsync($"/portal/t/{attackers.TenantId}"))!.Status);
    }

    [Fact]
    public async Task AFilteredLogWithNoMatchAmongTheLatestRequestsStillLeadsToOlderOnes()
    {
        // One error, then a sync cycle's worth of successes: a filtered read looks at a bounded number of entries (about
        // 1,100), so the first page of errors is empty, and must still lead to the older error (the Status page links here).
        var tenant = await portal.CreateTenantAsync("Litware");
        var log = portal.Gateway.Services.GetRequiredService<IGrainFactory>().GetGrain<IRequestLogGrain>(GrainKeys.RequestLog(tenant.TenantId));
        var start = portal.Clock.GetUtcNow().AddMinutes(-30);
        RequestLogEntry Entry(int i, int status) => new(0, start.AddMilliseconds(i), "GET", RequestLogOperations.Lookup, null, null, null, status,
            status >= 400 ? "invalidFilter" : null, status >= 400 ? "The filter is not valid." : null, 1.5, false, "req");
        await log.AppendAsync([Entry(0, 400)], 0);
        foreach (var chunk in Enumerable.Range(1, 1_300).Chunk(IRequestLogGrain.MaxEntriesPerAppend))
        {
            await log.AppendAsync([.. chunk.Select(i => Entry(i, 200))], 0);
        }

        await using var browser = await portal.NewBrowserAsync();
        var page = await portal.OpenPortalAsync(browser, tenant.TenantId);
        await page.GotoAsync($"/portal/t/{tenant.TenantId}/log?outcome=error");
        await Assertions.Expect(page.Locator("#log-empty")).ToContainTextAsync("older requests may");
        await page.GetByRole(AriaRole.Link, new() { Name = "Older requests" }).ClickAsync();
        await Assertions.Expect(page.Locator("#log tbody tr").Filter(new() { HasText = "invalidFilter" })).ToHaveCountAsync(1);
    }

    // A link of the portal's navigation (pages link to each other in their text too).
    private static ILocator Nav(IPage page, string name) =>
        page.GetByRole(AriaRole.Navigation, new() { Name = "Portal" }).GetByRole(AriaRole.Link, new() { Name = name, Exact = true });
}
