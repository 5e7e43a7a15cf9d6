using System.Globalization;
using System.Text.Json.Nodes;
using Cluster.Abstractions;

namespace Cluster.Gateway.Admin;

/// <summary>
/// The pull side of the event feed: <c>GET /admin/tenants/{tenantId}/events?after={cursor}&amp;limit={1–1000}</c> (issue 12,
/// docs/architecture.md "Events"). A page costs one or two page rows of the tenant's log, however long the feed is.
/// </summary>
public static class EventFeedEndpoints
{
    /// <summary>Events per page when <c>limit</c> is not given.</summary>
    public const int DefaultLimit = 100;

    public static RouteGroupBuilder MapEventFeed(this RouteGroupBuilder admin)
    {
        admin.MapGet("/tenants/{tenantId}/events", ReadAsync);
        return admin;
    }

    private static async Task<IResult> ReadAsync(string tenantId, HttpRequest request, IGrainFactory grains)
    {
        var query = request.Query;
        var limit = DefaultLimit;
        if (query.TryGetValue("limit", out var limitText)
            && (limitText.Count != 1 || !int.TryParse(limitText[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 1000))
        {
            return TypedResults.Problem(statusCode: 400, title: "Invalid limit", detail: "'limit' must be a whole number from 1 to 1000.");
        }

        long? after = null;
        if (query.TryGetValue("after", out var afterText) && afterText.ToString().Length > 0)
        {
            if (afterText.Count != 1 || !long.TryParse(afterText[0], NumberStyles.None, CultureInfo.InvariantCulture, out var cursor))
            {
                return TypedResults.Problem(statusCode: 400, title: "Invalid cursor", detail: "'after' must be a cursor returned as 'nextCursor' by an earlier page.");
            }

            after = cursor;
        }

        if (!GrainKeys.IsValidId(tenantId) || await grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenantId)).GetInfoAsync() is null)
        {
            return TypedResults.Problem(statusCode: 404, title: "Not found", detail: "No such tenant.");
        }

        var page = await grains.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId)).ReadAsync(after, limit);
        if (page.Expired)
        {
            return TypedResults.Problem(
                statusCode: 410,
                title: "Cursor expired",
                detail: "The events after this cursor are older than the retention window (Events:RetentionDays) and were erased. Read again without 'after' to start at the oldest retained event.");
        }

        return TypedResults.Json(new JsonObject
        {
            ["data"] = new JsonArray([.. page.Events.Select(e => (JsonNode)ScimEventJson.ToJson(tenantId, e))]),
            ["nextCursor"] = page.Cursor.ToString(CultureInfo.InvariantCulture),
            ["hasMore"] = page.HasMore,
        });
    }
}
