using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Cluster.Abstractions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Cluster.Gateway.Admin;

/// <summary>
/// How the vendor's application gets a tenant's changes (issue 12, docs/architecture.md "Events"): the pull API
/// <c>GET /admin/tenants/{tenantId}/events?after={cursor}&amp;limit={1–1000}</c> (a page costs one or two page rows of the
/// tenant's log, however long the feed is), and the tenant's webhook: <c>PUT|GET|DELETE …/webhook</c>,
/// <c>GET …/webhook/deliveries</c>, <c>POST …/webhook/test</c>, <c>POST …/webhook/redeliver</c>.
/// </summary>
public static class EventFeedEndpoints
{
    /// <summary>Events per page when <c>limit</c> is not given.</summary>
    public const int DefaultLimit = 100;

    public static RouteGroupBuilder MapEventFeed(this RouteGroupBuilder admin)
    {
        admin.MapGet("/tenants/{tenantId}/events", ReadAsync);
        admin.MapPut("/tenants/{tenantId}/webhook", SetWebhookAsync);
        admin.MapGet("/tenants/{tenantId}/webhook", GetWebhookAsync);
        admin.MapDelete("/tenants/{tenantId}/webhook", DeleteWebhookAsync);
        admin.MapGet("/tenants/{tenantId}/webhook/deliveries", DeliveriesAsync);
        admin.MapPost("/tenants/{tenantId}/webhook/test", TestWebhookAsync);
        admin.MapPost("/tenants/{tenantId}/webhook/redeliver", RedeliverAsync);
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

        if (!await TenantExistsAsync(grains, tenantId))
        {
            return NoTenant();
        }

        var page = await grains.Grain<IEventLogGrain>(GrainKeys.EventLog(tenantId)).ReadAsync(after, limit);
        if (page.Beyond)
        {
            return BeyondTheFeed();
        }

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

    private static async Task<IResult> SetWebhookAsync(string tenantId, WebhookRequest? body, IGrainFactory grains)
    {
        if (body?.Url is not { Length: > 0 } url)
        {
            return TypedResults.Problem(statusCode: 400, title: "Invalid webhook", detail: "'url' is required: an https URL.");
        }

        if (!await TenantExistsAsync(grains, tenantId))
        {
            return NoTenant();
        }

        var result = await Webhook(grains, tenantId).SetAsync(url, body.Secret);
        if (result.Webhook is not { } webhook)
        {
            return TypedResults.Problem(statusCode: 400, title: "Invalid webhook", detail: result.Error);
        }

        var json = WebhookJson(webhook);
        if (result.GeneratedSecret is { } secret)
        {
            json["secret"] = secret;
        }

        return TypedResults.Json(json);
    }

    private static async Task<IResult> GetWebhookAsync(string tenantId, IGrainFactory grains) =>
        await TenantExistsAsync(grains, tenantId) && await Webhook(grains, tenantId).GetAsync() is { } webhook
            ? TypedResults.Json(WebhookJson(webhook))
            : NoWebhook();

    private static async Task<IResult> DeleteWebhookAsync(string tenantId, IGrainFactory grains) =>
        await TenantExistsAsync(grains, tenantId) && await Webhook(grains, tenantId).DeleteAsync()
            ? TypedResults.NoContent()
            : NoWebhook();

    private static async Task<IResult> DeliveriesAsync(string tenantId, IGrainFactory grains)
    {
        if (!await TenantExistsAsync(grains, tenantId) || await Webhook(grains, tenantId).GetAsync() is null)
        {
            return NoWebhook();
        }

        var attempts = await Webhook(grains, tenantId).GetDeliveriesAsync();
        return TypedResults.Json(new JsonObject { ["data"] = new JsonArray([.. attempts.Select(a => (JsonNode)AttemptJson(a))]) });
    }

    private static async Task<IResult> TestWebhookAsync(string tenantId, IGrainFactory grains) =>
        await TenantExistsAsync(grains, tenantId) && await Webhook(grains, tenantId).TestAsync() is { } attempt
            ? TypedResults.Json(AttemptJson(attempt))
            : NoWebhook();

    private static async Task<IResult> RedeliverAsync(string tenantId, RedeliverRequest? body, IGrainFactory grains)
    {
        if (body?.After is not { Length: > 0 } text || !long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var after))
        {
            return TypedResults.Problem(statusCode: 400, title: "Invalid cursor", detail: "'after' is required: a cursor ('nextCursor' of the event feed, or \"0\" for every retained event).");
        }

        if (!await TenantExistsAsync(grains, tenantId))
        {
            return NoTenant();
        }

        return await Webhook(grains, tenantId).RedeliverAsync(after) switch
        {
            RedeliverResult.Started => TypedResults.Accepted((string?)null),
            RedeliverResult.Expired => TypedResults.Problem(statusCode: 410, title: "Cursor expired", detail: "The events after this cursor are older than the retention window and were erased."),
            RedeliverResult.Beyond => BeyondTheFeed(),
            _ => NoWebhook(),
        };
    }

