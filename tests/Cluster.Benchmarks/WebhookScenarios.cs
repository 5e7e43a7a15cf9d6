using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Cluster.Benchmarks;

/// <summary>
/// The webhook scenarios of issue 12 (docs/benchmarks.md): how fast events are delivered to a local receiver
/// (<see cref="WebhookSink"/>), how long after the SCIM acknowledgement an event arrives, and whether any event of a feed
/// never arrived. Write throughput with a webhook against without one is measured by wrk in Program.cs.
/// </summary>
public sealed class WebhookScenarios(ScimDriver driver, EventsApi events, WebhookSink sink)
{
    /// <summary>Waits until every tenant's webhook has delivered everything readable; returns the seconds it took.</summary>
    public async Task<double> CatchUpAsync(IReadOnlyList<BenchTenant> tenants, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var behind = tenants.ToList();
        while (true)
        {
            var backlogs = new int[behind.Count];
            await Measure.ForEachAsync(Enumerable.Range(0, behind.Count).ToArray(), 16, async i => backlogs[i] = await events.BacklogAsync(behind[i]));
            behind = [.. behind.Where((_, i) => backlogs[i] > 0)];
            if (behind.Count == 0)
            {
                return Measure.Round(clock.Elapsed.TotalSeconds);
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{behind.Count} webhook(s) still behind after {timeout.TotalSeconds} s (e.g. tenant {behind[0].TenantId}: {backlogs.Max()} events)");
            }

            await Task.Delay(250);
        }
    }

    /// <summary>
    /// Delivery throughput: each tenant's webhook is asked to deliver its last <paramref name="perTenant"/> events again (all
    /// tenants at once); events per second from the requests until the receiver has every one of them.
    /// </summary>
    public async Task<JsonObject> DeliveryThroughputAsync(string name, IReadOnlyList<BenchTenant> tenants, int perTenant, TimeSpan timeout)
    {
        await CatchUpAsync(tenants, timeout);
        var plan = new (BenchTenant Tenant, long After, int Events, long Before)[tenants.Count];
        await Measure.ForEachAsync(Enumerable.Range(0, tenants.Count).ToArray(), 16, async i =>
        {
            var cursor = await events.WebhookCursorAsync(tenants[i]);
            var after = Math.Max(0, cursor - perTenant);
            var count = (await events.ReadAsync(tenants[i], after)).Count(e => e.Sequence <= cursor);
            plan[i] = (tenants[i], after, count, 0);
        });

        var total = plan.Sum(p => p.Events);
        for (var i = 0; i < plan.Length; i++)
        {
            plan[i].Before = sink.Of(plan[i].Tenant.TenantId).Count;
        }

        var profile = CpuSample.Take();
        var clock = Stopwatch.StartNew();
        await Measure.ForEachAsync(plan, 16, p => events.RedeliverAsync(p.Tenant, p.After));
        long Delivered() => plan.Sum(p => Math.Min(p.Events, sink.Of(p.Tenant.TenantId).Count - p.Before));
        while (Delivered() < total && clock.Elapsed < timeout)
        {
            await Task.Delay(20);
        }

        var seconds = clock.Elapsed.TotalSeconds;
        var delivered = Delivered();
        var result = new JsonObject
        {
            ["name"] = name,
            ["tenants"] = tenants.Count,
            ["events"] = total,
            ["delivered"] = delivered,
            ["seconds"] = Measure.Round(seconds),
            ["eventsPerSecond"] = Measure.Round(delivered / seconds, 0),
            ["idleCores"] = profile.IdleCoresUntil(CpuSample.Take()),
        };
        Console.WriteLine($"[bench]   delivery ({name}): {delivered} of {total} events in {seconds:0.0} s = {result["eventsPerSecond"]} events/s");
        if (delivered < total)
        {
            throw new TimeoutException($"delivery ({name}): {delivered} of {total} events arrived within {timeout.TotalSeconds} s");
        }

        return result;
    }

