using System.Net;
using Cluster.Abstractions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Microsoft.Extensions.Hosting;

/// <summary>Cluster membership for silos and clients, chosen from configuration (never from the environment name).</summary>
public static class OrleansHostingExtensions
{
    /// <summary>
    /// The <c>Cluster</c> section, validated (an invalid value stops the process before it starts, naming every problem).
    /// </summary>
    public static OrleansClusterOptions GetScimClusterOptions(this IConfiguration configuration) =>
        OptionsCheck.Validated(
            configuration.GetSection(OrleansClusterOptions.SectionName).Get<OrleansClusterOptions>() ?? new OrleansClusterOptions(),
            OrleansClusterOptions.SectionName);

    /// <summary>
    /// The cluster-client role: this process (a gateway of the split topology) reaches the silos as an Orleans client, with
    /// trace propagation and the dashboard's client side. Hosts of the silo role never add it (a silo is its own client).
    /// </summary>
    public static IHostApplicationBuilder AddScimClusterClient(this IHostApplicationBuilder builder)
    {
        builder.UseOrleansClient(client => client.UseScimClustering(builder.Configuration).AddScimOperations(builder.Configuration));
        return builder;
    }

    /// <summary>Configures cluster identity, endpoints and membership of a silo from the <c>Cluster</c> and <c>Storage</c> sections.</summary>
    public static ISiloBuilder UseScimClustering(this ISiloBuilder silo, IConfiguration configuration)
    {
        var options = Bind(configuration);
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = options.ClusterId;
            o.ServiceId = options.ServiceId;
        });
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(options.ProbeTimeoutSeconds);
            o.NumMissedProbesLimit = options.NumMissedProbesLimit;
            o.NumVotesForDeathDeclaration = options.NumVotesForDeathDeclaration;
            o.TableRefreshTimeout = TimeSpan.FromSeconds(options.TableRefreshSeconds);
        });
        silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(options.ResponseTimeoutSeconds));
        silo.Configure<GrainCollectionOptions>(o => o.CollectionAge = TimeSpan.FromMinutes(options.CollectionAgeMinutes));
        silo.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(options.ShutdownTimeoutSeconds));

        if (IsLocalhost(options))
        {
            return silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort);
        }

        if (string.Equals(options.AdvertisedIP, "auto", StringComparison.OrdinalIgnoreCase))
        {
            silo.ConfigureEndpoints(options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: true);
        }
        else
        {
            silo.ConfigureEndpoints(IPAddress.Parse(options.AdvertisedIP), options.SiloPort, options.GatewayPort);
        }

        return silo.UseAzureStorageClustering(o => o.TableServiceClient = TableStorage.ServiceClient(ConnectionString(configuration)));
    }

    /// <summary>Configures how an Orleans client (the gateway) finds the silos.</summary>
    public static IClientBuilder UseScimClustering(this IClientBuilder client, IConfiguration configuration)
    {
        var options = Bind(configuration);
        client.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = options.ClusterId;
            o.ServiceId = options.ServiceId;
        });
        client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(options.ResponseTimeoutSeconds));
        client.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(options.ShutdownTimeoutSeconds));
        // A client that finds no silo in the membership table (gateways and silos started together) keeps looking for a while:
        // Orleans' default retry filter makes 15 attempts (about 3 minutes), warning each time (101313), then the host stops.

        return IsLocalhost(options)
            ? client.UseLocalhostClustering(options.GatewayPort)
            : client.UseAzureStorageClustering(o => o.TableServiceClient = TableStorage.ServiceClient(ConnectionString(configuration)));
    }

    private static OrleansClusterOptions Bind(IConfiguration configuration) => configuration.GetScimClusterOptions();

    // Validated: AzureTable or Localhost.
    private static bool IsLocalhost(OrleansClusterOptions options) => string.Equals(options.Membership, "Localhost", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// <c>Storage:ConnectionString</c>: Azurite's (<c>UseDevelopmentStorage=true</c>) when it is not set; refused when it is
    /// set but blank, as the silos' storage options refuse it (a compose <c>${VAR:-}</c> left empty would otherwise join
    /// whatever Azurite runs on this host, or fail later with a connection error that names no setting).
    /// </summary>
    internal static string ConnectionString(IConfiguration configuration) => configuration["Storage:ConnectionString"] switch
    {
        null => "UseDevelopmentStorage=true",
        { } connection when string.IsNullOrWhiteSpace(connection) => throw new OptionsValidationException(
            "Storage", typeof(string), ["Storage:ConnectionString: is set but empty (an Azure Storage connection string; UseDevelopmentStorage=true for Azurite)."]),
        { } connection => connection,
    };
}
