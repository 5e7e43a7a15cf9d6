using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Cluster.TestInfrastructure;

namespace Cluster.Operations.Tests;

/// <summary>
/// The silo's HTTP endpoints over the real silo host, started as a process (<see cref="SiloProcess"/>): readiness
/// once the silo is Active, liveness, Orleans metrics after grain traffic (sent by a gateway of the split topology, an
/// Orleans client of that silo), and the dashboard behind the operator key.
/// </summary>
public sealed class SiloEndpointTests(SiloProcess silo) : IClassFixture<SiloProcess>
{
    [Fact]
    public async Task HealthIsReadyWhenTheSiloIsActiveAndAliveAnswers()
    {
        await WaitUntilReady();
        using var client = silo.Client();
        using var health = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("Healthy", await health.Content.ReadAsStringAsync());
        using var alive = await client.GetAsync("/alive");
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal("Healthy", await alive.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task MetricsExportOrleansMetersAfterGrainTraffic()
    {
        await WaitUntilReady();
        await using (var gateway = ClientGatewayFactory.Of(silo.GatewayPort))
        {
            await ScimTraffic.ReplayAsync(gateway);
        }

        List<PrometheusText.Sample> samples = [];
        await silo.WaitUntilAsync("orleans_grains{grain_type=\"user\"} at /metrics", () => "orleans_grains samples: " + string.Join("; ", samples.Where(s => s.Name == "orleans_grains").Select(s => $"{string.Join(",", s.Labels)}={s.Value}")), async client =>
        {
            samples = PrometheusText.Parse(await client.GetStringAsync("/metrics"));
            return samples.Any(s => s.Name == "orleans_grains" && s.Labels.TryGetValue("grain_type", out var t) && t == "user" && s.Value >= 1);
        });
        // Grain types are Orleans' short names: UserGrain is "user", TenantGrain "tenant", IndexEntryGrain "indexentry".
        Assert.Contains(samples, s => s.Name == "orleans_grains" && s.Labels["grain_type"] == "tenant" && s.Value >= 1);
        Assert.Contains(samples, s => s.Name == "orleans_grains" && s.Labels["grain_type"] == "indexentry" && s.Value >= 1);
        Assert.Contains(samples, s => s.Name == "orleans_consistent_ring_size" && s.Value >= 1);
        Assert.Contains(samples, s => s.Name.StartsWith("orleans_app_requests_latency", StringComparison.Ordinal));
        Assert.DoesNotContain(samples, s => s.Labels.Values.Any(v => v.Contains("contoso.example", StringComparison.OrdinalIgnoreCase)));
    }

    [Fact]
    public async Task TheDashboardNeedsTheOperatorKey()
    {
        await WaitUntilReady();
        using var client = silo.Client();
        using (var refused = await client.GetAsync("/dashboard/"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Contains(refused.Headers.WwwAuthenticate, h => h.Scheme == "Basic");
        }

        using (var wrong = await Get(client, "/dashboard/", new AuthenticationHeaderValue("Bearer", SiloProcess.OperatorKey + "x")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        var basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("anyone:" + SiloProcess.OperatorKey)));
        foreach (var auth in new[] { new AuthenticationHeaderValue("Bearer", SiloProcess.OperatorKey), basic })
        {
            using var page = await Get(client, "/dashboard/", auth);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("Orleans Dashboard", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var counters = await Get(client, "/dashboard/DashboardCounters", new AuthenticationHeaderValue("Bearer", SiloProcess.OperatorKey));
        Assert.Equal(HttpStatusCode.OK, counters.StatusCode);
        Assert.Equal("application/json", counters.Content.Headers.ContentType?.MediaType);
    }

    private Task WaitUntilReady() => silo.WaitUntilHealthyAsync();

    private static async Task<HttpResponseMessage> Get(HttpClient client, string path, AuthenticationHeaderValue auth)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = auth;
        return await client.SendAsync(request);
    }
}
