using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Cluster.Abstractions;
using Cluster.Gateway.Auth;
using Cluster.Gateway.Hosting;
using Cluster.Gateway.Limits;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace Cluster.Gateway.Tests;

/// <summary>
/// Issue 11, "unauthenticated floods are cheap": requests for random well-formed tenant ids cost the gateway bounded
/// memory and the silos a bounded number of storage reads, and a real tenant calling from the same address keeps working.
/// Runs alone (its collection is not parallelized with others), so the process's managed heap measures its own traffic.
/// </summary>
[Collection(nameof(FloodTests))]
public sealed partial class FloodTests(ITestOutputHelper output)
{
    private const int FloodRequests = 100_000;
    private const int Workers = 16;

    [Fact]
    public async Task RandomTenantIdsCostBoundedMemoryAndStorageReadsWhileARealTenantKeepsWorking()
    {
        // Default limits. Every request of the real tenant re-reads its credentials (TokenCacheSeconds = 0), so each one
        // takes the re-read path while the flood has spent the address's budget.
        await using var gateway = GatewayFactory.With(new Dictionary<string, string?> { ["Gateway:TokenCacheSeconds"] = "0" }).WithStorageProbe();
        var cache = gateway.Services.GetRequiredService<TenantCredentialCache>();
        var cacheSize = gateway.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.CredentialCacheSize;
        var budget = gateway.Services.GetRequiredService<IOptions<FailedAuthenticationLimitOptions>>().Value;
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        using var flood = gateway.CreateClient();
        flood.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "scim_" + new string('A', 43));
        var seed = Random.Shared.Next();
        var run = Stopwatch.StartNew();

        // The real tenant's first request makes it known to this gateway. (A tenant's first lookup on a gateway, asked
        // from an address over its budget, waits like any unknown id: docs/architecture.md, "Tenants and tokens".)
        Assert.Equal(HttpStatusCode.OK, await RealRequestAsync(scim, 0));

        // Warm-up (first requests of each kind, the address's burst spent), then the baseline.
        await SendFloodAsync(flood, seed, requests: 1_000);
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var clock = Stopwatch.StartNew();

        var flooding = SendFloodAsync(flood, seed + 1, FloodRequests);
        var real = new List<HttpStatusCode>();
        while (!flooding.IsCompleted)
        {
            // At Entra's pace (25 requests/s), well inside the tenant's own rate limit.
            real.Add(await RealRequestAsync(scim, real.Count));
            await Task.Delay(TimeSpan.FromMilliseconds(40));
        }

        var (unauthorized, throttled) = await flooding;
        var elapsed = clock.Elapsed;
        var heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        var reads = TenantReads(seed, 1_000) + TenantReads(seed + 1, FloodRequests);
        using var metricsClient = gateway.CreateClient();
        var activeTenants = ActiveTenants().Match(await metricsClient.GetStringAsync("/metrics")).Groups[1].Value;

        output.WriteLine($"{FloodRequests:N0} requests in {elapsed.TotalSeconds:F1} s: {unauthorized:N0} × 401, {throttled:N0} × 429; "
            + $"real tenant {real.Count:N0} requests; tenant storage reads {reads} (warm-up included); cache entries {cache.Count} (bound {cacheSize:N0}); "
            + $"managed heap {heapBefore / 1e6:F1} MB → {heapAfter / 1e6:F1} MB");

        Assert.Equal(FloodRequests, unauthorized + throttled);
        Assert.NotEmpty(real);
        Assert.All(real, status => Assert.Equal(HttpStatusCode.OK, status));

        // One read per failed lookup the limiter let through: the burst and the refill over the run, whatever the concurrency.
        var allowed = budget.Burst + (int)Math.Ceiling(budget.PermitsPerSecond * run.Elapsed.TotalSeconds);
        Assert.InRange(reads, 1, allowed);
        Assert.InRange(cache.Count, 1, Math.Min(cacheSize, reads + 1));

        // Only authenticated tenants are tracked as active (a refused id leaves nothing behind in the instruments).
        Assert.Equal("1", activeTenants);

        // The heap does not grow with the request count: a loose bound, far below what 100,000 cached ids or tenant
        // activations would take (hundreds of bytes, resp. kilobytes, each).
        Assert.True(heapAfter - heapBefore < 16_000_000, $"The managed heap grew by {(heapAfter - heapBefore) / 1e6:F1} MB.");
    }

    [GeneratedRegex(@"^scim_tenants_active(?:\{[^}]*\})? (\d+)", RegexOptions.Multiline)]
    private static partial Regex ActiveTenants();

    private static async Task<HttpStatusCode> RealRequestAsync(HttpClient scim, int i)
    {
        using var response = await scim.GetAsync(ScimUsers.Filter($"probe{i}@contoso.com"));
        return response.StatusCode;
    }

    // Each worker sends its share for ids from its own seeded generator, so TenantReads can name them again afterwards.
    private static async Task<(int Unauthorized, int Throttled)> SendFloodAsync(HttpClient client, int seed, int requests)
    {
        var counts = await Task.WhenAll(Enumerable.Range(0, Workers).Select(worker => Task.Run(async () =>
        {
            var random = new Random(HashCode.Combine(seed, worker));
            var (unauthorized, throttled) = (0, 0);
            for (var i = worker; i < requests; i += Workers)
            {
                using var response = await client.GetAsync($"/scim/v2/tenants/{RandomTenantId(random)}/Users");
                switch (response.StatusCode)
                {
                    case HttpStatusCode.Unauthorized:
                        unauthorized++;
                        break;
                    case HttpStatusCode.TooManyRequests:
                        throttled++;
                        break;
                    default:
                        Assert.Fail($"A random tenant id was answered {response.StatusCode}.");
                        break;
                }
            }

            return (unauthorized, throttled);
        })));
        return (counts.Sum(c => c.unauthorized), counts.Sum(c => c.throttled));
    }

    private static int TenantReads(int seed, int requests)
    {
        var reads = 0;
        for (var worker = 0; worker < Workers; worker++)
        {
            var random = new Random(HashCode.Combine(seed, worker));
            for (var i = worker; i < requests; i += Workers)
            {
                reads += StorageProbe.ReadsOf(GrainKeys.Tenant(RandomTenantId(random)));
            }
        }

        return reads;
    }

    private static string RandomTenantId(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        return Convert.ToHexStringLower(bytes);
    }
}

/// <summary>The flood test's collection: never run in parallel with other tests.</summary>
[CollectionDefinition(nameof(FloodTests), DisableParallelization = true)]
public sealed class FloodTestsCollection;
