using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Gateway.Resilience;
using Cluster.Grains.Events;
using Cluster.TestInfrastructure;
using Orleans.Storage;
using Xunit.Abstractions;

namespace Cluster.Persistence.Tests;

/// <summary>
/// Two activations of one grain at once, as Orleans allows while a silo that was declared dead still runs: two clusters
/// that never hear of each other on one table and ServiceId (<see cref="FailoverCluster.StartTwinAsync"/>), so each
/// activates every grain it is asked for, and only storage's ETags stand between the two activations. What storage holds
/// afterwards is read by a third cluster started once both have stopped.
/// </summary>
public sealed class SplitBrainTests(ITestOutputHelper output)
{
    /// <summary>
    /// A tenant's event log written through both activations at once, long enough for pages to fill: every commit whose
    /// prepare and durable confirmation were both answered is in the feed, once, in sequence order. Before the head became
    /// the commit point, an activation on an outdated head wrote the pages it filled before storage refused its head, and
    /// so replaced pages of acknowledged events with events nobody acknowledged.
    /// </summary>
    [Fact]
    public async Task EveryAcknowledgedCommitIsInTheFeedWhenTwoActivationsOfTheLogWriteAtOnce()
    {
        const int Writers = 8;
        const int CommitsPerWriter = 40;
        await using var first = await FailoverCluster.StartAsync("ScimSplitLog", "scim-split-log-", output, silos: 1);
        await using var second = await first.StartTwinAsync();
        var tenantId = GrainKeys.NewTenantId();
        var acknowledged = new ConcurrentBag<string>();
        var attempted = new ConcurrentBag<string>();
        var refused = 0;

        await Task.WhenAll(Enumerable.Range(0, Writers).Select(async writer =>
        {
            var random = new Random(writer);
            for (var i = 0; i < CommitsPerWriter; i++)
            {
                var log = (random.Next(2) == 0 ? first : second).Client.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId));
                var id = $"w{writer}-{i}";
                var source = new EventSource("User", GrainKeys.NewResourceId(), 1, 0);
                attempted.Add(id);
                try
                {
                    var from = await log.PrepareAsync(source, [new ScimEvent(id, 0, ScimEventTypes.UserUpdated, DateTimeOffset.UtcNow, "User", source.ResourceId, "{}", ["displayName"])]);
                    await log.ConfirmAsync(source, from, durable: true);
                    acknowledged.Add(id);
                }
                catch (Exception e) when (e is InconsistentStateException || e.InnerException is InconsistentStateException)
                {
                    // Refused by storage: the other activation wrote the head since this one read it.
                    Interlocked.Increment(ref refused);
                }
            }
        }));

        output.WriteLine($"{acknowledged.Count} acknowledged, {refused} refused by storage");
        Assert.True(refused > 0, "the two activations never met: nothing was refused");
        Assert.True(acknowledged.Count > EventLogGrain.PageSize * 4, $"only {acknowledged.Count} commits acknowledged: too few to fill pages");
        await first.StopAsync();
        await second.StopAsync();

        await using var after = await first.StartTwinAsync();
        var log = after.Client.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId));
        await Eventually.TrueAsync(async () => (await log.GetInfoAsync()).OldestUnresolvedAt is null, what: "every prepared commit resolved");
        var feed = new List<ScimEvent>();
        long? cursor = null;
        EventPage page;
        do
        {
            page = await log.ReadAsync(cursor, EventLogGrain.MaxReadLimit);
            feed.AddRange(page.Events);
            cursor = page.Cursor;
        }
        while (page.HasMore);

        var ids = feed.Select(e => e.Id).ToList();
        Assert.Empty(acknowledged.Except(ids).Order(StringComparer.Ordinal));
        Assert.Empty(ids.Except(attempted));
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(feed.Select(e => e.Sequence).Order(), feed.Select(e => e.Sequence));
    }

    /// <summary>
    /// Writes that store nothing are checked against storage too. The second cluster's activation of a user still holds it
    /// active while the first cluster deactivates, reactivates and deactivates it: asked to make it active, which its
    /// outdated state already is, it must not answer "done" without a write. And an activation made before a user existed
    /// must not answer a delete with 404 once the user has been created through the other cluster.
    /// </summary>
    [Fact]
    public async Task AWriteThatAnOutdatedActivationFindsAlreadyMadeIsCheckedAgainstStorage()
    {
        await using var first = await FailoverCluster.StartAsync("ScimSplitNoop", "scim-split-noop-", output, silos: 1);
        await using var second = await first.StartTwinAsync();
        var tenantId = GrainKeys.NewTenantId();
        IUserGrain User(FailoverCluster cluster, string id) => cluster.Client.GetGrain<IUserGrain>(GrainKeys.User(tenantId, id));
        static string Active(bool active) =>
            $$"""{"schemas":["{{EntraPayloads.PatchOpSchema}}"],"Operations":[{"op":"Replace","path":"active","value":"{{(active ? "True" : "False")}}"}]}""";

        // Every write goes through the gateway's retry policy, as in production: each cluster's activation of the tenant's
        // event log is outdated whenever the other one has written since, and storage refuses it once.
        async Task WriteAsync(FailoverCluster cluster, int status, Func<Task<ScimResult>> write)
        {
            var outcome = await cluster.TryAsync(CallSafety.Idempotent, write);
            Assert.Equal((Ack.Yes, (int?)status), (outcome.Ack, outcome.Status));
        }

        var kept = GrainKeys.NewResourceId();
        await WriteAsync(first, 201, () => User(first, kept).CreateAsync(FailoverCluster.UserResource($"kept.zq{first.Run}@contoso.com", "ext-kept")));
        await WriteAsync(first, 200, () => User(first, kept).PatchAsync(Active(true)));
        Assert.Equal(200, (await User(second, kept).GetAsync()).Status); // the second cluster's activation: active true
        foreach (var active in new[] { false, true, false })
        {
            await WriteAsync(first, 200, () => User(first, kept).PatchAsync(Active(active)));
        }

        var reactivated = await second.TryAsync(CallSafety.Idempotent, () => User(second, kept).PatchAsync(Active(true)));
        Assert.Equal((Ack.Yes, (int?)200), (reactivated.Ack, reactivated.Status));
        Assert.True(reactivated.Attempts > 1, "the outdated activation answered without checking storage");

        var late = GrainKeys.NewResourceId();
        Assert.Equal(404, (await User(second, late).GetAsync()).Status); // activated before the user exists
        await WriteAsync(first, 201, () => User(first, late).CreateAsync(FailoverCluster.UserResource($"late.zq{first.Run}@contoso.com", "ext-late")));
        var deleted = await second.TryAsync(CallSafety.Idempotent, () => User(second, late).DeleteAsync());
        Assert.Equal((Ack.Yes, (int?)204), (deleted.Ack, deleted.Status));

        await first.StopAsync();
        await second.StopAsync();
        await using var after = await first.StartTwinAsync();
        var stored = await User(after, kept).GetAsync();
        Assert.True(JsonNode.Parse(stored.Resource!)!["active"]!.GetValue<bool>(), "the user is not active: the acknowledged change is lost");
        Assert.Equal(404, (await User(after, late).GetAsync()).Status);
    }
}
