using System.Net;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>Invariant 4 across gateways: 50 concurrent creates of one userName over two gateways give one 201 and 49 × 409.</summary>
public sealed class CrossGatewayUniquenessTests
{
    [Fact]
    public async Task FiftyConcurrentCreatesOfOneUserNameOverTwoGatewaysGiveExactlyOneUser()
    {
        await using var first = new GatewayFactory();
        var tenant = await first.CreateTenantAsync();
        await using var second = GatewayFactory.ConnectTo(first);
        using var a = first.ScimClient(tenant);
        using var b = second.ScimClient(tenant);

        // Warm both pipelines so the 50 requests really race (the second gateway connects to the silo on first use).
        foreach (var client in new[] { a, b })
        {
            using var probe = await client.GetAsync(ScimUsers.Filter("nobody@contoso.com"));
            Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        }

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            (i % 2 == 0 ? a : b).PostAsync("Users", ScimUsers.NewUser(i % 3 == 0 ? "Race@Contoso.com" : "race@contoso.com", $"Racer {i}"))));
        try
        {
            var statuses = responses.Select(r => r.StatusCode).ToList();
            Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.Created));
            Assert.Equal(49, statuses.Count(s => s == HttpStatusCode.Conflict));
            foreach (var conflict in responses.Where(r => r.StatusCode == HttpStatusCode.Conflict).Take(3))
            {
                Assert.Equal("uniqueness", (await ScimUsers.BodyAsync(conflict))["scimType"]!.GetValue<string>());
            }

            var winner = (await ScimUsers.BodyAsync(responses.Single(r => r.StatusCode == HttpStatusCode.Created)))["id"]!.GetValue<string>();
            foreach (var client in new[] { a, b })
            {
                using var found = await client.GetAsync(ScimUsers.Filter("RACE@contoso.com"));
                var list = await ScimUsers.BodyAsync(found);
                Assert.Equal(1, list["totalResults"]!.GetValue<int>());
                Assert.Equal(winner, list["Resources"]![0]!["id"]!.GetValue<string>());

                using var all = await client.GetAsync("Users");
                Assert.Equal(1, (await ScimUsers.BodyAsync(all))["totalResults"]!.GetValue<int>());
            }
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }
}
