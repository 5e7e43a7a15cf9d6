using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests;

[Collection(ClusterFixture.Collection)]
public sealed class UserUniquenessTests(ClusterFixture fixture)
{
    [Fact]
    public async Task FiftyConcurrentCreatesOfOneUserNameGiveExactlyOneWinner()
    {
        var tenantId = GrainKeys.NewTenantId();
        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            fixture.Client.GetGrain<IUserGrain>(GrainKeys.User(tenantId, GrainKeys.NewResourceId()))
                .CreateAsync($$"""{"userName":"{{(i % 2 == 0 ? "Same.Name@contoso.com" : "same.name@CONTOSO.com")}}"}""")));

        Assert.Single(results, r => r.Status == 201);
        Assert.Equal(49, results.Count(r => r.Status == 409 && r.ScimType == "uniqueness"));
    }
}