    /// <summary>
    /// Latency from the SCIM acknowledgement to the webhook's arrival: PATCHes (a new displayName each) sent open-loop at
    /// <paramref name="rate"/> per second for <paramref name="seconds"/> s over <paramref name="tenantCount"/> tenants with a
    /// webhook each; for every acknowledged PATCH, the time from its 200 to its event's first arrival at the receiver.
    /// </summary>
    public async Task<JsonObject> LatencyAsync(int tenantCount, int usersPerTenant, int rate, int seconds, TimeSpan timeout)
    {
        var run = $"lat{DateTime.UtcNow:HHmmss}";
        var tenants = new List<(BenchTenant Tenant, List<BenchUser> Users)>();
        for (var t = 0; t < tenantCount; t++)
        {
            var tenant = await driver.CreateTenantAsync($"{run}-{t}");
            var users = await driver.SeedAsync(tenant, usersPerTenant, 8, $"{run}-{t}-", new OpStats("seed"));
            await events.SetWebhookAsync(tenant, sink.UrlFor(tenant.TenantId));
            tenants.Add((tenant, users));
        }

        var stats = new OpStats("PATCH");
        var acks = new System.Collections.Concurrent.ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var requests = rate * seconds;
        var start = Stopwatch.GetTimestamp();
        var sent = new List<Task>(requests);
        for (var i = 0; i < requests; i++)
        {
            // Open loop: request i leaves at its scheduled time whether or not the earlier ones have been answered.
            var due = start + (long)(i * (double)Stopwatch.Frequency / rate);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            var (tenant, users) = tenants[i % tenants.Count];
            var user = users[(i / tenants.Count) % users.Count];
            var value = $"{run} {i.ToString(CultureInfo.InvariantCulture)}";
            sent.Add(Task.Run(async () =>
            {
                var (status, _) = await driver.SendAsync(stats, HttpMethod.Patch, $"{tenant.ScimPath}/Users/{user.Id}", tenant.Token,
                    ScimDriver.PatchBody("Replace", "displayName", value), "application/scim+json", 200);
                if (status == 200)
                {
                    acks[value] = Stopwatch.GetTimestamp();
                }
            }));
        }

        await Task.WhenAll(sent);
        var sendSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var catchUp = await CatchUpAsync([.. tenants.Select(t => t.Tenant)], timeout);

        var latencies = new List<double>();
        var missing = 0;
        foreach (var (tenant, _) in tenants)
        {
            var received = sink.Of(tenant.TenantId);
            foreach (var e in await events.ReadAsync(tenant))
            {
                if (e.DisplayName is { } value && acks.TryGetValue(value, out var ackedAt) && e.Type == "user.updated")
                {
                    if (received.FirstArrival(e.Id) is { } arrived)
                    {
                        latencies.Add((arrived - ackedAt) * 1000.0 / Stopwatch.Frequency);
                    }
                    else
                    {
                        missing++;
                    }
                }
            }
        }

        var result = new JsonObject
        {
            ["name"] = "SCIM acknowledgement → webhook arrival",
            ["tenants"] = tenantCount,
            ["ratePerSecond"] = rate,
            ["requests"] = requests,
            ["sendSeconds"] = Measure.Round(sendSeconds),
            ["acknowledged"] = acks.Count,
            ["measured"] = latencies.Count,
            ["missing"] = missing,
            ["p50Ms"] = Measure.Round(Measure.Percentile(latencies, 50)),
            ["p99Ms"] = Measure.Round(Measure.Percentile(latencies, 99)),
            ["maxMs"] = Measure.Round(latencies.Count == 0 ? 0 : latencies.Max()),
            ["minMs"] = Measure.Round(latencies.Count == 0 ? 0 : latencies.Min()),
            ["catchUpSeconds"] = catchUp,
            ["patch"] = stats.ToJson(),
            ["errors"] = stats.Errors + missing + (requests - acks.Count),
        };
        Console.WriteLine($"[bench]   latency: {latencies.Count} events, p50 {result["p50Ms"]} ms, p99 {result["p99Ms"]} ms, max {result["maxMs"]} ms, missing {missing}");
        return result;
    }

    /// <summary>
    /// Lost events: once every webhook has caught up (twice, a few seconds apart, so commits still being resolved are
    /// readable), every event of each tenant's feed must have reached the receiver; nothing else may have.
    /// </summary>
    public async Task<JsonObject> LostEventsAsync(IReadOnlyList<BenchTenant> tenants, TimeSpan timeout)
    {
        var catchUp = await CatchUpAsync(tenants, timeout);
        await Task.Delay(TimeSpan.FromSeconds(4));
        catchUp += await CatchUpAsync(tenants, timeout);
        long feedEvents = 0, lost = 0, extra = 0, deliveries = 0;
        string? example = null;
        await Measure.ForEachAsync(tenants, 16, async tenant =>
        {
            var feed = await events.ReadAsync(tenant);
            var received = sink.Of(tenant.TenantId);
            var ids = feed.Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
            var missing = feed.Where(e => !received.Received(e.Id)).ToList();
            var strays = received.EventIds.Count(id => !ids.Contains(id));
            Interlocked.Add(ref feedEvents, feed.Count);
            Interlocked.Add(ref lost, missing.Count);
            Interlocked.Add(ref extra, strays);
            Interlocked.Add(ref deliveries, received.Count);
            if (missing.Count > 0)
            {
                example ??= $"tenant {tenant.TenantId}: #{missing[0].Sequence} {missing[0].Type} {missing[0].Id}";
            }
        });

        var result = new JsonObject
        {
            ["tenants"] = tenants.Count,
            ["feedEvents"] = feedEvents,
            ["deliveries"] = deliveries,
            ["repeated"] = deliveries - (feedEvents - lost) - extra,
            ["lost"] = lost,
            ["notInFeed"] = extra,
            ["catchUpSeconds"] = Measure.Round(catchUp),
            ["firstLost"] = example,
        };
        Console.WriteLine($"[bench]   webhooks: {feedEvents} feed events, {deliveries} deliveries, lost {lost}, not in the feed {extra}, caught up in {result["catchUpSeconds"]} s");
        return result;
    }
}
