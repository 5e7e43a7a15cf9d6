using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;
using Xunit;

namespace Cluster.TestInfrastructure;

/// <summary>
/// A two-silo in-process cluster with memory storage, shared by a test collection (each test project declares <c>[CollectionDefinition(ClusterFixture.Collection)]</c>: xunit finds collection definitions only in the test assembly). Tests use fresh random tenant
/// ids, so shared state never leaks between them.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const string Collection = "cluster";

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(initialSilosCount: 2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddScimGrains(MemoryStorage());
            StorageProbe.Install(silo.Services);
            silo.AddIncomingGrainCallFilter<AnswerProbe>();
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    /// <summary>Configuration selecting memory grain storage, with the test extension schemas (<see cref="TestExtension"/>), <see cref="TestEvents"/> and <see cref="TestTenants"/>.</summary>
    public static IConfiguration MemoryStorage() =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Storage:Provider"] = "Memory" })
            .AddInMemoryCollection(TestExtension.Settings)
            .AddInMemoryCollection(TestEvents.Settings)
            .AddInMemoryCollection(TestTenants.Settings)
            .Build();
}
