using Cluster.Abstractions;
using Cluster.Gateway.Auth;
using Cluster.Gateway.Telemetry;
using Cluster.Scim.Schema;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.RequestLog;

/// <summary>
/// Turns a finished SCIM request into a provisioning log entry (issue 14; docs/architecture.md, "Provisioning log"), called
/// by <see cref="ScimTelemetryMiddleware"/>, which already knows the request's operation, status and <c>scimType</c>.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><b>Requests authenticated as the tenant their route names are logged</b>, whatever their answer (403 for a
/// suspended tenant, a 429 of the tenant's rate limit, a 503, a 404 of an unknown path included).</item>
/// <item><b>A 401 is logged only when the tenant exists</b> (the secret token was wrong, revoked or mistyped, or the access
/// token's client was revoked: what an admin
/// whose Entra stopped working must see), <b>and at most one a second per tenant and gateway</b>, since nobody proved to be the
/// tenant: whoever knows a tenant id can add at most that many entries to its log. Such an entry never makes the tenant
/// "connected" (the tenant's <see cref="IRequestLogGrain"/>). A 401 for a tenant that does not exist, and a 429 of the
/// failed-lookup limit, are counted by metrics only (<c>scim.auth.failures</c>, <c>scim.limits.rejections</c>).</item>
/// <item>The entry keeps ids, codes and times, and one attribute value: the userName (users) or displayName (groups) of the
/// resource the response showed — never anything from the request body, no token, no other attribute. The error detail is
/// redacted (<see cref="RequestLogRedaction"/>).</item>
/// <item>The request path only builds the entry and hands it to <see cref="RequestLogBuffer.Add"/>; nothing waits.</item>
/// </list>
/// </remarks>
public sealed partial class RequestLogCapture(IOptions<RequestLogOptions> options, RequestLogBuffer buffer, TimeProvider time, ILogger<RequestLogCapture> logger)
{
    /// <summary>The <see cref="HttpContext.Items"/> key under which authentication leaves the id of an existing tenant whose credential it refused.</summary>
    public const string RefusedTenantKey = "scim.requestlog.refused-tenant";

    /// <summary>The <see cref="HttpContext.Items"/> key under which authentication leaves the id of the revoked OAuth client whose access token it refused.</summary>
    public const string RefusedClientKey = "scim.requestlog.refused-client";

    /// <summary>The detail of a logged 401 (the token itself is never logged).</summary>
    public const string RefusedDetail = "The bearer token is not valid for this tenant: revoked, expired or mistyped.";

    /// <summary>How the detail of a logged 401 of a revoked OAuth client's access token starts (<see cref="RevokedClientDetail"/>).</summary>
    public const string RevokedClientDetailStart = "The access token's OAuth client ";

    /// <summary>The detail of a logged 401 of an access token whose OAuth client was revoked: Entra needs a new client, not a Secret Token.</summary>
    public static string RevokedClientDetail(string clientId) => $"{RevokedClientDetailStart}{clientId} was revoked: Entra needs a new OAuth client.";

    private readonly bool _enabled = options.Value.RequestLog;

    // Per tenant, when this gateway last logged a refused credential (ticks of the time provider); only existing tenants get here.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _lastRefusal = new(StringComparer.Ordinal);

    // Built on first use: the served schemas (extensions included) are installed at start-up, before any request.
    private readonly Lazy<RequestLogRedaction> _redaction = new(() => new RequestLogRedaction(ScimSchemas.ResourceTypes));

    /// <summary>The facts a request's response will note, or null when the log is off.</summary>
    public RequestLogFacts? Begin(HttpContext context) =>
        _enabled ? new RequestLogFacts { StartedAt = time.GetUtcNow(), RouteId = context.GetRouteValue("id") as string } : null;

