using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace Cluster.Portal.Tests;

/// <summary>
/// Every portal input is validated: a form posted with a bad value (as a hand-edited form or a script would send it, with the
/// session's cookie and a valid antiforgery token) answers the page with a clear error and its status code, and changes
/// nothing the admin API can see (tokens, OAuth clients and secrets, webhook, and the other tenant).
/// </summary>
[Collection(PortalFixture.Collection)]
public sealed class BadInputTests(PortalFixture portal)
{
    public static TheoryData<string, string[], int, string> CustomerForms => new()
    {
        { "Revoke", ["tokenId", ""], 400, "No such token." },
        { "Revoke", ["tokenId", "0123456789abcdef"], 400, "No such token." },
        { "Revoke", ["tokenId", new string('a', 65)], 400, "No such token." },
        { "Revoke", ["tokenId", "../../admin"], 400, "No such token." },
        // A NUL in a form field makes the form unreadable: refused before the handler (as a form without its antiforgery token).
        { "Revoke", ["tokenId", "\u0000\u202E"], 400, "" },
        { "AddSecret", ["clientId", ""], 400, "No such OAuth client." },
        { "AddSecret", ["clientId", "scimc_0123456789abcdef0123456789abcdef.0123456789abcdef01234567"], 400, "No such OAuth client." },
        { "AddSecret", ["clientId", "not-a-client"], 400, "No such OAuth client." },
        { "RevokeClient", ["clientId", "scimc_"], 400, "No such OAuth client." },
        { "RevokeClient", ["clientId", new string('c', 5000)], 400, "No such OAuth client." },
        { "RevokeSecret", ["clientId", "", "secretId", ""], 400, "No such OAuth client or secret." },
        { "RevokeSecret", ["clientId", "not-a-client", "secretId", "0123"], 400, "No such OAuth client or secret." },

        // A post naming no form, or one the page does not have (it answered 500 until the fuzz harness found it).
        { "", ["tokenId", "x"], 400, "This page has no such form." },
        { "Nope", [], 400, "This page has no such form." },
    };

    [Theory]
    [MemberData(nameof(CustomerForms))]
    public async Task ACustomerFormWithABadValueIsRefusedAndChangesNothing(string handler, string[] fields, int status, string message)
    {
        var tenant = await portal.CreateTenantAsync("Bad input");
        var other = await portal.CreateTenantAsync("Other");
        await using var browser = await portal.NewBrowserAsync();
        var page = await portal.OpenPortalAsync(browser, tenant.TenantId);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create an OAuth client" }).ClickAsync();
        var before = (await StateAsync(tenant.TenantId), await StateAsync(other.TenantId));

        var response = await PostAsync(page, $"/portal/t/{tenant.TenantId}", handler, fields);
        Assert.Equal(status, response.Status);
        Assert.Contains(message, await response.TextAsync(), StringComparison.Ordinal);
        Assert.Equal(before, (await StateAsync(tenant.TenantId), await StateAsync(other.TenantId)));
    }

