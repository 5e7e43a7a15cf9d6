using Cluster.Grains.Events;
using Cluster.Grains.Events.Webhooks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers what the event feed and webhook delivery need on a silo.</summary>
public static class ScimEventsServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="EventsOptions"/> (section <c>Events</c>, validated at start-up: a silo without a valid
    /// <c>Events:SecretKey</c> does not start), the <see cref="WebhookSender.HttpClientName"/> HTTP client whose
    /// handler enforces <see cref="WebhookUrlPolicy"/>, <see cref="WebhookSecretProtector"/> and
    /// <see cref="WebhookSender"/>. Idempotent.
    /// </summary>
    /// <param name="services">The silo's services.</param>
    /// <param name="configuration">Where the <c>Events</c> section is read (null: the host's configuration).</param>
    public static IServiceCollection AddScimEvents(this IServiceCollection services, Microsoft.Extensions.Configuration.IConfiguration? configuration = null)
    {
        if (services.Any(d => d.ServiceType == typeof(WebhookSender)))
        {
            return services;
        }

        var options = services.AddOptions<EventsOptions>();
        (configuration is null ? options.BindConfiguration(EventsOptions.SectionName) : options.Bind(configuration.GetSection(EventsOptions.SectionName)))
            .ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpClient(WebhookSender.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan) // WebhookSender bounds each attempt
            .ConfigurePrimaryHttpMessageHandler(sp => WebhookUrlPolicy.CreateHandler(sp.GetRequiredService<IOptions<EventsOptions>>().Value.AllowInsecureWebhooks))
            // The default handlers log every request's URL at Information; WebhookSender logs each attempt without it.
            .RemoveAllLoggers();
        services.TryAddSingleton<WebhookSecretProtector>();
        services.TryAddSingleton<WebhookSender>();
        services.AddMetrics();
        services.TryAddSingleton<EventInstruments>();

        // Made at start, not by the first event log or webhook activation: its counters of rare events are exported at 0
        // before they first happen, or an alert on their increase misses the first (a webhook's reminder can skip expired
        // events within a second of a silo's start, before any scrape).
        services.AddHostedService<EventInstrumentsAtStart>();
        return services;
    }

    private sealed class EventInstrumentsAtStart(EventInstruments instruments) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            GC.KeepAlive(instruments);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
