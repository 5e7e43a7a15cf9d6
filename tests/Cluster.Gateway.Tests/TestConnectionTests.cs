using System.Net;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>entra-scim.md §2.1: the portal's Test Connection probes and rule 1 (no match = 200 + empty ListResponse).</summary>
public sealed class TestConnectionTests : IClassFixture<GatewayFactory>
{
    private readonly GatewayFactory _gateway;

    public TestConnectionTests(GatewayFactory gateway) => _gateway = gateway;

    [Theory]
    [InlineData("Users?filter=userName+eq+%2271e3b2a8-6f2c-4c1e-9a55-0c6f3f1b2f10%22")]
    [InlineData("Users?filter=userName eq \"71e3b2a8-6f2c-4c1e-9a55-0c6f3f1b2f10\"")]
    [InlineData("Users?filter=externalId+eq+%2271e3b2a8-6f2c-4c1e-9a55-0c6f3f1b2f10%22")]
    [InlineData("Users?filter=emails%5Btype+eq+%22work%22%5D.value+eq+%2271e3b2a8-6f2c-4c1e-9a55-0c6f3f1b2f10%22")]
    [InlineData("Users?filter=emails[type eq \"work\"].value eq \"71e3b2a8@example.com\"")]
    public async Task ProbeForUnknownValueAnswersEmptyListResponse(string probe)
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        await scim.CreateUserAsync("someone.else@contoso.com");

        using var response = await scim.GetAsync(probe);

        ScimTestClient.AssertEmptyList(await response.ExpectScimAsync(HttpStatusCode.OK));
    }

    [Fact]
    public async Task ProbeOnEmptyTenantAnswersEmptyListResponse()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);

        using var response = await scim.GetAsync($"Users?filter=userName+eq+%22{Guid.NewGuid()}%22");

        ScimTestClient.AssertEmptyList(await response.ExpectScimAsync(HttpStatusCode.OK));
    }
}
