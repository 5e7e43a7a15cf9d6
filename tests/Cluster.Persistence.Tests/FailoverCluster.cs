using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Cluster.Abstractions;
using Cluster.Gateway.Resilience;
using Cluster.Scim.Resources;
using Cluster.Scim.Schema;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Cluster.Persistence.Tests;

/// <summary>
/// The cluster of the failover tests: three in-process silos on Azure Table storage (Azurite, so state outlives a silo),
/// a table and ServiceId of their own per run, failure detection in about two seconds, and calls made through the
/// gateway's retry policy (<see cref="TryAsync"/>). Disposing it stops the silos and deletes the table. A twin
/// (<see cref="StartTwinAsync"/>) is a second cluster of its own on the same table and ServiceId: each has its own activation
/// of every grain, as a silo declared dead while still running has beside the ones that replaced it.
/// </summary>
internal sealed class FailoverCluster : IAsyncDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly string _connectionString;
    private readonly string _tableName;
    private readonly string _serviceId;
    private readonly bool _ownsTable;
    private readonly bool _probed;
    private readonly GrainCallRetry _retry;
    private int _retried;
    private bool _killStarted;
    private bool _stopped;

    private FailoverCluster(InProcessTestCluster cluster, string run, string connectionString, string tableName, string serviceId, bool ownsTable, bool probed, ITestOutputHelper output)
    {
        _probed = probed;
        Cluster = cluster;
        Run = run;
        _connectionString = connectionString;
        _tableName = tableName;
        _serviceId = serviceId;
        _ownsTable = ownsTable;
        _output = output;
        _retry = new GrainCallRetry(
            Options.Create(new GrainCallRetryOptions { MaxAttempts = 8, InitialDelayMilliseconds = 200, MaxDelayMilliseconds = 2000 }),
            TimeProvider.System,
            NullLogger<GrainCallRetry>.Instance);
    }

    public InProcessTestCluster Cluster { get; }

    public IClusterClient Client => Cluster.Client;

    /// <summary>12 hex characters naming this run (its table, ServiceId and the test's own names).</summary>
    public string Run { get; }

    /// <summary>Calls answered only after a retry.</summary>
    public int Retried => Volatile.Read(ref _retried);

    /// <summary>True once <see cref="RunKillingAsync"/> has begun.</summary>
    public bool KillStarted => Volatile.Read(ref _killStarted);

    /// <summary>
    /// Starts <paramref name="silos"/> silos on a new table <paramref name="tablePrefix"/>{run}, ServiceId
    /// <paramref name="servicePrefix"/>{run}; with <paramref name="probed"/>, their storage goes through
    /// <see cref="StorageProbe"/>, and so does their twins'.
    /// </summary>
    public static async Task<FailoverCluster> StartAsync(string tablePrefix, string servicePrefix, ITestOutputHelper output, short silos = 3, bool probed = false)
    {
        var connectionString = AzuriteStorage.ConnectionString;
        await AzuriteProbe.EnsureReachableAsync(connectionString);
        var run = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var cluster = await DeployAsync(connectionString, tablePrefix + run, servicePrefix + run, silos, probed);
        return new FailoverCluster(cluster, run, connectionString, tablePrefix + run, servicePrefix + run, ownsTable: true, probed, output);
    }

    /// <summary>
    /// Starts another cluster of <paramref name="silos"/> silos on this one's table and ServiceId, with a membership of its
    /// own: the two never hear of each other, so each activates every grain it is asked for. Disposing it leaves the table.
    /// </summary>
    public async Task<FailoverCluster> StartTwinAsync(short silos = 1) =>
        new(await DeployAsync(_connectionString, _tableName, _serviceId, silos, _probed), Run, _connectionString, _tableName, _serviceId, ownsTable: false, _probed, _output);

    /// <summary>Stops the silos (their activations with them); the table stays. Idempotent.</summary>
    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await Cluster.StopAllSilosAsync();
            await Cluster.DisposeAsync();
        }
    }

    /// <summary>
    /// Starts <paramref name="silos"/> silos on <paramref name="tableName"/> with ServiceId <paramref name="serviceId"/>, failure
    /// detection in about two seconds; with <paramref name="probed"/>, storage goes through <see cref="StorageProbe"/>.
    /// </summary>
    public static async Task<InProcessTestCluster> DeployAsync(string connectionString, string tableName, string serviceId, short silos, bool probed = false)
    {
        var configuration = StorageConfiguration(connectionString, tableName);
        var builder = new InProcessTestClusterBuilder(initialSilosCount: silos);
        builder.Options.ServiceId = serviceId;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddScimGrains(configuration);
            if (probed)
            {
                StorageProbe.InstallOverAzureTable(silo.Services);
            }

            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 2;
            });
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    /// <summary>Silo configuration for grain state in <paramref name="tableName"/> of Azure Table storage, with the test extension schemas and <see cref="TestEvents"/>.</summary>
    public static IConfiguration StorageConfiguration(string connectionString, string tableName) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "AzureTable",
            ["Storage:ConnectionString"] = connectionString,
            ["Storage:TableName"] = tableName,
        }).AddInMemoryCollection(TestExtension.Settings).AddInMemoryCollection(TestEvents.Settings).Build();

    /// <summary>
    /// A call through the gateway's policy. Acknowledged: a 2xx. Rejected: an answer on the first attempt (the request changed
    /// nothing). Unknown: the failure outlasted the retries, or an answer after a retry (the first attempt may have done the
    /// work, e.g. a repeated delete answers 404), or any failure once the kill has begun: TestingHost's kill stops the silo's
    /// services under its running grains, so a call there can fail with e.g. "GrainState-Table property not initialized"
    /// (an OrleansException, not transient); a real kill -9 gives the caller a timeout.
    /// </summary>
    public async Task<CallOutcome> TryAsync(CallSafety safety, Func<Task<ScimResult>> call)
    {
        var attempts = 0;
        try
        {
            var result = await _retry.ExecuteAsync(safety, () =>
            {
                attempts++;
                return call();
            });
            if (attempts > 1)
            {
                Interlocked.Increment(ref _retried);
            }

            return new CallOutcome(result.IsSuccess ? Ack.Yes : attempts == 1 ? Ack.Rejected : Ack.Unknown, result.Status, attempts);
        }
        catch (Exception e) when (GrainCallRetry.IsTransient(e) || KillStarted)
        {
            _output.WriteLine($"unknown outcome after {attempts} attempt(s): {e.GetType().Name}: {e.Message.Split('\n')[0]}");
            return new CallOutcome(Ack.Unknown, null, attempts);
        }
    }

    /// <summary>
    /// Waits for the <paramref name="writers"/> while a silo is killed in process (no shutdown: its grains and storage calls are
    /// cut off) as soon as <paramref name="killAt"/> completes: progress, not time, decides when. <paramref name="victim"/>
    /// chooses the silo and says what it holds. Fails when the load ended before the kill.
    /// </summary>
    public async Task RunKillingAsync(List<Task> writers, Task killAt, Func<Task<(InProcessSiloHandle Silo, string Why)>> victim)
    {
        var killer = Task.Run(async () =>
        {
            await Task.WhenAny(killAt, Task.WhenAll(writers));
            var (silo, why) = await victim();
            Volatile.Write(ref _killStarted, true);
            _output.WriteLine($"killing {silo.SiloAddress} {why}");
            await Cluster.KillSiloAsync(silo);
        });
        await Task.WhenAll(writers);
        await killer;
        Assert.True(killAt.IsCompleted, "the silo was killed only after the load ended");
    }

    /// <summary>A user as the gateway hands it to the grain (normalized): userName, externalId, the userName as work email, and a displayName when given.</summary>
    public static string UserResource(string userName, string externalId, string? displayName = null)
    {
        var user = new JsonObject
        {
            ["userName"] = userName,
            ["externalId"] = externalId,
            ["emails"] = new JsonArray(new JsonObject { ["type"] = "work", ["value"] = userName }),
        };
        if (displayName is not null)
        {
            user["displayName"] = displayName;
        }

        return ResourceNormalizer.Normalize(user, ScimSchemas.UserResource).ToJsonString();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_ownsTable)
        {
            await new TableServiceClient(_connectionString).GetTableClient(_tableName).DeleteAsync();
        }
    }
}

/// <summary>What a client learned of a write (<see cref="FailoverCluster.TryAsync"/>), its status (null: no answer) and the attempts it took.</summary>
internal readonly record struct CallOutcome(Ack Ack, int? Status, int Attempts)
{
    public void Deconstruct(out Ack ack, out int? status) => (ack, status) = (Ack, Status);
}

/// <summary>What a client learned of a write (<see cref="FailoverCluster.TryAsync"/>).</summary>
internal enum Ack
{
    Yes,
    Rejected,
    Unknown,
}
