using System.Globalization;
using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Gateway.Querying;
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
        var query = request.Query;
        var limit = DefaultLimit;
        if (!TryGetSingle(query, "limit", out var limitText)
            || (limitText is not null && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > RequestLogQuery.MaxLimit)))
        {
            return Invalid("Invalid limit", $"'limit' must be a whole number from 1 to {RequestLogQuery.MaxLimit}.");
        }

        long cursor = 0;
        if (!TryGetSingle(query, "after", out var afterText)
            || (afterText is not null && !long.TryParse(afterText, NumberStyles.None, CultureInfo.InvariantCulture, out cursor)))
        {
            return Invalid("Invalid cursor", "'after' must be a cursor returned as 'nextCursor' by an earlier page.");
        }

        if (!TryGetSingle(query, "outcome", out var outcomeText)
            || (outcomeText is not null && !RequestLogOutcomes.All.Contains(outcomeText, StringComparer.OrdinalIgnoreCase)))
        {
            return Invalid("Invalid outcome", $"'outcome' must be one of {string.Join(", ", RequestLogOutcomes.All)}.");
        }

        if (!TryGetSingle(query, "resourceId", out var resourceId) || (resourceId is not null && !GrainKeys.IsValidId(resourceId)))
        {
            return Invalid("Invalid resourceId", "'resourceId' must be the id of a user or group (1 to 64 characters of A-Z, a-z, 0-9, '-' and '_').");
        }

        if (!await EventFeedEndpoints.TenantExistsAsync(grains, tenantId))
        {
            return AdminEndpoints.TenantNotFound();
        }

        var page = await grains.GetGrain<IRequestLogGrain>(GrainKeys.RequestLog(tenantId)).ReadAsync(new RequestLogQuery(afterText is null ? null : cursor, limit, outcomeText?.ToLowerInvariant(), resourceId));
        return TypedResults.Json(new JsonObject
        {
            ["data"] = new JsonArray([.. page.Entries.Select(e => (JsonNode)EntryJson(e))]),
            ["nextCursor"] = page.NextCursor?.ToString(CultureInfo.InvariantCulture),
            ["hasMore"] = page.HasMore,
        });
    }

    private static async Task<IResult> StatusAsync(string tenantId, IGrainFactory grains, ResourceQueries queries)
    {
        if (!await EventFeedEndpoints.TenantExistsAsync(grains, tenantId))
        {
            return AdminEndpoints.TenantNotFound();
        }

        var status = grains.GetGrain<IRequestLogGrain>(GrainKeys.RequestLog(tenantId)).GetStatusAsync();
        var disabled = grains.GetGrain<IDisabledUserCount>(GrainKeys.EventLog(tenantId)).GetDisabledUsersAsync();
        var users = queries.CountAsync(ResourceKind.User, tenantId);
        var groups = queries.CountAsync(ResourceKind.Group, tenantId);
        await Task.WhenAll(status, disabled, users, groups);
        var log = await status;
        var disabledUsers = Math.Min(await disabled, await users);
        return TypedResults.Json(new JsonObject
        {
            ["tenantId"] = tenantId,
            ["connected"] = log.LastRequestAt is not null,
            ["lastRequestAt"] = Time(log.LastRequestAt),
            ["lastTestConnectionAt"] = Time(log.LastTestConnectionAt),
            ["lastSuccessAt"] = Time(log.LastSuccessAt),
            ["lastError"] = log.LastError is { } error ? EntryJson(error) : null,
            ["users"] = new JsonObject { ["total"] = await users, ["active"] = await users - disabledUsers, ["disabled"] = disabledUsers },
            ["groups"] = new JsonObject { ["total"] = await groups },
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
