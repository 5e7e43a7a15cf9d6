using System.Net;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

public sealed class SmokeTests : IClassFixture<GatewayFactory>
{
    private readonly GatewayFactory _gateway;

    public SmokeTests(GatewayFactory gateway) => _gateway = gateway;

    [Fact]
    public async Task TestConnectionProbeAnswersEmptyList()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        using var response = await scim.GetAsync("Users?filter=userName+eq+%2271e3b2a8-6f2c-4c1e-9a55-0c6f3f1b2f10%22");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/scim+json", response.Content.Headers.ContentType?.MediaType);
    }
}
