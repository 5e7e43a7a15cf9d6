using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Tests;

/// <summary>
/// A host refuses to start with settings it cannot serve (no usable operator key, invalid OAuth, cluster, storage or limit
/// settings, a topology its role does not belong to), naming the setting, instead of failing at some later request.
/// </summary>
public sealed class StartupTests
{
    [Theory]
    [InlineData("")]
    [InlineData("short-key")]
    public void GatewayWithoutAUsableAdminKeyDoesNotStart(string key) => AssertRefusesToStart("Admin:ApiKey", key, "Admin:ApiKey");

    [Theory]
    [InlineData("OAuth:AccessTokenMinutes", "59", "AccessTokenMinutes")]
    [InlineData("OAuth:AccessTokenMinutes", "361", "AccessTokenMinutes")]
    [InlineData("OAuth:BodyTimeoutSeconds", "0", "BodyTimeoutSeconds")]
    [InlineData("OAuth:BodyTimeoutSeconds", "301", "BodyTimeoutSeconds")]
    [InlineData("OAuth:Issuer", "not a url", "OAuth:Issuer")]
    [InlineData("OAuth:Issuer", "ftp://scim.example.com", "OAuth:Issuer")]
    [InlineData("Gateway:PublicBaseUrl", "scim.example.com", "Gateway:PublicBaseUrl")] // no scheme: every Tenant URL would be wrong
    [InlineData("Gateway:PublicBaseUrl", "https://scim.example.com/?x=1", "Gateway:PublicBaseUrl")]
    [InlineData("OAuth:Audience", "", "Audience")]
    [InlineData("OAuth:SigningKeyRotationDays", "0", "SigningKeyRotationDays")]
    [InlineData("RateLimits:OAuthClient:Burst", "0", "Burst")]
    public void GatewayWithInvalidOAuthSettingsDoesNotStart(string key, string value, string named) => AssertRefusesToStart(key, value, named);

    [Theory]
    [InlineData("Cluster:Topology", "both", "Cluster:Topology")]
    [InlineData("Cluster:Placement", "random", "Cluster:Placement")]
    [InlineData("Cluster:Membership", "Consul", "Cluster:Membership")]
    [InlineData("Cluster:SiloPort", "70000", "Cluster:SiloPort")]
    [InlineData("Cluster:AdvertisedIP", "not-an-ip", "Cluster:AdvertisedIP")]
    [InlineData("Cluster:ClusterId", "a b", "Cluster:ClusterId")]
    [InlineData("Cluster:ResponseTimeoutSeconds", "0", "Cluster:ResponseTimeoutSeconds")]
    [InlineData("Storage:Provider", "Cosmos", "Storage:Provider")]
    [InlineData("Storage:TableName", "1bad", "Storage:TableName")]
    [InlineData("RateLimits:Default:PermitsPerSecond", "-1", "RateLimits:Default:PermitsPerSecond")]
    [InlineData("RateLimits:Default:Burst", "0", "RateLimits:Default:Burst")]
    [InlineData("RateLimits:MaxConcurrentRequests", "-1", "RateLimits:MaxConcurrentRequests")]
    [InlineData("RateLimits:MaxConcurrentRequestsPerTenant", "-1", "RateLimits:MaxConcurrentRequestsPerTenant")]
    [InlineData("RateLimits:MaxQueuedRequestsPerTenant", "-1", "RateLimits:MaxQueuedRequestsPerTenant")]
    [InlineData("RateLimits:Tenants:not.a.tenant:Burst", "5", "not.a.tenant")]
    [InlineData("RateLimits:Tenants:0123456789abcdef0123456789abcdef:PermitsPerSecond", "-3", "PermitsPerSecond")]
    public void HostWithInvalidClusterStorageOrLimitSettingsDoesNotStart(string key, string value, string named) => AssertRefusesToStart(key, value, named);

    [Fact]
    public void TheSplitTopologysGatewayHostRefusesACohostedCluster()
    {
        using var gateway = ClientGatewayFactory.Of(TestPorts.Free(), new Dictionary<string, string?> { ["Cluster:Topology"] = "cohosted" });
        var error = Assert.Throws<InvalidOperationException>(() => gateway.CreateClient());
        Assert.Contains("Cluster:Topology", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASplitGatewayStartedBeforeAnySiloConnectsOnceOneIsUp()
    {
        // Compose and Kubernetes start gateways and silos together: a gateway whose membership table lists no silo yet
        // ("Could not find any gateway") keeps looking (Orleans' default retry filter: 15 attempts, about 3 minutes) and serves
        // once one is up.
        var cluster = new Dictionary<string, string?>
        {
            ["Cluster:Membership"] = "AzureTable",
            ["Cluster:ClusterId"] = $"connect-{Guid.NewGuid():N}",
            ["Cluster:AdvertisedIP"] = "127.0.0.1",
            ["Storage:ConnectionString"] = AzuriteStorage.ConnectionString,
        };
        await using var silo = GatewayFactory.With(cluster);
        await using var split = GatewayFactory.ConnectTo(silo, cluster);
        var waiting = new WaitingLogged();
        await using var gateway = split.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<ILoggerProvider>(waiting)));
        var starting = Task.Run(gateway.CreateClient);

        // The gateway found no silo (or its start failed): only then does the silo start.
        await Task.WhenAny(waiting.Logged, starting).WaitAsync(TimeSpan.FromSeconds(90));
        Assert.False(starting.IsFaulted, starting.Exception?.ToString());
        using (silo.CreateClient())
        {
        }

        using var client = await starting.WaitAsync(TimeSpan.FromSeconds(90));
        await Eventually.TrueAsync(async () => (await client.GetAsync("/health")).StatusCode == System.Net.HttpStatusCode.OK, what: "the gateway ready");
    }

    [Fact]
    public void TheSplitTopologysGatewayHostRefusesAnEmptyStorageConnectionString()
    {
        // The silos refuse it; the gateway host took it for Azurite's and joined whatever listened on this host's port 10002.
        using var gateway = ClientGatewayFactory.Of(TestPorts.Free(), new Dictionary<string, string?>
        {
            ["Cluster:Membership"] = "AzureTable",
            ["Storage:ConnectionString"] = "",
        });
        var error = Assert.Throws<OptionsValidationException>(() => gateway.CreateClient());
        Assert.Contains("Storage:ConnectionString", error.Message, StringComparison.Ordinal);
    }

    // Tells when the gateway's Orleans client logged that it found no silo (Orleans' GatewayManager, 101313).
    private sealed class WaitingLogged : ILoggerProvider, ILogger
    {
        private readonly TaskCompletionSource _logged = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Logged => _logged.Task;

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == 101313)
            {
                _logged.TrySetResult();
            }
        }

        public void Dispose()
        {
        }
    }

    // The host does not start with <paramref name="key"/> = <paramref name="value"/>, and its error names <paramref name="named"/>.
    private static void AssertRefusesToStart(string key, string value, string named)
    {
        using var gateway = GatewayFactory.With(new Dictionary<string, string?> { [key] = value });
        var error = Assert.Throws<OptionsValidationException>(() => gateway.CreateClient());
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }
}
