using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Cluster.Operations.Tests;

/// <summary>The <c>Cluster</c> section reaches the Orleans options of silos and clients (the hosts are built, not started).</summary>
public sealed class ClusterOptionsTests
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Cluster:Membership"] = "Localhost",
        ["Cluster:ResponseTimeoutSeconds"] = "7",
        ["Cluster:ProbeTimeoutSeconds"] = "2",
        ["Cluster:CollectionAgeMinutes"] = "3",
    };

    [Fact]
    public void Silo_gets_response_timeout_probe_timeout_and_collection_age()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(Settings);
        builder.UseOrleans(silo => silo.UseScimClustering(builder.Configuration));
        using var host = builder.Build();

        Assert.Equal(TimeSpan.FromSeconds(7), host.Services.GetRequiredService<IOptions<SiloMessagingOptions>>().Value.ResponseTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), host.Services.GetRequiredService<IOptions<ClusterMembershipOptions>>().Value.ProbeTimeout);
        Assert.Equal(TimeSpan.FromMinutes(3), host.Services.GetRequiredService<IOptions<GrainCollectionOptions>>().Value.CollectionAge);
    }

    [Fact]
    public void Client_gets_response_timeout()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(Settings);
        builder.UseOrleansClient(client => client.UseScimClustering(builder.Configuration));
        using var host = builder.Build();

        Assert.Equal(TimeSpan.FromSeconds(7), host.Services.GetRequiredService<IOptions<ClientMessagingOptions>>().Value.ResponseTimeout);
    }

    [Fact]
    public void Default_response_timeout_is_orleans_default()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Cluster:Membership"] = "Localhost" });
        builder.UseOrleansClient(client => client.UseScimClustering(builder.Configuration));
        using var host = builder.Build();

        Assert.Equal(TimeSpan.FromSeconds(30), host.Services.GetRequiredService<IOptions<ClientMessagingOptions>>().Value.ResponseTimeout);
    }

    [Theory]
    [InlineData(null, false, false)]
    [InlineData(null, true, true)]
    [InlineData("true", false, true)]
    [InlineData("false", true, false)]
    public void Spans_are_recorded_only_when_consumed(string? setting, bool otlpConfigured, bool expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Telemetry:Tracing"] = setting }).Build();
        Assert.Equal(expected, ServiceDefaultsExtensions.TracingEnabled(configuration, otlpConfigured));
    }

    [Theory]
    [InlineData("off")]
    [InlineData("0")]
    public void A_tracing_setting_that_is_not_a_boolean_is_refused(string setting)
    {
        // It fell back to whether OTLP was configured: "off" with an OTLP endpoint still recorded spans.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Telemetry:Tracing"] = setting }).Build();
        var error = Assert.Throws<InvalidOperationException>(() => ServiceDefaultsExtensions.TracingEnabled(configuration, otlpConfigured: true));
        Assert.Contains("Telemetry:Tracing", error.Message, StringComparison.Ordinal);
    }
}
