using System.Net;
using System.Net.Http.Headers;
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

        await page.GotoAsync(link);
        Assert.EndsWith($"/portal/t/{tenant.TenantId}", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Fabrikam");

        // Copy the Tenant URL with its button, as the admin does.
        await page.GetByRole(AriaRole.Button, new() { Name = "Copy" }).First.ClickAsync();
        var tenantUrl = await page.EvaluateAsync<string>("() => navigator.clipboard.readText()");
        Assert.Equal(tenant.ScimUrl.TrimEnd('/'), tenantUrl.TrimEnd('/'));

        // Generate a Secret Token: shown once.
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate a Secret Token" }).ClickAsync();
        var secret = await page.GetByLabel("New Secret Token").InputValueAsync();
        Assert.False(string.IsNullOrEmpty(secret));

        // Entra's Test Connection with the pasted values.
        using var http = portal.Http();
        using var probe = new HttpRequestMessage(HttpMethod.Get, tenantUrl.TrimEnd('/') + "/Users?filter=" + Uri.EscapeDataString("userName eq \"probe@example.com\""));
        probe.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        using var answer = await http.SendAsync(probe);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
    }
}
