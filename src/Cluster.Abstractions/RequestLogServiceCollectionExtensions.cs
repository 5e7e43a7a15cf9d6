using Cluster.Abstractions;
using Microsoft.Extensions.Configuration;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the provisioning log's settings (silos and gateways alike).</summary>
public static class RequestLogServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="RequestLogOptions"/> (section <c>Portal</c>, validated at start-up: a process with an invalid
    /// <c>Portal:LogRetentionDays</c>, buffer size or flush interval does not start). Idempotent.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">Where the <c>Portal</c> section is read (null: the host's configuration).</param>
    public static IServiceCollection AddScimRequestLogOptions(this IServiceCollection services, IConfiguration? configuration = null)
    {
        if (services.Any(d => d.ServiceType == typeof(RequestLogOptionsMarker)))
        {
            return services;
        }

        services.AddSingleton<RequestLogOptionsMarker>();
        var options = services.AddOptions<RequestLogOptions>();
        (configuration is null ? options.BindConfiguration(RequestLogOptions.SectionName) : options.Bind(configuration.GetSection(RequestLogOptions.SectionName)))
            .ValidateDataAnnotations().ValidateOnStart();
        return services;
    }

    // Marks that the options are registered (a co-hosting gateway registers them as a gateway and as a silo).
    private sealed class RequestLogOptionsMarker;
}
