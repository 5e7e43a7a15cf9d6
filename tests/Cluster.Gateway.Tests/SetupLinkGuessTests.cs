using System.Net;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>
/// Setup links anyone can make up (<c>/portal/setup/{tenantId}/{secret}</c>) are bounded as bearer tokens are: one not of a
/// secret's form is refused without a lookup; one naming a tenant this gateway does not know costs a lookup and spends the
/// client address's budget of failed authentications, then is refused (429) before any grain call; a tenant known to this
/// gateway is asked from memory, so its admin's real link still opens the portal from an address that spent its budget.
/// </summary>
public sealed class SetupLinkGuessTests
{
    private const int Burst = 3;

    [Fact]
    public async Task MadeUpSetupLinksSpendTheAddressBudgetAndCostNoLookupOnceItIsSpent()
    {
        await using var gateway = GatewayFactory.With(new Dictionary<string, string?>
        {
            ["RateLimits:FailedAuthentication:Burst"] = Burst.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RateLimits:FailedAuthentication:PermitsPerSecond"] = "0.001",
        }).WithStorageProbe();
        var tenant = await gateway.CreateTenantAsync();
        var link = await gateway.SetupLinkPathAsync(tenant.TenantId);

        using var browser = gateway.CreateClient(new() { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(link)).StatusCode); // the tenant is now known to this gateway

        // Not of a secret's form: refused, nothing looked up, nothing spent.
        var unknownTenant = GrainKeys.NewTenantId();
        foreach (var secret in new[] { "x", "psl_", "psl_short", SetupLinkSecrets.New() + "A", "scim_" + SetupLinkSecrets.New()[4..] })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync($"/portal/setup/{unknownTenant}/{secret}")).StatusCode);
        }

        Assert.Equal(0, StorageProbe.ReadsOf(GrainKeys.Tenant(unknownTenant)));
        Assert.Equal(0, StorageProbe.ReadsOf(GrainKeys.PortalAccess(unknownTenant)));

        // Of a secret's form, for tenants nobody created: a lookup each (404) until the budget is spent, then 429 with
        // Retry-After and no lookup at all. None of them activates a tenant's setup links.
        var guesses = Enumerable.Range(0, Burst + 3).Select(_ => GrainKeys.NewTenantId()).ToArray();
        var statuses = new List<HttpStatusCode>();
        foreach (var guess in guesses)
        {
            using var response = await browser.GetAsync($"/portal/setup/{guess}/{SetupLinkSecrets.New()}");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.NotNull(response.Headers.RetryAfter);
                Assert.Contains("Wait a moment", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.NotFound, Burst), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 3)], statuses);
        Assert.All(guesses[..Burst], g => Assert.Equal(1, StorageProbe.ReadsOf(GrainKeys.Tenant(g))));
        Assert.All(guesses[Burst..], g => Assert.Equal(0, StorageProbe.ReadsOf(GrainKeys.Tenant(g))));
        Assert.All(guesses, g => Assert.Equal(0, StorageProbe.ReadsOf(GrainKeys.PortalAccess(g))));

        // The real tenant's admin, from the same address: a wrong secret is refused from memory, the real link still opens.
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync($"/portal/setup/{tenant.TenantId}/{SetupLinkSecrets.New()}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(link)).StatusCode);
    }
}
