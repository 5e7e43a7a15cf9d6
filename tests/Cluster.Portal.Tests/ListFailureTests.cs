using System.Net;
using System.Net.Http.Json;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;
using Microsoft.Playwright;

namespace Cluster.Portal.Tests;

/// <summary>
/// A change that landed is never hidden behind a failure that comes after it. Here a listed tenant's counts cannot be read
/// (its event log's storage fails): a suspension through the admin API takes effect at once on the gateway that served it,
/// whatever its answer could say afterwards; and the operator console still shows the tenant it just created, with its one
/// showing of the Secret Token.
/// </summary>
[Collection(PortalFixture.Collection)]
public sealed class ListFailureTests(PortalFixture portal)
{
    [Fact]
    public async Task ALandedChangeIsShownAndAppliedWhenTheListCannotBeRead()
    {
        await using var gateway = GatewayFactory.With(new Dictionary<string, string?> { ["Gateway:TokenCacheSeconds"] = "5" }).WithStorageProbe();
        var address = gateway.StartOnLoopback();
        var prefix = $"Broken {Guid.NewGuid():N}"[..20];
        var broken = await gateway.CreateTenantAsync($"{prefix} a");
        // From here on, the tenant's event log (which a listing asks for the tenant's counts) cannot be read.
        var eventLog = GrainKeys.EventLog(broken.TenantId);
        try
        {
            await gateway.FailEventLogReadsAsync(broken.TenantId);

            // A suspension whose summary cannot be read is still applied by this gateway at once (it kept serving the
            // tenant from its cache for Gateway:TokenCacheSeconds).
            using var scim = new HttpClient { BaseAddress = new Uri(broken.ScimUrl.TrimEnd('/') + "/") };
            scim.DefaultRequestHeaders.Authorization = new("Bearer", broken.Token);
            Assert.Equal(HttpStatusCode.OK, (await scim.GetAsync("Users")).StatusCode); // this gateway now holds its credentials
            using (var admin = gateway.AdminClient())
            using (await admin.PatchAsJsonAsync($"/admin/tenants/{broken.TenantId}", new { suspended = true }))
            {
            }

            Assert.Equal(HttpStatusCode.Forbidden, (await scim.GetAsync("Users")).StatusCode);

            await using var browser = await portal.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = address.ToString() });
            var page = await PortalFixture.SignInAsOperatorAsync(browser);
            Assert.Equal(503, (await page.GotoAsync("/portal/operator"))!.Status);
            await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("could not be read");

            // The list fails again after the create: the new tenant's token is shown all the same (it was a 500).
            await page.GetByLabel("New tenant's name", new() { Exact = true }).FillAsync($"{prefix} b");
            var response = await page.RunAndWaitForResponseAsync(
                () => page.GetByRole(AriaRole.Button, new() { Name = "Create the tenant", Exact = true }).ClickAsync(),
                r => r.Request.IsNavigationRequest);
            Assert.Equal(200, response.Status);
            var tenantUrl = await page.GetByLabel("Tenant URL", new() { Exact = true }).InputValueAsync();
            var secret = await page.GetByLabel("Secret Token", new() { Exact = true }).InputValueAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("could not be read");
            using (var created = new HttpClient { BaseAddress = new Uri(tenantUrl.TrimEnd('/') + "/") })
            {
                created.DefaultRequestHeaders.Authorization = new("Bearer", secret);
                Assert.Equal(HttpStatusCode.OK, (await created.GetAsync("Users")).StatusCode);
            }
        }
        finally
        {
            StorageProbe.FailNextReadsAsOutage(eventLog, 0);
        }
    }
}
