using System.Globalization;
using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Gateway.RequestLog;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Cluster.Gateway.Admin;

/// <summary>
/// The provisioning log and the connection status of a tenant (issue 14; docs/architecture.md, "Provisioning log"), for
/// operators and, later, the customer portal:
/// <list type="bullet">
/// <item><c>GET /admin/tenants/{tenantId}/requests?after={cursor}&amp;limit={1–200}&amp;outcome={success|error|2xx|3xx|4xx|5xx}&amp;resourceId={id}</c>:
/// its recent SCIM requests, newest first (a page costs the log's head and a few page rows, however long the log is);</item>
/// <item><c>GET /admin/tenants/{tenantId}/status</c>: connected or not yet, the last request, the last Test Connection, the
/// last error, users (active, disabled) and groups.</item>
/// </list>
/// Every input is checked (400 problem+json); an unknown tenant is 404.
/// </summary>
public static class RequestLogEndpoints
{
    /// <summary>Entries per page when <c>limit</c> is not given.</summary>
    public const int DefaultLimit = 50;

    public static RouteGroupBuilder MapRequestLog(this RouteGroupBuilder admin)
    {
        admin.MapGet("/tenants/{tenantId}/requests", ReadAsync);
        admin.MapGet("/tenants/{tenantId}/status", StatusAsync);
        return admin;
    }

    private static async Task<IResult> ReadAsync(string tenantId, HttpRequest request, IGrainFactory grains)
    {
        if (!TryParseQuery(request.Query, out var query, out var error))
        {
            return Invalid(error.Title, error.Detail);
        }

        if (!await EventFeedEndpoints.TenantExistsAsync(grains, tenantId))
        {
            return AdminEndpoints.TenantNotFound();
        }

        var page = await grains.Grain<IRequestLogGrain>(GrainKeys.RequestLog(tenantId)).ReadAsync(query);
        return TypedResults.Json(new JsonObject
        {
            ["data"] = new JsonArray([.. page.Entries.Select(e => (JsonNode)EntryJson(e))]),
            ["nextCursor"] = page.NextCursor?.ToString(CultureInfo.InvariantCulture),
            ["hasMore"] = page.HasMore,
        });
    }

    /// <summary>
    /// The log query a request's parameters ask for (<c>after</c>, <c>limit</c>, <c>outcome</c>, <c>resourceId</c>; absent or
    /// empty ones take their defaults), or the error to answer: the one parser of these parameters, for the admin API and
    /// the portal's log page.
    /// </summary>
    public static bool TryParseQuery(IQueryCollection query, out RequestLogQuery parsed, out (string Title, string Detail) error)
    {
        parsed = new RequestLogQuery(null, DefaultLimit, null, null);
        error = default;
        var limit = DefaultLimit;
        if (!TryGetSingle(query, "limit", out var limitText)
            || (limitText is not null && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > RequestLogQuery.MaxLimit)))
        {
            error = ("Invalid limit", $"'limit' must be a whole number from 1 to {RequestLogQuery.MaxLimit}.");
            return false;
        }

        long cursor = 0;
        if (!TryGetSingle(query, "after", out var afterText)
            || (afterText is not null && !long.TryParse(afterText, NumberStyles.None, CultureInfo.InvariantCulture, out cursor)))
        {
            error = ("Invalid cursor", "'after' must be a cursor returned as 'nextCursor' by an earlier page.");
            return false;
        }

        if (!TryGetSingle(query, "outcome", out var outcomeText)
            || (outcomeText is not null && !RequestLogOutcomes.All.Contains(outcomeText, StringComparer.OrdinalIgnoreCase)))
        {
            error = ("Invalid outcome", $"'outcome' must be one of {string.Join(", ", RequestLogOutcomes.All)}.");
            return false;
        }

        if (!TryGetSingle(query, "resourceId", out var resourceId) || (resourceId is not null && !GrainKeys.IsValidId(resourceId)))
        {
            error = ("Invalid resourceId", "'resourceId' must be the id of a user or group (1 to 64 characters of A-Z, a-z, 0-9, '-' and '_').");
            return false;
        }

        parsed = new RequestLogQuery(afterText is null ? null : cursor, limit, outcomeText?.ToLowerInvariant(), resourceId);
        return true;
    }

    private static async Task<IResult> StatusAsync(string tenantId, TenantStatusReader reader)
    {
        if (await reader.ReadAsync(tenantId) is not { } status)
        {
            return AdminEndpoints.TenantNotFound();
        }

        var log = status.Log;
        return TypedResults.Json(new JsonObject
        {
            ["tenantId"] = tenantId,
            ["connected"] = status.Connected,
            ["lastRequestAt"] = Time(log.LastRequestAt),
            ["lastTestConnectionAt"] = Time(log.LastTestConnectionAt),
            ["lastSuccessAt"] = Time(log.LastSuccessAt),
            ["lastError"] = log.LastError is { } error ? EntryJson(error) : null,
            ["users"] = new JsonObject { ["total"] = status.Users, ["active"] = status.ActiveUsers, ["disabled"] = status.DisabledUsers },
            ["groups"] = new JsonObject { ["total"] = status.Groups },
            ["droppedLogEntries"] = log.DroppedEntries,
        });
    }

    /// <summary>
    /// The wire form of an entry: <c>{"sequence","at","method","operation","resourceType","resourceId","name","status",
    /// "scimType","detail","durationMs","testConnection","requestId"}</c> (absent values as null).
    /// </summary>
    public static JsonObject EntryJson(RequestLogEntry e) => new()
    {
        ["sequence"] = e.Sequence,
        ["at"] = Time(e.At),
        ["method"] = e.Method,
        ["operation"] = e.Operation,
        ["resourceType"] = e.ResourceType,
        ["resourceId"] = e.ResourceId,
        ["name"] = e.Name,
        ["status"] = e.Status,
        ["scimType"] = e.ScimType,
        ["detail"] = e.Detail,
        ["durationMs"] = e.DurationMs,
        ["testConnection"] = e.TestConnection,
        ["requestId"] = e.RequestId,
    };

    private static string? Time(DateTimeOffset? at) =>
        at?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    // The parameter's value (null when absent or empty); false when it is given more than once.
    private static bool TryGetSingle(IQueryCollection query, string name, out string? value)
    {
        value = null;
        if (!query.TryGetValue(name, out var values) || values.ToString().Length == 0)
        {
            return true;
        }

        value = values.Count == 1 ? values[0] : null;
        return values.Count == 1;
    }

    private static ProblemHttpResult Invalid(string title, string detail) => TypedResults.Problem(statusCode: 400, title: title, detail: detail);
}
