using System.Collections.Concurrent;
using Cluster.Abstractions;
using Cluster.Gateway.Resilience;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Cluster.Grains.Tests;

/// <summary>
/// Silos can be added while traffic flows: a cluster of one silo under an Entra-like load (user creates, PATCHes,
/// group member adds, lookups) gets a second silo; new activations land on it (asked of the runtime per grain, and in
/// the per-silo grain statistics), and no request fails. Progress, not time, decides when the silo joins and when
/// the load stops (bounded waits only).
/// </summary>
public sealed class ScaleOutTests(ITestOutputHelper output)
{
    private const int Tenants = 2;
    private const int WritersPerTenant = 3;

    [Fact]
    public async Task ASiloAddedUnderLoadTakesNewActivationsWithoutFailedRequests()
    {
        var builder = new InProcessTestClusterBuilder(initialSilosCount: 1);
        builder.ConfigureSilo((_, silo) => silo.AddScimGrains(ClusterFixture.MemoryStorage()));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        try
        {
            var grains = cluster.Client;
            var management = grains.GetGrain<IManagementGrain>(0);
            var retry = new GrainCallRetry(Options.Create(new GrainCallRetryOptions()), TimeProvider.System, NullLogger<GrainCallRetry>.Instance);
            var failures = new ConcurrentQueue<string>();
            var created = new ConcurrentQueue<(string TenantId, string UserId, bool AfterJoin)>();
            var retried = 0;
            var requests = 0;
            var joined = false;
            using var stop = new CancellationTokenSource();

            // One request the way the gateway makes it (its retry policy); a failure is an exception or an unexpected status.
            async Task<ScimResult?> RequestAsync(CallSafety safety, Func<Task<ScimResult>> call, params int[] expected)
            {
                Interlocked.Increment(ref requests);
                var attempts = 0;
                try
                {
                    var result = await retry.ExecuteAsync(safety, () =>
                    {
                        attempts++;
                        return call();
                    });
                    if (attempts > 1)
                    {
                        Interlocked.Increment(ref retried);
                    }

                    if (!expected.Contains(result.Status))
                    {
                        failures.Enqueue($"answered {result.Status}: {result.Detail}");
                    }

                    return result;
                }
                catch (Exception e)
                {
                    failures.Enqueue($"{e.GetType().Name}: {e.Message}");
                    return null;
                }
            }

            var tenants = Enumerable.Range(0, Tenants).Select(_ => GrainKeys.NewTenantId()).ToArray();
            var groups = new Dictionary<string, string>();
            foreach (var tenantId in tenants)
            {
                var groupId = GrainKeys.NewResourceId();
                Assert.Equal(201, (await grains.Group(tenantId, groupId).CreateAsync(Groups.Resource("Everyone"))).Status);
                groups[tenantId] = groupId;
            }

            async Task WriterAsync(string tenantId, int writer)
            {
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    var afterJoin = Volatile.Read(ref joined);
                    var id = GrainKeys.NewResourceId();
                    var name = $"scale.w{writer}.n{n}@contoso.com";
                    var user = grains.User(tenantId, id);
                    if (await RequestAsync(CallSafety.Idempotent, () => user.CreateAsync(Users.Resource(name, $"x{writer}-{n}", name)), 201) is not { Status: 201 })
                    {
                        continue;
                    }

                    created.Enqueue((tenantId, id, afterJoin));
                    await RequestAsync(CallSafety.Idempotent, () => user.PatchAsync(Groups.Ops("""{"op":"Replace","path":"displayName","value":"v1"}""")), 200);
                    await RequestAsync(CallSafety.Idempotent, () => grains.Group(tenantId, groups[tenantId]).PatchAsync(Groups.AddMembers(id)), 200);
                    await RequestAsync(CallSafety.Read, () => user.GetAsync(), 200);
                }
            }

            var writers = tenants.SelectMany(t => Enumerable.Range(0, WritersPerTenant).Select(w => Task.Run(() => WriterAsync(t, w)))).ToList();

            // Scale out once the load is running.
            await WaitUntilAsync(() => created.Count >= 30, "30 users created on one silo");
            var first = cluster.Silos[0].SiloAddress;
            var added = await cluster.StartAdditionalSiloAsync();
            await cluster.WaitForLivenessToStabilizeAsync();
            Volatile.Write(ref joined, true);
            output.WriteLine($"added silo {added.SiloAddress} after {created.Count} creates");

            // Keep the load on until a good number of users were created after the join and some of them live on the new
            // silo (bounded; Orleans' default resource-optimized placement weighs the silos' load, so the share varies).
            var createdBeforeJoin = created.Count;
            await WaitUntilAsync(() => created.Count >= createdBeforeJoin + 60, "60 more users created after the join");
            await WaitUntilAsync(
                async () => (await management.GetSimpleGrainStatistics([added.SiloAddress]))
                    .Where(s => s.GrainType.Contains("UserGrain", StringComparison.Ordinal)).Sum(s => s.ActivationCount) >= 5,
                "5 user activations on the new silo");
            await stop.CancelAsync();
            await Task.WhenAll(writers);

            // Where did the users created after the join get activated? Ask the runtime for each one.
            var bySilo = new Dictionary<SiloAddress, int>();
            foreach (var (tenantId, userId, afterJoin) in created.Where(c => c.AfterJoin))
            {
                var address = await management.GetActivationAddress(grains.User(tenantId, userId));
                Assert.NotNull(address);
                bySilo[address] = bySilo.GetValueOrDefault(address) + 1;
            }

            output.WriteLine($"{requests} requests ({retried} answered after a retry), {created.Count} users; users created after the join by silo: "
                + string.Join(", ", bySilo.Select(s => $"{(s.Key.Equals(added.SiloAddress) ? "new" : s.Key.Equals(first) ? "first" : s.Key.ToString())}: {s.Value}")));
            var stats = await management.GetSimpleGrainStatistics([first, added.SiloAddress]);
            foreach (var s in stats.Where(s => s.GrainType.Contains("Grain", StringComparison.Ordinal) && s.GrainType.Contains("Cluster", StringComparison.Ordinal)))
            {
                output.WriteLine($"  {(s.SiloAddress.Equals(added.SiloAddress) ? "new  " : "first")} {s.GrainType}: {s.ActivationCount}");
            }

            Assert.Empty(failures);
            Assert.True(bySilo.GetValueOrDefault(added.SiloAddress) > 0, "no user created after the join was activated on the new silo");
            Assert.Contains(stats, s => s.SiloAddress.Equals(added.SiloAddress) && s.GrainType.Contains("UserGrain", StringComparison.Ordinal) && s.ActivationCount > 0);

            // Every user answers and the group lists all of them (nothing was lost moving between one and two silos).
            foreach (var tenantId in tenants)
            {
                var members = await grains.MembersAsync(tenantId, groups[tenantId]);
                var ids = created.Where(c => c.TenantId == tenantId).Select(c => c.UserId).Order(StringComparer.Ordinal).ToArray();
                Assert.Equal(ids, members);
            }
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    private static Task WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        for (var i = 0; i < 1200; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"not reached within 2 minutes: {what}");
    }
}
