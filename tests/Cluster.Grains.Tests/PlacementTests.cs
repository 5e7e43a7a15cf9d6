using Cluster.Abstractions;
using Cluster.TestInfrastructure;
using Orleans.TestingHost;

namespace Cluster.Grains.Tests;

/// <summary>
/// <c>Cluster:Placement=local</c> (<c>PlaceResourceGrainsLocally</c>): a user's index entries are first needed by the user
/// (its claims), so they activate on the user's silo, and a create's calls stay in one process. Two silos, so that the
/// default placement could have put them anywhere.
/// </summary>
public sealed class PlacementTests
{
    [Fact]
    public async Task WithLocalPlacementAUsersIndexEntriesActivateOnItsSilo()
    {
        var builder = new InProcessTestClusterBuilder(initialSilosCount: 2);
        builder.ConfigureSilo((_, silo) => silo.AddScimGrains(ClusterFixture.MemoryStorage()).PlaceResourceGrainsLocally());
        var cluster = builder.Build();
        await cluster.DeployAsync();
        try
        {
            var grains = cluster.Client;
            var management = grains.GetGrain<IManagementGrain>(0);
            var tenantId = GrainKeys.NewTenantId();
            for (var i = 0; i < 20; i++)
            {
                var userName = $"local{i}@contoso.com";
                var id = await grains.CreateUserAsync(tenantId, userName, externalId: $"ext-{i}");

                var user = await management.GetActivationAddress(grains.User(tenantId, id));
                Assert.NotNull(user);
                Assert.Equal(user, await management.GetActivationAddress(grains.IndexEntry(tenantId, IndexNames.UserName, userName)));
                Assert.Equal(user, await management.GetActivationAddress(grains.IndexEntry(tenantId, IndexNames.UserExternalId, $"ext-{i}")));
            }
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }
}
