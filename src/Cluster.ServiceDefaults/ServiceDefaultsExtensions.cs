using Cluster.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>What every process of the cluster shares: OpenTelemetry, health endpoints, the metrics scrape endpoint.</summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>Meters exported by every process (Orleans runtime, ASP.NET Core, and this product's own).</summary>
    public static readonly string[] Meters = ["Microsoft.Orleans", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Cluster.Scim", "Cluster.Scim.Events"];

    /// <summary>Activity sources traced in every process.</summary>
    public static readonly string[] ActivitySources = ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", "Cluster.Scim"];

    private const string LiveTag = "live";

    // A route that holds a secret is traced by its template (RequestRoutes), after an exception too.
    private static void RedactSecretPath(System.Diagnostics.Activity activity, HttpResponse response) =>
        activity.SetTag("url.path", RequestRoutes.LoggablePath(response.HttpContext));

    /// <summary>
    /// Adds OpenTelemetry metrics (Prometheus scrape endpoint; OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set), traces
    /// when something consumes them (see <see cref="TracingEnabled(IConfiguration, bool)"/>), and health checks.
    /// </summary>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        var otlp = OtlpConfigured(builder.Configuration);
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(builder.Environment.ApplicationName))
            .WithMetrics(metrics => metrics
                .AddMeter(Meters)
                .AddRuntimeInstrumentation()
                // No response cache: every scrape (every 15 s or so) reads current values, so a scrape right after
                // traffic never shows an older snapshot.
                .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));

        if (TracingEnabled(builder.Configuration, otlp))
        {
            otel.WithTracing(tracing => tracing
                .AddSource(ActivitySources)
                .AddAspNetCoreInstrumentation(o =>
                {
                    o.Filter = context => !context.Request.Path.StartsWithSegments("/metrics") && !context.Request.Path.StartsWithSegments("/alive");
                    o.EnrichWithHttpResponse = RedactSecretPath;
                }));
        }

        if (otlp)
        {
            otel.UseOtlpExporter();
        }

        builder.Services.TryAddSingleton<ScimInstruments>();
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    /// <summary>
    /// Whether spans are recorded: <c>Telemetry:Tracing</c> when set, otherwise only when an OTLP endpoint is configured.
    /// Recording spans that no exporter reads costs every request an activity, its tags and a trace context on every
    /// grain call (measured in docs/benchmarks.md), so it is off unless someone consumes them.
    /// </summary>
    public static bool TracingEnabled(IConfiguration configuration, bool otlpConfigured) =>
        configuration.GetValue<bool?>("Telemetry:Tracing") ?? otlpConfigured; // not a boolean: start-up fails naming the key

    /// <summary>Whether spans are recorded in a process of this configuration (<see cref="TracingEnabled(IConfiguration, bool)"/>).</summary>
    public static bool TracingEnabled(IConfiguration configuration) => TracingEnabled(configuration, OtlpConfigured(configuration));

    private static bool OtlpConfigured(IConfiguration configuration) => !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    /// <summary>Maps <c>/health</c> (ready: every check), <c>/alive</c> (the process answers) and <c>/metrics</c> (Prometheus).</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/health");
        app.MapHealthChecks("/alive", new HealthCheckOptions { Predicate = r => r.Tags.Contains(LiveTag) });
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}
