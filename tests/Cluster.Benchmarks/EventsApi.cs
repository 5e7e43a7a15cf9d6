using System.Globalization;
using System.Text.Json.Nodes;

namespace Cluster.Benchmarks;

/// <summary>One event of a tenant's feed, as <c>GET /admin/tenants/{id}/events</c> lists it (the parts the benchmarks use).</summary>
public sealed record FeedEvent(string Id, long Sequence, string Type, string ResourceId, string? DisplayName);

/// <summary>The admin API of issue 12 (event feed and webhooks), through <see cref="ScimDriver.SendAsync"/>.</summary>
public sealed class EventsApi(ScimDriver driver, string adminKey)
{
    private readonly OpStats _stats = new("events admin");

    /// <summary>Admin calls that failed (every call is checked by its caller too).</summary>
    public int Errors => _stats.Errors;

    public async Task SetWebhookAsync(BenchTenant tenant, string url)
    {
        var (status, body) = await driver.SendAsync(_stats, HttpMethod.Put, $"/admin/tenants/{tenant.TenantId}/webhook", adminKey, new JsonObject { ["url"] = url }.ToJsonString(), "application/json", 200);
        if (status != 200)
        {
            throw new InvalidOperationException($"PUT webhook answered {status}: {body}");
        }
    }

    public async Task DeleteWebhookAsync(BenchTenant tenant)
    {
        var (status, body) = await driver.SendAsync(_stats, HttpMethod.Delete, $"/admin/tenants/{tenant.TenantId}/webhook", adminKey, null, "", 204);
        if (status != 204)
        {
            throw new InvalidOperationException($"DELETE webhook answered {status}: {body}");
        }
    }

    /// <summary>Asks the webhook to deliver again every event after <paramref name="after"/>.</summary>
    public async Task RedeliverAsync(BenchTenant tenant, long after)
    {
        var (status, body) = await driver.SendAsync(_stats, HttpMethod.Post, $"/admin/tenants/{tenant.TenantId}/webhook/redeliver", adminKey,
            new JsonObject { ["after"] = after.ToString(CultureInfo.InvariantCulture) }.ToJsonString(), "application/json", 202);
        if (status != 202)
        {
            throw new InvalidOperationException($"POST webhook/redeliver answered {status}: {body}");
        }
    }

    /// <summary>The webhook's cursor: every event up to it was delivered.</summary>
    public async Task<long> WebhookCursorAsync(BenchTenant tenant)
    {
        var (status, body) = await driver.SendAsync(_stats, HttpMethod.Get, $"/admin/tenants/{tenant.TenantId}/webhook", adminKey, null, "", 200);
        return status == 200 && body is not null
            ? long.Parse(JsonNode.Parse(body)!["cursor"]!.GetValue<string>(), CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"GET webhook answered {status}: {body}");
    }

    /// <summary>The readable events after <paramref name="after"/> (all of them, page by page; <paramref name="max"/> at most).</summary>
    public async Task<List<FeedEvent>> ReadAsync(BenchTenant tenant, long? after = null, int max = int.MaxValue)
    {
        var events = new List<FeedEvent>();
        var cursor = after;
        while (events.Count < max)
        {
            var path = $"/admin/tenants/{tenant.TenantId}/events?limit={Math.Min(1000, max - events.Count)}" + (cursor is { } c ? $"&after={c}" : "");
            var (status, body) = await driver.SendAsync(_stats, HttpMethod.Get, path, adminKey, null, "", 200);
            if (status != 200 || body is null)
            {
                throw new InvalidOperationException($"GET events answered {status}: {body}");
            }

            var page = JsonNode.Parse(body)!;
            foreach (var e in page["data"]!.AsArray())
            {
                events.Add(new FeedEvent(
                    e!["id"]!.GetValue<string>(),
                    e["sequence"]!.GetValue<long>(),
                    e["type"]!.GetValue<string>(),
                    e["resourceId"]!.GetValue<string>(),
                    e["data"]?["displayName"] is JsonValue name && name.TryGetValue<string>(out var text) ? text : null));
            }

            cursor = long.Parse(page["nextCursor"]!.GetValue<string>(), CultureInfo.InvariantCulture);
            if (!page["hasMore"]!.GetValue<bool>())
            {
                break;
            }
        }

        return events;
    }

    /// <summary>Events readable but not yet delivered by the tenant's webhook (up to 1,000 counted).</summary>
    public async Task<int> BacklogAsync(BenchTenant tenant) =>
        (await ReadAsync(tenant, await WebhookCursorAsync(tenant), 1000)).Count;
}