    /// <summary>Buffers the entry of a finished request (when the log is on and the request was authenticated as <paramref name="tenantId"/>).</summary>
    public void End(HttpContext context, ScimResponseOutcome outcome, string operation, string resourceType, string? tenantId, TimeSpan elapsed)
    {
        try
        {
            Record(context, outcome, operation, resourceType, tenantId, elapsed);
        }
        catch (Exception e)
        {
            // A diagnostic log never fails the request it describes.
            LogCaptureFailed(logger, e, operation);
        }
    }

    private void Record(HttpContext context, ScimResponseOutcome outcome, string operation, string resourceType, string? tenantId, TimeSpan elapsed)
    {
        if (outcome.Log is not { } facts || tenantId is null || !GrainKeys.IsValidId(tenantId))
        {
            return;
        }

        var status = context.Response.StatusCode;
        var refused = status == StatusCodes.Status401Unauthorized
            && context.Items[RefusedTenantKey] is string refusedTenant && string.Equals(refusedTenant, tenantId, StringComparison.Ordinal);
        if (refused ? !TakeRefusalSlot(tenantId) : !string.Equals(context.User.FindFirst(GatewayAuthentication.Claims.Tenant)?.Value, tenantId, StringComparison.Ordinal))
        {
            return;
        }

        var type = resourceType is "User" or "Group" ? resourceType : null;
        var id = GrainKeys.IsValidId(facts.RouteId) ? facts.RouteId : type is not null && GrainKeys.IsValidId(facts.Id) ? facts.Id : null;
        var name = type is null || id is null || (facts.Id is { } shown && shown != id) ? null : type == "User" ? facts.UserName : facts.DisplayName;
        buffer.Add(tenantId, new RequestLogEntry(
            0,
            facts.StartedAt,
            MethodOf(context.Request.Method),
            OperationOf(operation, facts.PatchKind, outcome.Active),
            type,
            id,
            name,
            status,
            outcome.ScimType,
            refused ? (context.Items[RefusedClientKey] is string client ? RevokedClientDetail(client) : RefusedDetail) : status >= 400 ? _redaction.Value.Redact(facts.Detail, facts.RouteId) : null,
            Math.Round(elapsed.TotalMilliseconds, 2),
            IsTestConnection(context, operation, status, facts),
            context.TraceIdentifier).Capped()); // capped here too: the buffer's bound is in entries, and a client chooses its texts' size
    }

    /// <summary>
    /// Buffers the entry of a refused token request (<see cref="RequestLogOperations.Token"/>) of one of a tenant's active OAuth
    /// clients (its secret was wrong, expired or revoked): an admin whose Entra uses OAuth client credentials sees why Test Connection failed, as one using a Secret
    /// Token does. Logged like a refused bearer token: at most one a second per tenant and gateway, never connecting the
    /// tenant; the client id is named, its secret never.
    /// </summary>
    public void TokenRefused(HttpContext context, string tenantId, string clientId, TimeSpan elapsed)
    {
        if (!_enabled || !GrainKeys.IsValidId(tenantId) || !TakeRefusalSlot(tenantId))
        {
            return;
        }

        buffer.Add(tenantId, new RequestLogEntry(
            0,
            time.GetUtcNow() - elapsed,
            HttpMethods.Post,
            RequestLogOperations.Token,
            null,
            null,
            null,
            StatusCodes.Status401Unauthorized,
            null,
            $"An access token was refused to OAuth client {clientId}: the client secret is wrong, expired or revoked.",
            Math.Round(elapsed.TotalMilliseconds, 2),
            false,
            context.TraceIdentifier).Capped());
    }

    // Tenants whose last refusal this gateway remembers; beyond, it forgets them all (each entry only spaces refusals a second apart).
    private const int MaxRefusalsTracked = 10_000;

    // At most one logged refusal a second per tenant on this gateway.
    private bool TakeRefusalSlot(string tenantId)
    {
        var now = time.GetTimestamp();
        if (!_lastRefusal.ContainsKey(tenantId) && _lastRefusal.Count >= MaxRefusalsTracked)
        {
            _lastRefusal.Clear();
        }

        var last = _lastRefusal.GetOrAdd(tenantId, long.MinValue);
        return (last == long.MinValue || time.GetElapsedTime(last, now) >= TimeSpan.FromSeconds(1))
            && _lastRefusal.TryUpdate(tenantId, now, last);
    }

