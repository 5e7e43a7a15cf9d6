using System.Diagnostics;
using Cluster.Abstractions;
using Cluster.Gateway.Http;
using Cluster.Gateway.RequestLog;
using Cluster.ServiceDefaults.Telemetry;

namespace Cluster.Gateway.Telemetry;

/// <summary>
/// The one place SCIM requests are measured. It wraps the whole SCIM pipeline (outside the exception handler, so
/// it sees the status the client gets): request count and duration by operation, resource type, status class and
/// tenant label; provisioning outcomes (active tenants are noted by the authentication middleware, which alone knows
/// that a token was accepted). It also tags the request span with the tenant id and opens
/// a logging scope with the request id and tenant id (for another surface's request, a scope with its request id). Tenant ids are opaque random ids, not personal data; no
/// userName, email or token is recorded. It hands each finished request to the provisioning log (<see cref="RequestLogCapture"/>).
/// </summary>
public sealed class ScimTelemetryMiddleware(RequestDelegate next, ScimInstruments instruments, RequestLogCapture requestLog, ILogger<ScimTelemetryMiddleware> logger)
{
    public const string TenantTag = "scim.tenant_id";

    private static readonly Func<ILogger, string, string, IDisposable?> Scope =
        LoggerMessage.DefineScope<string, string>("SCIM request {RequestId} tenant {TenantId}");

    // The other surfaces' requests (portal, admin API, OAuth) get a scope with their request id only: ASP.NET Core's own
    // request scope is off as shipped, since its path would carry a setup link's secret (docs/observability.md, "Logs").
    private static readonly Func<ILogger, string, IDisposable?> OtherScope =
        LoggerMessage.DefineScope<string>("Request {RequestId}");

    public async Task InvokeAsync(HttpContext context)
    {
        if (Surfaces.Of(context) != Surface.Scim)
        {
            using (OtherScope(logger, context.TraceIdentifier))
            {
                await next(context);
            }

            return;
        }

        // Captured now: the exception handler clears the endpoint and route values before it writes an error.
        var (operation, resourceType) = ScimOperations.Classify(context.Request.Method, (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText);
        // Only a well-formed id is a tenant id: the route's segment is whatever the client sent (up to the request line's
        // limit, any text), and it goes into a log scope and a span tag.
        var tenantId = Surfaces.TenantOf(context) is { Length: > 0 } named && GrainKeys.IsValidId(named) ? named : null;
        Activity.Current?.SetTag(TenantTag, tenantId);

        var outcome = new ScimResponseOutcome { Log = requestLog.Begin(context) };
        context.Features.Set(outcome);
        var started = Stopwatch.GetTimestamp();
        using (Scope(logger, context.TraceIdentifier, tenantId ?? "-"))
        {
            try
            {
                await next(context);
            }
            finally
            {
                var status = context.Response.StatusCode;
                var elapsed = Stopwatch.GetElapsedTime(started);
                instruments.RequestCompleted(operation, resourceType, status, tenantId, elapsed);
                if (Outcome(context.Request.Method, status, outcome) is { } provisioning)
                {
                    instruments.ProvisioningOutcome(provisioning, resourceType, outcome.ScimType, tenantId);
                }

                // The provisioning log (issue 14): the entry is built and buffered here; it is written off the request's path.
                requestLog.End(context, outcome, operation, resourceType, tenantId, elapsed);
            }
        }
    }

    /// <summary>The provisioning outcome of a finished request, or null when it is none (reads, auth failures, not found, 5xx).</summary>
    public static string? Outcome(string method, int status, ScimResponseOutcome response)
    {
        var write = !HttpMethods.IsGet(method) && !HttpMethods.IsHead(method);
        return status switch
        {
            StatusCodes.Status201Created when HttpMethods.IsPost(method) => ScimInstruments.Outcomes.Created,
            StatusCodes.Status200OK when HttpMethods.IsPatch(method) || HttpMethods.IsPut(method) =>
                response.Active == false ? ScimInstruments.Outcomes.Disabled : ScimInstruments.Outcomes.Updated,
            StatusCodes.Status204NoContent when HttpMethods.IsDelete(method) => ScimInstruments.Outcomes.Deleted,
            StatusCodes.Status409Conflict => ScimInstruments.Outcomes.Conflict,
            StatusCodes.Status400BadRequest or StatusCodes.Status413PayloadTooLarge or StatusCodes.Status415UnsupportedMediaType => ScimInstruments.Outcomes.Rejected,
            >= 400 and < 500 when write && response.ScimType is not null => ScimInstruments.Outcomes.Rejected,
            _ => null,
        };
    }
}
