using Cluster.ServiceDefaults.Operations;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Dashboard;

namespace Microsoft.Extensions.Hosting;

/// <summary>What operators use to look inside the cluster: trace propagation through grain calls and the Orleans dashboard.</summary>
public static partial class OperationsExtensions
{
    /// <summary>Where the Orleans dashboard is served on every process (silos and gateways).</summary>
    public const string DashboardPath = "/dashboard";

    private const string Realm = "Basic realm=\"Orleans dashboard\", charset=\"UTF-8\"";

    /// <summary>
    /// <c>Operations:Dashboard</c> (default <c>true</c>): whether this process runs and serves the Orleans dashboard. Every
    /// second the dashboard's metrics exporter runs Orleans' gauges that walk every activation of a silo (about 3 % of a
    /// core per 100,000 activations, idle or not; docs/benchmarks.md), so operators of silos with very many activations
    /// may turn it off; OpenTelemetry metrics and <c>/metrics</c> (Prometheus, Grafana) stay.
    /// </summary>
    public const string DashboardSetting = "Operations:Dashboard";

    /// <summary>Whether <see cref="DashboardSetting"/> turns the dashboard on (a value that is not a boolean fails start-up, naming the key).</summary>
    public static bool DashboardEnabled(IConfiguration configuration) => configuration.GetValue<bool?>(DashboardSetting) ?? true;

    /// <summary>
    /// When spans are recorded (<see cref="ServiceDefaultsExtensions.TracingEnabled(IConfiguration)"/>), grain calls become
    /// child spans of the calling request (W3C trace context carried through the call); when they are not, no call carries
    /// a trace context that nothing would read (two grain-call filters and a request-context entry per call; too small to
    /// show in docs/benchmarks.md's runs, but work for nothing). Unless <see cref="DashboardSetting"/> is false, the silo feeds the Orleans dashboard.
    /// </summary>
    public static ISiloBuilder AddScimOperations(this ISiloBuilder silo, IConfiguration configuration)
    {
        if (ServiceDefaultsExtensions.TracingEnabled(configuration))
        {
            silo.AddActivityPropagation();
        }

        return DashboardEnabled(configuration) ? silo.AddDashboard() : silo;
    }

    /// <summary>The client side of <see cref="AddScimOperations(ISiloBuilder, IConfiguration)"/>: trace context on outgoing grain calls when spans are recorded; the dashboard served through this client.</summary>
    public static IClientBuilder AddScimOperations(this IClientBuilder client, IConfiguration configuration)
    {
        if (ServiceDefaultsExtensions.TracingEnabled(configuration))
        {
            client.AddActivityPropagation();
        }

        return DashboardEnabled(configuration) ? client.AddDashboard() : client;
    }

    /// <summary>
    /// Maps the Orleans dashboard at <see cref="DashboardPath"/> (nothing when <see cref="DashboardSetting"/> is false). When <c>Admin:ApiKey</c> is set, every dashboard
    /// request needs the key: <c>Authorization: Bearer &lt;key&gt;</c>, or HTTP Basic with any user name and the key as
    /// password (so a browser can open it). Without a key (allowed on silos only) it is open and a warning is logged.
    /// </summary>
    public static WebApplication MapOperatorDashboard(this WebApplication app)
    {
        if (!DashboardEnabled(app.Configuration))
        {
            return app;
        }

        var key = new OperatorKey(app.Configuration[OperatorKey.ConfigurationKey]);
        var dashboard = app.MapOrleansDashboard(routePrefix: DashboardPath);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Cluster.Operations");
        if (!key.IsConfigured)
        {
            DashboardUnprotected(logger, DashboardPath);
            return app;
        }

        dashboard.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            if (key.Authorizes(http.Request, allowBasic: true))
            {
                return await next(context);
            }

            DashboardUnauthorized(logger);
            http.Response.Headers.WWWAuthenticate = new([Realm, "Bearer"]);
            return Results.Text("The Orleans dashboard needs the operator key (Admin:ApiKey): Authorization: Bearer <key>, or Basic with the key as password.", statusCode: 401);
        });
        return app;
    }

    [LoggerMessage(5001, LogLevel.Warning, "The Orleans dashboard at {Path} is not protected: set Admin:ApiKey (environment Admin__ApiKey) to require the operator key.")]
    private static partial void DashboardUnprotected(ILogger logger, string path);

    [LoggerMessage(5002, LogLevel.Information, "Orleans dashboard request refused: missing or wrong operator key.")]
    private static partial void DashboardUnauthorized(ILogger logger);
}
