using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Cluster.Portal.Tests;

[CollectionDefinition(PortalFixture.Collection)]
public sealed class PortalCollection : ICollectionFixture<PortalFixture>;

/// <summary>
/// The real gateway (co-hosted silo, memory storage) on a real Kestrel port on 127.0.0.1, and a headless Chromium driven by
/// Playwright: Debian's <c>/usr/bin/chromium</c> (or <c>CHROMIUM</c>) through <c>ExecutablePath</c>, no browser download.
/// Tests use fresh tenants, so they share one gateway and one browser; each gets its own browser context (cookies).
/// </summary>
public sealed class PortalFixture : IAsyncLifetime
{
    public const string Collection = "portal";

    private IPlaywright? _playwright;

    public PortalFixture()
    {
        Gateway = new GatewayFactory().WithServices(services => services.AddSingleton<TimeProvider>(Clock));
    }

    /// <summary>The real server: a gateway co-hosting a silo, whose clock <see cref="Clock"/> is.</summary>
    public GatewayFactory Gateway { get; }

    /// <summary>The server's clock: wall-clock time can be moved forward (expiry) without waiting.</summary>
    public ShiftedTimeProvider Clock { get; } = new();

    /// <summary>The portal's root, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public static string ChromiumPath =>
        Environment.GetEnvironmentVariable("CHROMIUM") is { Length: > 0 } configured ? configured : "/usr/bin/chromium";

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(ChromiumPath),
            $"Chromium is not installed ({ChromiumPath} is missing). tests/run.sh installs it (ensure_chromium in deploy/local/lib.sh: apt-get install -y chromium); or set CHROMIUM to a Chromium binary.");
        BaseAddress = Gateway.StartOnLoopback();

        // Expect(...) waits 5 s by default; a page that follows a form post doing grain and storage work can take longer
        // with Chromium, Kestrel and Orleans sharing two busy cores. Actions already wait 30 s.
        Assertions.SetDefaultExpectTimeout(20_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        await Gateway.DisposeAsync();
    }

    /// <summary>A fresh browser (own cookies) at the portal, allowed to use the clipboard.</summary>
    public async Task<IBrowserContext> NewBrowserAsync(ViewportSize? viewport = null)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseAddress.ToString(),
            ViewportSize = viewport ?? new ViewportSize { Width = 1280, Height = 900 },
        });
        await context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new BrowserContextGrantPermissionsOptions { Origin = BaseAddress.GetLeftPart(UriPartial.Authority) });
        return context;
    }

    /// <summary>An HTTP client of the real server (plain <see cref="HttpClient"/>, no cookies).</summary>
    public HttpClient Http() => new() { BaseAddress = BaseAddress };

    /// <summary>Writes the gateway's buffered provisioning log entries now (it does so every few seconds on its own).</summary>
    public Task FlushRequestLogAsync() => Gateway.Services.GetRequiredService<Cluster.Gateway.RequestLog.RequestLogWriter>().FlushAsync();

    /// <summary>An operator's HTTP client (operator key).</summary>
    public HttpClient Admin()
    {
        var client = Http();
        client.DefaultRequestHeaders.Authorization = new("Bearer", GatewayFactory.AdminKey);
        return client;
    }

    /// <summary>A SCIM client of the tenant, the way Entra calls it (relative paths under the Tenant URL).</summary>
    public HttpClient Scim(TestTenant tenant, string? token = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(tenant.ScimUrl.TrimEnd('/') + "/") };
        client.DefaultRequestHeaders.Authorization = new("Bearer", token ?? tenant.Token);
        return client;
    }

    /// <summary>A new tenant, created by an operator through the admin API.</summary>
    public async Task<TestTenant> CreateTenantAsync(string name = "Contoso")
    {
        using var admin = Admin();
        using var response = await admin.PostAsJsonAsync("/admin/tenants", new { name });
        response.EnsureSuccessStatusCode();
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        return new TestTenant(body["tenantId"]!.GetValue<string>(), body["scimUrl"]!.GetValue<string>(), body["token"]!["id"]!.GetValue<string>(), body["token"]!["secret"]!.GetValue<string>());
    }

    /// <summary>A browser page in <paramref name="tenantId"/>'s portal, entered through a new setup link.</summary>
    public async Task<IPage> OpenPortalAsync(IBrowserContext browser, string tenantId)
    {
        var page = await browser.NewPageAsync();
        Assert.Equal(200, (await page.GotoAsync(await SetupLinkAsync(tenantId)))!.Status);
        await ContinueAsync(page, tenantId);
        return page;
    }

    /// <summary>On a setup link's page (it names the tenant and asks before it opens the portal): continue to the portal.</summary>
    public static async Task ContinueAsync(IPage page, string tenantId)
    {
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Set up provisioning for");
        await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^Open the portal of") }).ClickAsync(),
            r => r.Request.IsNavigationRequest && r.Request.Method == "GET" && r.Url.EndsWith($"/portal/t/{tenantId}", StringComparison.Ordinal));
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/portal/t/{tenantId}$"));
    }

    /// <summary>A browser page signed in to the operator console with the operator key.</summary>
    public static async Task<IPage> SignInAsOperatorAsync(IBrowserContext browser)
    {
        var page = await browser.NewPageAsync();
        await page.GotoAsync("/portal/signin");
        await page.GetByLabel("Operator key").FillAsync(GatewayFactory.AdminKey);
        // The console's response, then its address (WaitForURLAsync also waits for the "load" event, and now and then timed
        // out here although the console had been served).
        await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync(),
            r => r.Request.IsNavigationRequest && r.Request.Method == "GET" && r.Url.EndsWith("/portal/operator", StringComparison.Ordinal));
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/portal/operator$"));
        return page;
    }

    /// <summary>The ids of the tenant's tokens, through the admin API.</summary>
    public async Task<string[]> TokenIdsAsync(string tenantId)
    {
        using var admin = Admin();
        var body = (await admin.GetFromJsonAsync<JsonObject>($"/admin/tenants/{tenantId}"))!;
        return [.. body["tokens"]!.AsArray().Select(t => t!["id"]!.GetValue<string>()).Order(StringComparer.Ordinal)];
    }

    /// <summary>A setup link for <paramref name="tenantId"/>, as an operator makes it.</summary>
    public async Task<string> SetupLinkAsync(string tenantId, int? expiresInMinutes = null)
    {
        using var admin = Admin();
        using var response = await admin.PostAsJsonAsync($"/admin/tenants/{tenantId}/setup-links", new { expiresInMinutes });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["url"]!.GetValue<string>();
    }
}
