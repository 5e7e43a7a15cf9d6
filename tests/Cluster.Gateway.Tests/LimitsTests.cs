using System.Net;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>A gateway with a small page size: <c>count</c> is capped and advertised.</summary>
public sealed class LimitsTests : IClassFixture<LimitsTests.SmallPageGateway>
{
    private readonly GatewayFactory _gateway;

    public LimitsTests(SmallPageGateway fixture) => _gateway = fixture.Gateway;

    [Fact]
    public async Task CountIsCappedToTheMaximumPageSize()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        for (var i = 0; i < 5; i++)
        {
            await scim.CreateUserAsync($"capped{i}@contoso.com");
        }

        // An integer beyond 32 bits is still an integer (it was a 400): clamped like the others.
        foreach (var query in new[] { "Users", "Users?count=1000", "Users?count=2147483647", "Users?count=2147483648", "Users?count=99999999999999999999999", "Users?startIndex=-3000000000", "Users?startIndex=2&count=50" })
        {
            using var response = await scim.GetAsync(query);
            var page = await response.ExpectScimAsync(HttpStatusCode.OK);
            Assert.Equal(5, page["totalResults"]!.GetValue<int>());
            Assert.Equal(3, page["itemsPerPage"]!.GetValue<int>());
            Assert.Equal(3, page["Resources"]!.AsArray().Count);
        }

        foreach (var query in new[] { "Users?startIndex=99999999999", "Users?count=-3000000000" })
        {
            using var response = await scim.GetAsync(query);
            var page = await response.ExpectScimAsync(HttpStatusCode.OK);
            Assert.Equal(5, page["totalResults"]!.GetValue<int>());
            Assert.Equal(0, page["itemsPerPage"]!.GetValue<int>());
        }

        using var config = await scim.GetAsync("ServiceProviderConfig");
        Assert.Equal(3, (await config.ExpectScimAsync(HttpStatusCode.OK))["filter"]!["maxResults"]!.GetValue<int>());
    }

    /// <summary>One co-hosted gateway with <c>Gateway:MaxPageSize=3</c> for the whole class.</summary>
    public sealed class SmallPageGateway : IDisposable
    {
        public GatewayFactory Gateway { get; } = GatewayFactory.With(new Dictionary<string, string?> { ["Gateway:MaxPageSize"] = "3" });

        public void Dispose() => Gateway.Dispose();
    }
}
