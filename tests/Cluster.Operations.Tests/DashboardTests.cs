using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Cluster.TestInfrastructure;

namespace Cluster.Operations.Tests;

/// <summary>
/// The Orleans dashboard on the gateway: only with the operator key (bearer, or Basic with the key as password),
/// serving the product's grain types — over HTTP, and rendered by a real browser (headless Chromium) against a real
/// Kestrel listener on a loopback port.
/// </summary>
public sealed class DashboardTests : IAsyncLifetime
{
    private GatewayFactory _gateway = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        _gateway = new GatewayFactory();
        _port = _gateway.StartOnLoopback().Port;
        await ScimTraffic.ReplayAsync(_gateway);
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Theory]
    [InlineData("/dashboard/")]
    [InlineData("/dashboard/DashboardCounters")]
    [InlineData("/dashboard/Trace")]
    [InlineData("/dashboard/GrainState")]
    public async Task WithoutTheKeyTheDashboardIsRefused(string path)
    {
        using var client = _gateway.CreateClient();
        using var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Basic");

        using var wrong = new HttpRequestMessage(HttpMethod.Get, path);
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", GatewayFactory.AdminKey + "x");
        using var refused = await client.SendAsync(wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task WithTheDashboardTurnedOffNothingIsServedThereAndScimStillWorks()
    {
        await using var gateway = GatewayFactory.With(new Dictionary<string, string?> { ["Operations:Dashboard"] = "false" });
        using var client = gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/dashboard/");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", GatewayFactory.AdminKey);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);

        await ScimTraffic.ReplayAsync(gateway);
        using var health = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public void ADashboardSettingThatIsNotABooleanStopsTheStartNamingTheKey()
    {
        using var gateway = GatewayFactory.With(new Dictionary<string, string?> { ["Operations:Dashboard"] = "maybe" });
        var error = Assert.Throws<InvalidOperationException>(() => gateway.CreateClient());
        Assert.Contains("Operations:Dashboard", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithTheKeyAsBearerOrBasicPasswordTheDashboardIsServed()
    {
        using var client = _gateway.CreateClient();
        foreach (var auth in new[] { new AuthenticationHeaderValue("Bearer", GatewayFactory.AdminKey), Basic("anyone", GatewayFactory.AdminKey) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/dashboard/");
            request.Headers.Authorization = auth;
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("Orleans Dashboard", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var wrongPassword = new HttpRequestMessage(HttpMethod.Get, "/dashboard/");
        wrongPassword.Headers.Authorization = Basic(GatewayFactory.AdminKey, "not-the-key");
        using var refused = await client.SendAsync(wrongPassword);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task CountersListTheProductsGrainTypes()
    {
        using var client = _gateway.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayFactory.AdminKey);
        var types = await GrainTypesAsync(client);
        Assert.Contains("Cluster.Grains.Tenants.TenantGrain", types);
        Assert.Contains("Cluster.Grains.Users.UserGrain", types);
    }

    /// <summary>The grain types the dashboard lists, once its periodic collection has seen the traffic (bounded wait, no timing assertion).</summary>
    private static async Task<HashSet<string>> GrainTypesAsync(HttpClient client)
    {
        var types = new HashSet<string>();
        for (var attempt = 0; attempt < 60; attempt++)
        {
            var counters = JsonNode.Parse(await client.GetStringAsync("/dashboard/DashboardCounters"))!;
            types = counters["simpleGrainStats"]!.AsArray().Select(s => s!["grainType"]!.GetValue<string>()).ToHashSet();
            if (counters["hosts"]!.AsArray().Count > 0 && types.Contains("Cluster.Grains.Users.UserGrain") && types.Contains("Cluster.Grains.Tenants.TenantGrain"))
            {
                break;
            }

            await Task.Delay(500);
        }

        return types;
    }

    [Fact]
    public async Task AdminApiStillAcceptsOnlyTheBearerKey()
    {
        using var client = _gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/tenants") { Content = new StringContent("""{"name":"x"}""", Encoding.UTF8, "application/json") };
        request.Headers.Authorization = Basic("op", GatewayFactory.AdminKey);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task HeadlessChromiumRendersTheGrainTypes()
    {
        var chromium = Environment.GetEnvironmentVariable("CHROMIUM") is { Length: > 0 } configured ? configured : "/usr/bin/chromium";
        Assert.True(File.Exists(chromium),
            $"Chromium is not installed ({chromium} is missing). tests/run.sh installs it (ensure_chromium in deploy/local/lib.sh: apt-get install -y chromium); or set CHROMIUM to a Chromium binary.");

        using (var client = _gateway.CreateClient())
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayFactory.AdminKey);
            await GrainTypesAsync(client);
        }

        var profile = Directory.CreateTempSubdirectory("scim-chromium-");
        var stderr = "";
        try
        {
            // Basic credentials in the URL: the browser answers the dashboard's Basic challenge with them,
            // for the page and for every script and JSON request it makes.
            var url = $"http://operator:{GatewayFactory.AdminKey}@127.0.0.1:{_port}/dashboard/#/grains";
            var start = new ProcessStartInfo(chromium)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", $"--user-data-dir={profile.FullName}", "--virtual-time-budget=15000", "--dump-dom", url })
            {
                start.ArgumentList.Add(arg);
            }

            using var browser = Process.Start(start)!;
            string dom;
            try
            {
                // The guard covers the read too: a browser (or a helper process holding its stdout) that never closes
                // the pipe would otherwise hold the test until the run's hang timeout aborts the whole project.
                using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(3));
                var stderrRead = browser.StandardError.ReadToEndAsync(guard.Token);
                dom = await browser.StandardOutput.ReadToEndAsync(guard.Token);
                await browser.WaitForExitAsync(guard.Token);
                stderr = await stderrRead;
            }
            finally
            {
                if (!browser.HasExited)
                {
                    browser.Kill(entireProcessTree: true);
                }
            }

            Assert.True(dom.Contains("TenantGrain", StringComparison.Ordinal) && dom.Contains("UserGrain", StringComparison.Ordinal),
                $"The rendered dashboard does not name TenantGrain and UserGrain. Exit {browser.ExitCode}. DOM ({dom.Length} chars): {dom[..Math.Min(dom.Length, 2000)]}\nstderr: {stderr[..Math.Min(stderr.Length, 2000)]}");
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
}