    [LoggerMessage(2403, LogLevel.Warning, "A provisioning log entry of a {Operation} request could not be built; it is not logged.")]
    private static partial void LogCaptureFailed(ILogger logger, Exception exception, string operation);

    /// <summary>
    /// The log's operation for a metrics operation name (<see cref="ScimOperations"/>): PATCHes by what they asked
    /// (<see cref="RequestLogFacts.PatchKind"/>), a change of <c>active</c> by the <c>active</c> the response showed when it
    /// showed one.
    /// </summary>
    /// <summary>
    /// The method as the log stores it: one of HTTP's own, anything else <c>OTHER</c>. Kestrel accepts any token as a method
    /// (up to 8 KiB in an HTTP/1.1 request line, 16 KiB over HTTP/2), and refused requests are logged without a credential:
    /// until 2026-12-07 anyone who knew a tenant id could write their own text into its log and Status page, and entries
    /// that large could grow its log's row past what storage takes.
    /// </summary>
    public static string MethodOf(string method) =>
        HttpMethods.IsGet(method) ? HttpMethods.Get
        : HttpMethods.IsPost(method) ? HttpMethods.Post
        : HttpMethods.IsPut(method) ? HttpMethods.Put
        : HttpMethods.IsPatch(method) ? HttpMethods.Patch
        : HttpMethods.IsDelete(method) ? HttpMethods.Delete
        : HttpMethods.IsHead(method) ? HttpMethods.Head
        : HttpMethods.IsOptions(method) ? HttpMethods.Options
        : "OTHER";

    public static string OperationOf(string operation, string? patchKind, bool? active)
    {
        var verb = operation[(operation.IndexOf('.', StringComparison.Ordinal) + 1)..];
        return operation switch
        {
            "bulk" => RequestLogOperations.Bulk,
            "search" => RequestLogOperations.Lookup,
            ScimOperations.Unmatched => RequestLogOperations.Other,
            _ when operation.StartsWith("discovery.", StringComparison.Ordinal) => RequestLogOperations.Discovery,
            _ => verb switch
            {
                "create" => RequestLogOperations.Create,
                "replace" => RequestLogOperations.Update,
                "delete" => RequestLogOperations.Delete,
                "get" or "list" or "search" => RequestLogOperations.Lookup,
                "patch" => patchKind switch
                {
                    RequestLogOperations.Disable or RequestLogOperations.Enable when active is { } isActive =>
                        isActive ? RequestLogOperations.Enable : RequestLogOperations.Disable,
                    null => RequestLogOperations.Update,
                    _ => patchKind,
                },
                _ => RequestLogOperations.Other,
            },
        };
    }

    /// <summary>
    /// Entra's Test Connection probe (entra-scim.md §2.1): a filter of one <c>eq</c> on a random GUID, on <c>/Users</c> (or
    /// <c>/Groups</c>), answered 200 with an empty ListResponse. The filter's value is only looked at, never kept.
    /// </summary>
    public static bool IsTestConnection(HttpContext context, string operation, int status, RequestLogFacts facts)
    {
        if (status != StatusCodes.Status200OK || facts.Found != 0 || operation is not ("users.list" or "groups.list")
            || context.Request.Query["filter"] is not { Count: 1 } filters || filters[0] is not { } filter)
        {
            return false;
        }

        var eq = filter.LastIndexOf(" eq ", StringComparison.OrdinalIgnoreCase);
        if (eq <= 0 || filter[..eq].Contains(" and ", StringComparison.OrdinalIgnoreCase) || filter[..eq].Contains(" or ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var value = filter[(eq + 4)..].Trim();
        if (value.Length > 2 && value[0] == '"' && value[^1] == '"')
        {
            value = value[1..^1];
        }

        return Guid.TryParse(value, out _);
    }
}
