using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace Cluster.Portal.Tests;

/// <summary>
/// The operator console's tenant list (<c>/portal/operator</c>), in the browser: create a tenant (its Tenant URL and Secret
/// Token work for SCIM), find tenants by name prefix and page through them, suspend (SCIM 403), resume (200) and delete
/// (only once the name or id is typed; then the token is refused and the tenant leaves the list). Each change is checked
/// through the admin API; every bad input is refused in the page with its status and changes nothing.
/// </summary>
[Collection(PortalFixture.Collection)]
public sealed class OperatorConsoleTests(PortalFixture portal)
{
    [Fact]
    public async Task AnOperatorCreatesATenantWhoseTokenWorksForScim()
    {
        var name = $"Console {Run()}";
        await using var browser = await portal.NewBrowserAsync();
        var page = await PortalFixture.SignInAsOperatorAsync(browser);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Tenants");

        await page.GetByLabel("New tenant's name", new() { Exact = true }).FillAsync($"  {name}  ");
        var response = await SubmitAsync(page, "Create the tenant");
        Assert.Equal(200, response.Status);
        var tenantUrl = await page.GetByLabel("Tenant URL", new() { Exact = true }).InputValueAsync();
        var secret = await page.GetByLabel("Secret Token", new() { Exact = true }).InputValueAsync();
        var tenantId = tenantUrl.TrimEnd('/').Split('/')[^1];

        // The admin API knows it, by its trimmed name.
        var tenant = await GetTenantAsync(tenantId);
        Assert.Equal(name, tenant!["name"]!.GetValue<string>());
        Assert.Equal(tenantUrl, tenant["scimUrl"]!.GetValue<string>());

        // The copy button copies the token, and the token works as Entra uses it.
        await page.Locator("[data-copy='#created-token']").ClickAsync();
        Assert.Equal(secret, await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));
        Assert.Equal(HttpStatusCode.OK, await ScimStatusAsync(tenantUrl, secret));