    [Fact]
    public async Task ADirectorySearchLongerThanItsLimitIsCutBetweenCharacters()
    {
        // 255 letters and an emoji (two UTF-16 units): the search is cut at 256 units, which split the emoji, and the filter
        // built from it was refused (a 400 page about an unpaired surrogate the admin never typed).
        var tenant = await portal.CreateTenantAsync("Long search");
        await using var browser = await portal.NewBrowserAsync();
        var page = await portal.OpenPortalAsync(browser, tenant.TenantId);
        var response = await page.GotoAsync($"/portal/t/{tenant.TenantId}/users?q=" + Uri.EscapeDataString(new string('a', 255) + "😀"));
        Assert.Equal(200, response!.Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Users");
    }

    [Fact]
    public async Task ADirectoryPagePastTheEndShowsTheLastPage()
    {
        var tenant = await portal.CreateTenantAsync("Paged past the end");
        using (var scim = portal.Scim(tenant))
        using (var created = await scim.PostAsync("Users", new StringContent(
            """{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"only@contoso.com"}""", System.Text.Encoding.UTF8, "application/scim+json")))
        {
            Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
        }

        await using var browser = await portal.NewBrowserAsync();
        var page = await portal.OpenPortalAsync(browser, tenant.TenantId);
        Assert.Equal(200, (await page.GotoAsync($"/portal/t/{tenant.TenantId}/users?page=50"))!.Status);
        await Assertions.Expect(page.Locator("tbody tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("tbody")).ToContainTextAsync("only@contoso.com");
    }

    [Fact]
    public async Task AnotherTenantsClientIdIsNoClientOfThisTenant()
    {
        var tenant = await portal.CreateTenantAsync("Mine");
        var other = await portal.CreateTenantAsync("Theirs");
        await using var theirBrowser = await portal.NewBrowserAsync();
        var theirPage = await portal.OpenPortalAsync(theirBrowser, other.TenantId);
        await theirPage.GetByRole(AriaRole.Button, new() { Name = "Create an OAuth client" }).ClickAsync();
        var theirClient = await theirPage.GetByLabel("Client identifier").InputValueAsync();

        await using var browser = await portal.NewBrowserAsync();
        var page = await portal.OpenPortalAsync(browser, tenant.TenantId);
        var before = (await StateAsync(tenant.TenantId), await StateAsync(other.TenantId));
        foreach (var handler in new[] { "AddSecret", "RevokeClient" })
        {
            var response = await PostAsync(page, $"/portal/t/{tenant.TenantId}", handler, ["clientId", theirClient]);
            Assert.Equal(400, response.Status);
        }

        Assert.Equal(before, (await StateAsync(tenant.TenantId), await StateAsync(other.TenantId)));
    }

    [Theory]
    [InlineData("outcome=sideways", "Invalid outcome")]
    [InlineData("outcome=error&outcome=success", "Invalid outcome")]
    [InlineData("after=-1", "Invalid cursor")]
    [InlineData("after=abc", "Invalid cursor")]
    [InlineData("after=99999999999999999999999", "Invalid cursor")]
    [InlineData("limit=0", "Invalid limit")]
    [InlineData("limit=201", "Invalid limit")]
    [InlineData("resourceId=..%2F..", "Invalid resourceId")]
    [InlineData("resourceId=%00", "Invalid resourceId")]
    public async Task ABadLogFilterIsA400NamingIt(string query, string message)
    {
        var tenant = await portal.CreateTenantAsync("Log filters");
        await using var browser = await portal.NewBrowserAsync();
        var page = await portal.OpenPortalAsync(browser, tenant.TenantId);
        var response = await page.GotoAsync($"/portal/t/{tenant.TenantId}/log?{query}");
        Assert.Equal(400, response!.Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync(message);
    }

    public static TheoryData<string, string[], int, string> OperatorForms => new()
    {
        { "CreateLink", ["expiresInMinutes", ""], 400, "minutes" },
        { "CreateLink", ["expiresInMinutes", "0"], 400, "minutes" },
        { "CreateLink", ["expiresInMinutes", "-5"], 400, "minutes" },
        { "CreateLink", ["expiresInMinutes", "43201"], 400, "minutes" },
        { "CreateLink", ["expiresInMinutes", "1e3"], 400, "minutes" },
        { "CreateLink", ["expiresInMinutes", "99999999999999999999"], 400, "minutes" },
        { "SetWebhook", ["url", ""], 400, "https URL" },
        { "SetWebhook", ["url", "ftp://127.0.0.1/hook"], 400, "" },
        { "SetWebhook", ["url", "not a url"], 400, "" },
        { "SetWebhook", ["url", "https://" + new string('h', 3000) + ".example"], 400, "2,048" },
        { "Redeliver", ["after", ""], 400, "cursor" },
        { "Redeliver", ["after", "-1"], 400, "cursor" },
        { "Redeliver", ["after", "12345678901234567890"], 400, "cursor" },
        { "Redeliver", ["after", "0"], 400, "no webhook" },
        { "TestWebhook", [], 400, "no webhook" },
    };

    [Theory]
    [MemberData(nameof(OperatorForms))]
    public async Task AnOperatorFormWithABadValueIsRefusedAndChangesNothing(string handler, string[] fields, int status, string message)
    {
        var tenant = await portal.CreateTenantAsync("Operator bad input");
        await using var browser = await portal.NewBrowserAsync();
        var page = await PortalFixture.SignInAsOperatorAsync(browser);
        var before = await StateAsync(tenant.TenantId);

        var response = await PostAsync(page, $"/portal/operator/t/{tenant.TenantId}", handler, fields);
        Assert.Equal(status, response.Status);
        Assert.Contains(message, await response.TextAsync(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(before, await StateAsync(tenant.TenantId));
    }

    // Opens the page (for its antiforgery token) and posts the handler's form with the given fields, as the browser would:
    // the session's cookies, the page's token.
    private static async Task<IAPIResponse> PostAsync(IPage page, string path, string handler, string[] fields)
    {
        Assert.Equal(200, (await page.GotoAsync(path))!.Status);
        var form = page.APIRequest.CreateFormData();
        form.Set("__RequestVerificationToken", await page.Locator("input[name=__RequestVerificationToken]").First.InputValueAsync());
        for (var i = 0; i < fields.Length; i += 2)
        {
            form.Set(fields[i], fields[i + 1]);
        }

        return await page.APIRequest.PostAsync($"{path}?handler={handler}", new() { Form = form, MaxRedirects = 0 });
    }

    // What the admin API shows of a tenant's credentials and webhook (ids and settings; never secrets).
    private async Task<string> StateAsync(string tenantId)
    {
        using var admin = portal.Admin();
        var tenant = (await admin.GetFromJsonAsync<JsonObject>($"/admin/tenants/{tenantId}"))!;
        var clients = (await admin.GetFromJsonAsync<JsonObject>($"/admin/tenants/{tenantId}/oauth-clients"))!;
        using var webhook = await admin.GetAsync($"/admin/tenants/{tenantId}/webhook");
        return $"{tenant["name"]}|{tenant["suspended"]}|{tenant["tokens"]!.ToJsonString()}|{clients["clients"]!.ToJsonString()}|{(int)webhook.StatusCode} {(webhook.IsSuccessStatusCode ? await webhook.Content.ReadAsStringAsync() : "")}";
    }
}
