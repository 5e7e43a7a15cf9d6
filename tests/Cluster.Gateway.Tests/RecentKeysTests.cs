using Cluster.ServiceDefaults.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using System.Diagnostics.Metrics;

namespace Cluster.Gateway.Tests;

/// <summary>
/// The per-tenant "seen lately" maps of a gateway (the active-tenants gauge, the tenant grain's last-request telling) follow
/// the tenants seen lately, whether or not anything reads them. Until 2026-12-07 the gauge's map was pruned only when a
/// scrape read it: without Prometheus or OTLP it held every tenant the process ever authenticated.
/// </summary>
public sealed class RecentKeysTests
{
    [Fact]
    public void KeysUntouchedForTheirTimeAreForgottenByTheWritersAndTouchesAreRateLimited()
    {
        var time = new FakeTimeProvider();
        var keys = new RecentKeys(time, TimeSpan.FromMinutes(1));

        Assert.True(keys.TryTouch("a", TimeSpan.FromMinutes(1)));
        Assert.False(keys.TryTouch("a", TimeSpan.FromMinutes(1))); // within its interval: not touched again
        for (var i = 0; i < 100; i++)
        {
            Assert.True(keys.TryTouch($"t{i}", TimeSpan.Zero));
        }

        Assert.Equal(101, keys.Count);
        Assert.Equal(101, keys.CountTouchedWithin(TimeSpan.FromMinutes(1)));

        time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(0, keys.CountTouchedWithin(TimeSpan.FromMinutes(1)));
        Assert.True(keys.TryTouch("a", TimeSpan.FromMinutes(1))); // its interval is over; this touch also prunes
        Assert.Equal(1, keys.Count);
    }

    [Fact]
    public void TheActiveTenantsGaugeForgetsTenantsWithoutBeingRead()
    {
        var time = new FakeTimeProvider();
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var instruments = new ScimInstruments(services.GetRequiredService<IMeterFactory>(), new ConfigurationBuilder().Build(), time);

        for (var i = 0; i < 1000; i++)
        {
            instruments.TenantSeen($"tenant-{i}");
        }

        Assert.Equal(1000, instruments.TenantsRemembered);
        time.Advance(ScimInstruments.ActiveTenantWindow + TimeSpan.FromSeconds(1));
        instruments.TenantSeen("tenant-late");
        Assert.Equal(1, instruments.TenantsRemembered);
    }
}
