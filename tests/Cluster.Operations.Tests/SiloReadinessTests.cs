using Cluster.ServiceDefaults.Operations;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Cluster.Operations.Tests;

[CollectionDefinition(ClusterFixture.Collection)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>;

/// <summary>Silo readiness: an active member of the cluster whose storage answers.</summary>
[Collection(ClusterFixture.Collection)]
public sealed class SiloReadinessTests(ClusterFixture fixture)
{
    [Fact]
    public async Task ActiveSiloWithMemoryStorageIsReady() =>
        Assert.Equal(HealthStatus.Healthy, (await Check(new() { ["Cluster:Membership"] = "Localhost", ["Storage:Provider"] = "Memory" })).Status);

    [Fact]
    public async Task ActiveSiloWithReachableAzureStorageIsReady()
    {
        var result = await Check(new() { ["Storage:Provider"] = "AzureTable", ["Storage:ConnectionString"] = AzuriteStorage.ConnectionString });
        Assert.True(result.Status == HealthStatus.Healthy, $"{result.Description} {result.Exception?.Message} (is Azurite running? tests/run.sh starts it)");
    }

    [Fact]
    public async Task UnreachableStorageMakesTheSiloNotReady()
    {
        var port = TestPorts.Free();
        var dead = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";
        var result = await Check(new() { ["Storage:Provider"] = "AzureTable", ["Storage:ConnectionString"] = dead });
        Assert.Equal(HealthStatus.Unhealthy, result.Status);
    }

    private async Task<HealthCheckResult> Check(Dictionary<string, string?> settings)
    {
        var services = fixture.Cluster.Silos[0].ServiceProvider;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var check = new SiloReadinessCheck(services.GetRequiredService<ILocalSiloDetails>(), services.GetRequiredService<IClusterMembershipService>(), configuration);
        return await check.CheckHealthAsync(new HealthCheckContext());
    }
}
