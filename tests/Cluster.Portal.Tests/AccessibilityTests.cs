using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace Cluster.Portal.Tests;

/// <summary>
/// Every portal page passes axe-core's WCAG 2.1 A/AA rules, is usable with the keyboard alone, and fits a phone's screen
/// without horizontal scrolling.
/// </summary>
[Collection(PortalFixture.Collection)]
public sealed class AccessibilityTests(PortalFixture portal)
{
    public static TheoryData<string, int, int> Screens => new()
    {
        { "laptop", 1366, 768 },
        { "phone", 375, 740 },
    };

    [Theory]
    [MemberData(nameof(Screens))]
    public async Task EveryPageIsAccessibleAndFitsTheScreen(string screen, int width, int height)
    {
        var tenant = await portal.CreateTenantAsync("Contoso Pharmaceuticals International");
        var (userId, groupId) = await SeedAsync(tenant);

        await using var customer = await portal.NewBrowserAsync(new ViewportSize { Width = width, Height = height });
        var page = await customer.NewPageAsync();
        Assert.Equal(200, (await page.GotoAsync(await portal.SetupLinkAsync(tenant.TenantId)))!.Status);
        await CheckAsync(page, screen, "setup link (asks before it opens the portal)");
        await PortalFixture.ContinueAsync(page, tenant.TenantId);
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate a Secret Token" }).ClickAsync();
        await CheckAsync(page, screen, "connect (with a new token)");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create an OAuth client" }).ClickAsync();
        await CheckAsync(page, screen, "connect (with a new OAuth client)");
        await portal.FlushRequestLogAsync();
        foreach (var path in new[] { "/status", "/log", "/log?outcome=error", "/users", "/users?q=adele", "/groups", $"/users/{userId}", $"/groups/{groupId}" })
        {
            Assert.Equal(200, (await page.GotoAsync($"/portal/t/{tenant.TenantId}{path}"))!.Status);
            await CheckAsync(page, screen, path);
        }

        Assert.Equal(400, (await page.GotoAsync($"/portal/t/{tenant.TenantId}/log?outcome=sideways"))!.Status);
        await CheckAsync(page, screen, "log (bad filter)");

        await using var operatorBrowser = await portal.NewBrowserAsync(new ViewportSize { Width = width, Height = height });
        var console = await operatorBrowser.NewPageAsync();
        await console.GotoAsync("/portal/signin");
        await CheckAsync(console, screen, "sign-in");
        await console.GetByLabel("Operator key").FillAsync("wrong");
        await console.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await CheckAsync(console, screen, "sign-in (refused)");
        console = await PortalFixture.SignInAsOperatorAsync(operatorBrowser);
        await console.GotoAsync($"/portal/operator/t/{tenant.TenantId}");
        await console.GetByRole(AriaRole.Button, new() { Name = "Create a setup link" }).ClickAsync();
        await CheckAsync(console, screen, "operator tenant page (with a new link)");

        Assert.Equal(200, (await console.GotoAsync($"/portal/operator?q={Uri.EscapeDataString("Contoso Pharmaceuticals")}"))!.Status);
        await CheckAsync(console, screen, "operator console (tenant list)");
        await console.GetByLabel("New tenant's name", new() { Exact = true }).FillAsync("Northwind Traders International Holdings");
        await console.GetByRole(AriaRole.Button, new() { Name = "Create the tenant" }).ClickAsync();
        await Assertions.Expect(console.GetByLabel("Secret Token", new() { Exact = true })).ToBeVisibleAsync();
        await CheckAsync(console, screen, "operator console (a new tenant)");
        Assert.Equal(200, (await console.GotoAsync($"/portal/operator?delete={tenant.TenantId}"))!.Status);
        await CheckAsync(console, screen, "operator console (delete confirmation)");
        await console.GetByLabel("Type the tenant's name or id to confirm").FillAsync("not its name");
        await console.GetByRole(AriaRole.Button, new() { Name = "Delete the tenant" }).ClickAsync();
        await Assertions.Expect(console.GetByRole(AriaRole.Alert)).ToContainTextAsync("does not match");
        await CheckAsync(console, screen, "operator console (delete refused)");
    }

    [Fact]
    public async Task AnAdminGeneratesATokenWithTheKeyboardAlone()
    {
        var tenant = await portal.CreateTenantAsync();
        await using var browser = await portal.NewBrowserAsync();
        var page = await portal.OpenPortalAsync(browser, tenant.TenantId);
        var before = await portal.TokenIdsAsync(tenant.TenantId);

        for (var i = 0; i < 30 && await page.EvaluateAsync<string>("() => document.activeElement?.textContent?.trim() ?? ''") != "Generate a Secret Token"; i++)
        {
            await page.Keyboard.PressAsync("Tab");
        }

        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByLabel("New Secret Token")).ToBeVisibleAsync();
        Assert.Equal(before.Length + 1, (await portal.TokenIdsAsync(tenant.TenantId)).Length);
    }

    private static async Task CheckAsync(IPage page, string screen, string what)
    {
        var result = await page.RunAxe(new AxeRunOptions
        {
            RunOnly = new RunOnlyOptions { Type = "tag", Values = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
        });
        Assert.True(result.Violations.Length == 0,
            $"{what} on a {screen}: " + string.Join("; ", result.Violations.Select(v => $"{v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Target?.ToString()))}")));

        var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth");
        Assert.True(overflow <= 0, $"{what} on a {screen} scrolls sideways by {overflow} px");
    }

    private async Task<(string User, string Group)> SeedAsync(Cluster.TestInfrastructure.TestTenant tenant)
    {
        using var scim = portal.Scim(tenant);
        var user = await CreateAsync(scim, "Users", new JsonObject
        {
            ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:User"),
            ["userName"] = "adele.vance@contoso.example",
            ["displayName"] = "Adele Vance",
            ["externalId"] = "0c6f1a4e-5d3b-4f6a-9c1d-2b7e8f9a0b1c",
            ["active"] = true,
            ["emails"] = new JsonArray(new JsonObject { ["value"] = "adele.vance@contoso.example", ["type"] = "work", ["primary"] = true }),
            ["name"] = new JsonObject { ["givenName"] = "Adele", ["familyName"] = "Vance" },
        });
        var group = await CreateAsync(scim, "Groups", new JsonObject
        {
            ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:Group"),
            ["displayName"] = "Sales and Marketing",
            ["members"] = new JsonArray(new JsonObject { ["value"] = user }),
        });
        return (user, group);
    }

    private static async Task<string> CreateAsync(HttpClient scim, string path, JsonObject body)
    {
        using var response = await scim.PostAsJsonAsync(path, body);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }
}