    private static ProblemHttpResult BeyondTheFeed() => TypedResults.Problem(
        statusCode: 400, title: "Invalid cursor", detail: "The cursor is past the end of the feed: use a 'nextCursor' returned by an earlier page (to start at the oldest retained event, read without one, or redeliver after \"0\").");

    private static JsonObject WebhookJson(WebhookInfo webhook) => new()
    {
        ["url"] = webhook.Url,
        ["createdAt"] = webhook.CreatedAt,
        ["cursor"] = webhook.Cursor.ToString(CultureInfo.InvariantCulture),
        ["retrying"] = webhook.Retrying,
        ["nextAttemptAt"] = webhook.NextAttemptAt,
        ["parked"] = new JsonArray([.. webhook.Parked.Select(p => (JsonNode)new JsonObject
        {
            ["eventId"] = p.EventId,
            ["sequence"] = p.Sequence,
            ["parkedAt"] = p.ParkedAt,
        })]),
        ["expired"] = new JsonArray([.. webhook.Expired.Select(x => (JsonNode)new JsonObject
        {
            ["after"] = x.After.ToString(CultureInfo.InvariantCulture),
            ["through"] = x.Through.ToString(CultureInfo.InvariantCulture),
            ["count"] = x.Through - x.After,
            ["at"] = x.At,
        })]),
    };

    private static JsonObject AttemptJson(DeliveryAttempt a) => new()
    {
        ["eventId"] = a.EventId,
        ["at"] = a.At,
        ["statusCode"] = a.StatusCode,
        ["error"] = a.Error,
        ["durationMs"] = Math.Round(a.Duration.TotalMilliseconds, 1),
        ["delivered"] = a.Delivered,
    };

    /// <summary>True when <paramref name="tenantId"/> is a valid id of a tenant that exists.</summary>
    internal static async Task<bool> TenantExistsAsync(IGrainFactory grains, string tenantId) =>
        GrainKeys.IsValidId(tenantId) && await grains.Grain<ITenantGrain>(GrainKeys.Tenant(tenantId)).GetInfoAsync() is not null;

    private static IWebhookGrain Webhook(IGrainFactory grains, string tenantId) => grains.Grain<IWebhookGrain>(GrainKeys.Webhook(tenantId));

    private static ProblemHttpResult NoTenant() => TypedResults.Problem(statusCode: 404, title: "Not found", detail: "No such tenant.");

    private static ProblemHttpResult NoWebhook() => TypedResults.Problem(statusCode: 404, title: "Not found", detail: "No such tenant, or it has no webhook.");
}

/// <summary><c>PUT …/webhook</c> body: the https URL, and optionally the signing secret (generated when omitted).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)] // a misspelt member is a 400, not a default
public sealed record WebhookRequest(string? Url, string? Secret);

/// <summary>
/// <c>POST …/webhook/redeliver</c> body: the cursor to re-send from, a string as the feed writes cursors, or a number (the
/// webhook's <c>parked[].sequence</c> is one: a parked event is re-sent after <c>sequence - 1</c>).
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record RedeliverRequest([property: JsonConverter(typeof(CursorConverter))] string? After);

/// <summary>Reads a cursor given as a string or as a whole number; anything else fails the binding (400).</summary>
public sealed class CursorConverter : JsonConverter<string?>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Number when reader.TryGetInt64(out var number) => number.ToString(CultureInfo.InvariantCulture),
        _ => throw new JsonException("A cursor is a string of digits or a whole number."),
    };

    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