        // A link to its portal; a reload does not show the secret again.
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = $"Open the portal of “{name}”" })).ToHaveAttributeAsync("href", $"/portal/t/{tenantId}");
        await page.GotoAsync("/portal/operator");
        await Assertions.Expect(page.GetByLabel("Secret Token", new() { Exact = true })).ToHaveCountAsync(0);
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task APrefixSearchFindsTenantsAndTheNextPageFollowsTheCursor()
    {
        var run = Run();
        var ids = new List<string>();
        for (var i = 0; i < 26; i++)
        {
            ids.Add((await portal.CreateTenantAsync($"Paged{run} {i:00}")).TenantId);
        }

        var other = await portal.CreateTenantAsync($"Other{run}");

        await using var browser = await portal.NewBrowserAsync();
        var page = await PortalFixture.SignInAsOperatorAsync(browser);
        await page.GetByLabel("Find tenants whose name starts with").FillAsync($"paged{run}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search", Exact = true }).ClickAsync();

        // Names compare canonically (case-folded); a page holds 25, in name order.
        var rows = page.Locator("tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(25);
        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"Paged{run} {i:00}"), await rows.Locator("td:first-child").AllInnerTextsAsync());
        await Assertions.Expect(rows.First.GetByRole(AriaRole.Link)).ToHaveAttributeAsync("href", $"/portal/t/{ids[0]}");
        await Assertions.Expect(page.GetByText(other.TenantId)).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "First page" })).ToHaveCountAsync(0);

        await page.GetByRole(AriaRole.Link, new() { Name = "Next page" }).ClickAsync();
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await Assertions.Expect(rows.First).ToContainTextAsync(ids[25]);
        Assert.Contains("after=", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.GetByLabel("Find tenants whose name starts with")).ToHaveValueAsync($"paged{run}");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Next page" })).ToHaveCountAsync(0);

        await page.GetByRole(AriaRole.Link, new() { Name = "First page" }).ClickAsync();
        await Assertions.Expect(rows).ToHaveCountAsync(25);

        // A prefix nothing starts with.
        await page.GotoAsync($"/portal/operator?q=paged{run}x");
        await Assertions.Expect(page.GetByText("No tenant's name starts with that.")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task AnEmptyPageOfALongSearchDoesNotSayNothingMatches()
    {
        // Only a name's first 64 characters are sorted: a longer search reads pages of names that share those and leaves
        // out the ones whose rest differs, so a page can be empty with more after it. Until 2026-12-07 it said that no
        // tenant's name starts with the search, beside a "Next page" link.
        var stem = $"Holdings{Run()} " + new string('x', 64);
        for (var i = 0; i < 26; i++)
        {
            await portal.CreateTenantAsync($"{stem} A{i:00}");
        }

        await using var browser = await portal.NewBrowserAsync();
        var page = await PortalFixture.SignInAsOperatorAsync(browser);
        await page.GotoAsync($"/portal/operator?q={Uri.EscapeDataString(stem + " C")}");
        await Assertions.Expect(page.GetByText("No tenant on this page.")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Next page" }).ClickAsync();
        await Assertions.Expect(page.GetByText("No tenant's name starts with that.")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task SuspendResumeAndDeleteFromTheList()
    {
        var name = $"Lifecycle {Run()}";
        var tenant = await portal.CreateTenantAsync(name);
        await using var browser = await portal.NewBrowserAsync();
        var page = await PortalFixture.SignInAsOperatorAsync(browser);
        await page.GotoAsync($"/portal/operator?q={Uri.EscapeDataString(name)}");
        var row = page.Locator("tbody tr", new() { HasText = tenant.TenantId });
        await Assertions.Expect(row).ToContainTextAsync("Active");
        await Assertions.Expect(row).ToContainTextAsync("never");

        // Suspended: the tenant's SCIM calls are refused at once, and the list says so.
        Assert.Equal(200, (await SubmitAsync(page, $"Suspend {name}")).Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("is suspended");
        await Assertions.Expect(row).ToContainTextAsync("Suspended");
        Assert.Equal(HttpStatusCode.Forbidden, await ScimStatusAsync(tenant.ScimUrl, tenant.Token));
        Assert.True((await GetTenantAsync(tenant.TenantId))!["suspended"]!.GetValue<bool>());

        // Resumed: served again.
        Assert.Equal(200, (await SubmitAsync(page, $"Resume {name}")).Status);
        await Assertions.Expect(row).ToContainTextAsync("Active");
        Assert.Equal(HttpStatusCode.OK, await ScimStatusAsync(tenant.ScimUrl, tenant.Token));
        Assert.False((await GetTenantAsync(tenant.TenantId))!["suspended"]!.GetValue<bool>());

        // Delete asks for the name or id; a wrong one deletes nothing.
        await page.GetByRole(AriaRole.Button, new() { Name = $"Delete {name}…" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Delete “{name}”?" })).ToBeVisibleAsync();
        await page.GetByLabel("Type the tenant's name or id to confirm").FillAsync("Lifecycle");
        Assert.Equal(400, (await SubmitAsync(page, "Delete the tenant")).Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("does not match");
        Assert.Null((await GetTenantAsync(tenant.TenantId))!["deleting"]);
        Assert.Equal(HttpStatusCode.OK, await ScimStatusAsync(tenant.ScimUrl, tenant.Token));

        // The name typed: deleted. Its token is refused and it leaves the list.
        await page.GetByLabel("Type the tenant's name or id to confirm").FillAsync(name);
        Assert.Equal(200, (await SubmitAsync(page, "Delete the tenant")).Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("is being deleted");
        await Assertions.Expect(row).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Delete “{name}”?" })).ToHaveCountAsync(0);
        await EventuallyAsync(async () => await ScimStatusAsync(tenant.ScimUrl, tenant.Token) == HttpStatusCode.Unauthorized);
        Assert.DoesNotContain(tenant.TenantId, await ListedIdsAsync(name));
        await page.GotoAsync($"/portal/operator?q={Uri.EscapeDataString(name)}");
        await Assertions.Expect(page.GetByText(tenant.TenantId)).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task TheIdTypedAlsoConfirmsADelete()
    {
        var name = $"ById {Run()}";
        var tenant = await portal.CreateTenantAsync(name);
        await using var browser = await portal.NewBrowserAsync();
        var page = await PortalFixture.SignInAsOperatorAsync(browser);
        await page.GotoAsync($"/portal/operator?delete={tenant.TenantId}");
        await page.GetByLabel("Type the tenant's name or id to confirm").FillAsync(tenant.TenantId);
        Assert.Equal(200, (await SubmitAsync(page, "Delete the tenant")).Status);
        await EventuallyAsync(async () => await ScimStatusAsync(tenant.ScimUrl, tenant.Token) == HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("bad\u0007name")]
    [InlineData("tab\tname")]
    [InlineData("201")]
    [InlineData("5000")]
    public async Task ABadNameCreatesNothing(string name)
    {
        name = name switch
        {
            "201" => new string('n', 201),
            "5000" => new string('n', 5000),
            _ => name,
        };
        await using var browser = await portal.NewBrowserAsync();
        var page = await PortalFixture.SignInAsOperatorAsync(browser);
        var before = await ListedIdsAsync("");

        // The browser's own checks (required, maxlength) are lifted: the server refuses by itself.
        var field = page.GetByLabel("New tenant's name", new() { Exact = true });
        await field.EvaluateAsync("e => { e.removeAttribute('required'); e.removeAttribute('maxlength'); }");
        await field.FillAsync(name);
        Assert.Equal(400, (await SubmitAsync(page, "Create the tenant")).Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("1 to 200 characters");
        await Assertions.Expect(page.GetByLabel("Secret Token", new() { Exact = true })).ToHaveCountAsync(0);
        Assert.Equal(before, await ListedIdsAsync(""));
    }

    [Theory]
    [InlineData("after=not-a-cursor", "cursor")]
    [InlineData("after=Q09OVE9TTw", "cursor")]
    [InlineData("q=bad%01name", "at most 200 characters")]
    [InlineData("q=201", "at most 200 characters")]
    [InlineData("delete=not.an-id", "not a tenant id")]
    [InlineData("delete=ffffffffffffffffffffffffffffffff", "No such tenant")]
    public async Task ABadListingAddressIsRefusedInThePage(string query, string message)
    {
        query = query == "q=201" ? "q=" + new string('q', 201) : query;
        await using var browser = await portal.NewBrowserAsync();
        var page = await PortalFixture.SignInAsOperatorAsync(browser);
        var response = await page.GotoAsync("/portal/operator?" + query);
        Assert.Equal(query.EndsWith("ffff", StringComparison.Ordinal) ? 404 : 400, response!.Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync(message);
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Delete the tenant" })).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task AMalformedOrUnknownTenantIdChangesNothing()
    {
        var run = Run();
        var tenant = await portal.CreateTenantAsync($"Target {run}");
        var bystander = await portal.CreateTenantAsync($"Bystander {run}");
        await using var browser = await portal.NewBrowserAsync();
        var page = await PortalFixture.SignInAsOperatorAsync(browser);
        var search = $"/portal/operator?q={Uri.EscapeDataString($"Target {run}")}";

        // Suspend, its form's tenant id replaced: malformed (400), unknown (404).
        foreach (var (id, status, message) in new[] { ("not/an-id", 400, "not a tenant id"), (new string('a', 65), 400, "not a tenant id"), (Guid.NewGuid().ToString("N"), 404, "No such tenant") })
        {
            await page.GotoAsync(search);
            await SetHiddenTenantIdAsync(page, $"Suspend Target {run}", id);
            Assert.Equal(status, (await SubmitAsync(page, $"Suspend Target {run}")).Status);
            await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync(message);
        }

        Assert.False((await GetTenantAsync(tenant.TenantId))!["suspended"]!.GetValue<bool>());

        // Delete: the name of one tenant typed into the form of another deletes neither; an oversized or empty confirmation neither.
        await page.GotoAsync($"/portal/operator?delete={tenant.TenantId}");
        await SetHiddenTenantIdAsync(page, "Delete the tenant", bystander.TenantId);
        await page.GetByLabel("Type the tenant's name or id to confirm").FillAsync($"Target {run}");
        Assert.Equal(400, (await SubmitAsync(page, "Delete the tenant")).Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync($"type the tenant's name, “Bystander {run}”");

        var confirm = page.GetByLabel("Type the tenant's name or id to confirm");
        await confirm.EvaluateAsync("e => { e.removeAttribute('required'); e.removeAttribute('maxlength'); }");
        foreach (var typed in new[] { new string('x', 5000), "" })
        {
            await confirm.FillAsync(typed);
            Assert.Equal(400, (await SubmitAsync(page, "Delete the tenant")).Status);
            await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("does not match");
            await confirm.EvaluateAsync("e => { e.removeAttribute('required'); e.removeAttribute('maxlength'); }");
        }

        // Delete, the form's tenant id malformed or unknown.
        foreach (var (id, status) in new[] { ("../x", 400), (Guid.NewGuid().ToString("N"), 404) })
        {
            await page.GotoAsync($"/portal/operator?delete={tenant.TenantId}");
            await SetHiddenTenantIdAsync(page, "Delete the tenant", id);
            await page.GetByLabel("Type the tenant's name or id to confirm").FillAsync(id);
            Assert.Equal(status, (await SubmitAsync(page, "Delete the tenant")).Status);
        }

        foreach (var kept in new[] { tenant, bystander })
        {
            Assert.Null((await GetTenantAsync(kept.TenantId))!["deleting"]);
            Assert.Equal(HttpStatusCode.OK, await ScimStatusAsync(kept.ScimUrl, kept.Token));
        }
    }

    private static string Run() => Guid.NewGuid().ToString("N")[..10];

    // Clicks the button and answers the response of the form it submits, once its page replaced the old one (so nothing
    // that follows can act on the page before).
    private static async Task<IResponse> SubmitAsync(IPage page, string button)
    {
        var navigated = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnNavigated(object? sender, IFrame frame)
        {
            if (frame == page.MainFrame)
            {
                navigated.TrySetResult();
            }
        }

        page.FrameNavigated += OnNavigated;
        try
        {
            var response = await page.RunAndWaitForResponseAsync(
                () => page.GetByRole(AriaRole.Button, new() { Name = button, Exact = true }).ClickAsync(),
                r => r.Request.IsNavigationRequest);
            await navigated.Task.WaitAsync(TimeSpan.FromSeconds(30));
            return response;
        }
        finally
        {
            page.FrameNavigated -= OnNavigated;
        }
    }

    // Replaces the tenant id the button's form posts (as a forged or stale form would).
    private static Task SetHiddenTenantIdAsync(IPage page, string button, string tenantId) =>
        page.GetByRole(AriaRole.Button, new() { Name = button, Exact = true })
            .EvaluateAsync("(b, id) => b.form.querySelector('input[name=tenantId]').value = id", tenantId);

    private async Task<JsonObject?> GetTenantAsync(string tenantId)
    {
        using var admin = portal.Admin();
        using var response = await admin.GetAsync($"/admin/tenants/{tenantId}");
        return response.StatusCode == HttpStatusCode.NotFound ? null : (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    // Every tenant the admin API lists whose name starts with the prefix (every page).
    private async Task<List<string>> ListedIdsAsync(string prefix)
    {
        using var admin = portal.Admin();
        var ids = new List<string>();
        string? after = null;
        do
        {
            var body = (await admin.GetFromJsonAsync<JsonObject>($"/admin/tenants?limit=200&q={Uri.EscapeDataString(prefix)}&after={Uri.EscapeDataString(after ?? "")}"))!;
            ids.AddRange(body["data"]!.AsArray().Select(t => t!["tenantId"]!.GetValue<string>()));
            after = body["nextCursor"]?.GetValue<string>();
        }
        while (after is not null);
        return ids;
    }

    // GET {Tenant URL}/Users with the token, as Entra's Test Connection does.
    private async Task<HttpStatusCode> ScimStatusAsync(string tenantUrl, string token)
    {
        using var http = portal.Http();
        using var request = new HttpRequestMessage(HttpMethod.Get, tenantUrl.TrimEnd('/') + "/Users");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; !await condition(); i++)
        {
            Assert.True(i < 50, "the condition did not hold within 10 seconds");
            await Task.Delay(200);
        }
    }
}
