using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Gateway.Resilience;
using Cluster.TestInfrastructure;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Cluster.Persistence.Tests;

/// <summary>
/// Invariant 11 across a silo crash: three silos on Azure Table storage (Azurite), a webhook for every tenant (a real
/// receiver on 127.0.0.1), and concurrently, through the gateway's retry policy, two writers per tenant racing to create
/// each userName, then the winner's PATCHes (displayName, <c>active</c> False and True) and deletes. The silo killed in
/// the middle is the one holding the most tenants' event logs (and webhooks), so a log dies with prepared commits in it.
/// The same writers run once more against two clusters on the same storage, so every grain (user, index entry, event log,
/// webhook) has two activations at once. Afterwards, once every log has resolved its prepared commits and every webhook has caught up:
/// <list type="number">
/// <item>every acknowledged change has exactly one matching event (type, resource and content), in the resource's write
/// order; a change whose outcome the client never learned has at most one;</item>
/// <item>no event has no acknowledged or unknown-outcome operation behind it (a create that lost the race, 409, has none);</item>
/// <item>sequences strictly increase and event ids are unique;</item>
/// <item>the feed agrees with what is stored: a user's last event is its stored state, or user.deleted when it is gone;</item>
/// <item>the receiver got every feed event at least once and nothing else (by <c>Scim-Event-Id</c>, signature checked),
/// and each tenant's first deliveries came in sequence order.</item>
/// </list>
/// Every violation is collected (with the resource's operations and events) before the test fails. The plan of operations
/// comes from a seed printed at the start; <c>EVENT_FAILOVER_SEED</c> replays it (timing still varies). It found a user
/// delete retried after its durable confirmation failed being told twice (fixed; <c>RetriedDeleteTests</c> pins it).
/// </summary>
public sealed class EventFailoverTests(ITestOutputHelper output)
{
    private const int Tenants = 4;
    private const int NamesPerTenant = 12;

    [Fact]
    public async Task EveryAcknowledgedChangeIsInTheFeedOnceAndDeliveredAfterASiloKilledDuringConcurrentWrites()
    {
        var seed = Seed();
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var failover = await FailoverCluster.StartAsync("ScimEventFailover", "scim-event-failover-", output);
        var (tenants, secrets) = await TenantsWithWebhooksAsync(failover.Client, receiver);
        var writers = new Writers(seed, failover.Run, tenants);

        await failover.RunKillingAsync(
            writers.Start((_, _) => failover),
            writers.ThirdOfTheCreatesAcknowledged,
            async () =>
            {
                var (victim, hosted) = await VictimAsync(failover.Cluster, failover.Client, tenants);
                return (victim, $"after {writers.AcknowledgedCreates} acknowledged creates; it hosts {hosted}");
            });

        await CheckAsync(seed, failover.Client, tenants, secrets, writers, receiver, $"answered after a retry: {failover.Retried}");
    }

    /// <summary>
    /// The same writers and checks with two activations of every grain at once instead of a kill: two clusters that never
    /// hear of each other on one table and ServiceId (what a silo declared dead while it still runs amounts to, for as long as
    /// it runs), each call sent to either of them at random. Only storage's ETags stand between the activations: a write
    /// made on an older state is refused, and the gateway's retry runs it again on a fresh activation. Checked on a third
    /// cluster started on the same storage after both stopped, so what is checked is what storage holds.
    /// </summary>
    [Fact]
    public async Task EveryAcknowledgedChangeIsInTheFeedOnceAndDeliveredWhileTwoClustersWriteTheSameStorage()
    {
        var seed = Seed();
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var first = await FailoverCluster.StartAsync("ScimSplitBrain", "scim-split-brain-", output, silos: 1);
        await using var second = await first.StartTwinAsync();
        var (tenants, secrets) = await TenantsWithWebhooksAsync(first.Client, receiver);
        var writers = new Writers(seed, first.Run, tenants);

        await Task.WhenAll(writers.Start((tenant, writer) =>
        {
            var random = new Random(unchecked((seed * 17) + (tenant * 2) + writer));
            return () => random.Next(2) == 0 ? first : second;
        }));
        var retried = $"answered after a retry: {first.Retried} through the first cluster, {second.Retried} through the second";
        await first.StopAsync();
        await second.StopAsync();

        await using var after = await first.StartTwinAsync();
        await CheckAsync(seed, after.Client, tenants, secrets, writers, receiver, retried);
    }

    private int Seed()
    {
        var seed = Environment.GetEnvironmentVariable("EVENT_FAILOVER_SEED") is { Length: > 0 } given
            ? int.Parse(given, CultureInfo.InvariantCulture)
            : Random.Shared.Next();
        output.WriteLine($"seed {seed} (EVENT_FAILOVER_SEED={seed} replays the plan)");
        return seed;
    }

    private static async Task<(string[] Tenants, Dictionary<string, string> Secrets)> TenantsWithWebhooksAsync(IGrainFactory grains, WebhookReceiver receiver)
    {
        var tenants = Enumerable.Range(0, Tenants).Select(_ => GrainKeys.NewTenantId()).ToArray();
        var secrets = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tenantId in tenants)
        {
            var set = await Webhook(grains, tenantId).SetAsync(receiver.Url.ToString(), null);
            Assert.True(set.Webhook is not null, set.Error);
            secrets[tenantId] = set.GeneratedSecret!;
        }

        return (tenants, secrets);
    }

    /// <summary>Every check of the class summary, on <paramref name="grains"/> once its logs have resolved and its webhooks caught up.</summary>
    private async Task CheckAsync(int seed, IGrainFactory grains, string[] tenants, Dictionary<string, string> secrets, Writers writers, WebhookReceiver receiver, string retried)
    {
        var ops = writers.Ops;
        output.WriteLine($"{ops.Length} operations: " + string.Join(", ", ops.GroupBy(o => $"{o.Kind} {o.Ack}").OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}: {g.Count()}")) + $"; {retried}");
        Assert.Contains(ops, o => o.Kind == OpKind.Create && o.Ack == Ack.Yes);

        var failures = new List<string>();
        await SettleAsync(grains, tenants, failures);
        var deliveries = receiver.Requests;
        foreach (var tenantId in tenants)
        {
            var feed = await FeedAsync(grains, tenantId);
            output.WriteLine($"tenant {tenantId}: {feed.Length} events ({string.Join(", ", feed.GroupBy(e => e.Type).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}"))})");
            CheckFeed(tenantId, feed, [.. ops.Where(o => o.TenantId == tenantId)], failures);
            await CheckStoredStateAsync(grains, tenantId, feed, [.. ops.Where(o => o.TenantId == tenantId)], failures);
            CheckDeliveries(tenantId, feed, deliveries, secrets[tenantId], failures);
        }

        Assert.True(failures.Count == 0, $"seed {seed}: {failures.Count} violation(s):\n" + string.Join("\n", failures));
    }

    /// <summary>
    /// Two writers per tenant racing to create each userName, then the winner's plan for it (<see cref="Plan"/>), every call
    /// through a cluster's retry policy, each call's outcome in the ledger (<see cref="Ops"/>).
    /// </summary>
    private sealed class Writers(int seed, string run, string[] tenants)
    {
        private readonly ConcurrentQueue<Op> _ledger = new();
        private readonly TaskCompletionSource _third = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _acknowledgedCreates;

        public Op[] Ops => [.. _ledger];

        public int AcknowledgedCreates => Volatile.Read(ref _acknowledgedCreates);

        /// <summary>Completes when a third of all names have an acknowledged create.</summary>
        public Task ThirdOfTheCreatesAcknowledged => _third.Task;

        /// <summary>Starts both writers of every tenant; <paramref name="route"/> gives each (tenant, writer) the chooser of the cluster for its next call.</summary>
        public List<Task> Start(Func<int, int, Func<FailoverCluster>> route) =>
            [.. Enumerable.Range(0, tenants.Length).SelectMany(t => new[] { WriteAsync(t, 0, route(t, 0)), WriteAsync(t, 1, route(t, 1)) })];

        /// <summary>Starts every writer on one cluster.</summary>
        public List<Task> Start(Func<int, int, FailoverCluster> cluster) => Start((t, w) => () => cluster(t, w));

        private async Task WriteAsync(int tenant, int writer, Func<FailoverCluster> next)
        {
            var tenantId = tenants[tenant];
            for (var n = 0; n < NamesPerTenant; n++)
            {
                var name = $"user{n}.zq{run}@contoso.com";
                var id = GrainKeys.NewResourceId();
                var key = GrainKeys.User(tenantId, id);
                var value = $"w{writer} v0";
                var (ack, status, attempts) = await TryAsync(next(), u => u.CreateAsync(FailoverCluster.UserResource(name, $"ext-{n}", value)));
                _ledger.Enqueue(new Op(tenantId, id, name, OpKind.Create, value, ack, status, attempts));
                if (ack != Ack.Yes)
                {
                    continue;
                }

                if (Interlocked.Increment(ref _acknowledgedCreates) == tenants.Length * NamesPerTenant / 3)
                {
                    _third.TrySetResult();
                }

                // The same plan for a name whichever writer wins it.
                foreach (var (kind, step) in Plan(seed, tenant, n, writer))
                {
                    (ack, status, attempts) = await TryAsync(next(), user => kind switch
                    {
                        OpKind.Rename => user.PatchAsync(Patch("Replace", "displayName", step!)),
                        OpKind.Deactivate => user.PatchAsync(Patch("Replace", "active", "False")),
                        OpKind.Reactivate => user.PatchAsync(Patch("Replace", "active", "True")),
                        _ => user.DeleteAsync(),
                    });
                    _ledger.Enqueue(new Op(tenantId, id, name, kind, step, ack, status, attempts));
                }

                Task<CallOutcome> TryAsync(FailoverCluster cluster, Func<IUserGrain, Task<ScimResult>> call) =>
                    cluster.TryAsync(CallSafety.Idempotent, () => call(cluster.Client.GetGrain<IUserGrain>(key)));
            }
        }
    }

    /// <summary>
    /// The operations after a name's create, from the seed: rename, sometimes deactivate (and later reactivate), rename
    /// again, sometimes delete. Values carry the writer and step, so every change has content of its own.
    /// </summary>
    private static IEnumerable<(OpKind Kind, string? Value)> Plan(int seed, int tenant, int n, int writer)
    {
        var random = new Random(unchecked((seed * 31) + (tenant * 1009) + n));
        var deactivate = random.NextDouble() < 0.5;
        var reactivate = deactivate && random.NextDouble() < 0.5;
        var delete = random.NextDouble() < 0.35;
        yield return (OpKind.Rename, $"w{writer} v1");
        if (deactivate)
        {
            yield return (OpKind.Deactivate, null);
        }

        yield return (OpKind.Rename, $"w{writer} v2");
        if (reactivate)
        {
            yield return (OpKind.Reactivate, null);
        }

        if (delete)
        {
            yield return (OpKind.Delete, null);
        }
    }

    /// <summary>The non-primary silo holding the most event logs (then webhooks) of the tenants.</summary>
    private static async Task<(InProcessSiloHandle Victim, string Hosted)> VictimAsync(InProcessTestCluster cluster, IGrainFactory grains, string[] tenants)
    {
        var management = grains.GetGrain<IManagementGrain>(0);
        var logs = new List<SiloAddress?>();
        var webhooks = new List<SiloAddress?>();
        foreach (var tenantId in tenants)
        {
            logs.Add(await management.GetActivationAddress(grains.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId))));
            webhooks.Add(await management.GetActivationAddress(Webhook(grains, tenantId)));
        }

        var victim = cluster.Silos.Skip(1).MaxBy(s => (logs.Count(a => s.SiloAddress.Equals(a)) * 100) + webhooks.Count(a => s.SiloAddress.Equals(a)))!;
        return (victim, $"{logs.Count(a => victim.SiloAddress.Equals(a))} of {tenants.Length} event logs and {webhooks.Count(a => victim.SiloAddress.Equals(a))} webhooks");
    }

    /// <summary>Waits until every log has resolved its prepared commits and every webhook's cursor has reached the readable end.</summary>
    private async Task SettleAsync(IGrainFactory grains, string[] tenants, List<string> failures)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var waiting = new List<string>();
            foreach (var tenantId in tenants)
            {
                var info = await Log(grains, tenantId).GetInfoAsync();
                var webhook = await Webhook(grains, tenantId).GetAsync();
                if (info.OldestUnresolvedAt is { } since)
                {
                    waiting.Add($"tenant {tenantId}: a commit prepared at {since:O} is unresolved");
                }

                if (webhook is null || webhook.Cursor < info.Readable)
                {
                    waiting.Add($"tenant {tenantId}: webhook at {webhook?.Cursor.ToString(CultureInfo.InvariantCulture) ?? "none"} of {info.Readable} readable (retrying {webhook?.Retrying ?? "nothing"})");
                }
            }

            if (waiting.Count == 0)
            {
                output.WriteLine($"feeds resolved and webhooks caught up {clock.Elapsed.TotalSeconds:0.0} s after the load");
                return;
            }

            if (clock.Elapsed > TimeSpan.FromMinutes(3))
            {
                failures.AddRange(waiting.Select(w => "not settled after 3 minutes: " + w));
                return;
            }

            await Task.Delay(250);
        }
    }

    /// <summary>(1)–(3): each resource's events against its operations, in order; nothing else; sequences and ids.</summary>
    private static void CheckFeed(string tenantId, ScimEvent[] feed, Op[] ops, List<string> failures)
    {
        for (var i = 1; i < feed.Length; i++)
        {
            if (feed[i].Sequence <= feed[i - 1].Sequence)
            {
                failures.Add($"tenant {tenantId}: sequence {feed[i].Sequence} follows {feed[i - 1].Sequence}");
            }
        }

        foreach (var twice in feed.GroupBy(e => e.Id).Where(g => g.Count() > 1))
        {
            failures.Add($"tenant {tenantId}: event id {twice.Key} appears {twice.Count()} times");
        }

        var byUser = ops.GroupBy(o => o.UserId).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        foreach (var stray in feed.Where(e => !byUser.ContainsKey(e.ResourceId)))
        {
            failures.Add($"tenant {tenantId}: {Describe(stray)} concerns no resource any writer touched");
        }

        foreach (var (userId, userOps) in byUser)
        {
            var events = feed.Where(e => e.ResourceId == userId).ToArray();
            var next = 0;
            var active = true;
            var problems = new List<string>();
            foreach (var op in userOps.Where(o => o.Ack != Ack.Rejected))
            {
                if (next < events.Length && Matches(op, events[next]))
                {
                    active = events[next].Type switch
                    {
                        ScimEventTypes.UserDeactivated => false,
                        ScimEventTypes.UserReactivated => true,
                        _ => active,
                    };
                    next++;
                }
                else if (op.Ack == Ack.Yes && !(op.Kind == OpKind.Reactivate && active))
                {
                    // (A reactivation of a user still active, its deactivation of unknown outcome never having happened,
                    // changes nothing and is told nowhere: CI once saw exactly that, after a silo kill, 2026-12-07.)
                    problems.Add($"acknowledged {op.Kind} {op.Value} has no event at its place");
                }
            }

            if (next < events.Length)
            {
                problems.Add($"{events.Length - next} event(s) with no operation behind them, from {Describe(events[next])}");
            }

            if (problems.Count > 0)
            {
                failures.Add($"tenant {tenantId}, user {userId}: {string.Join("; ", problems)}. Operations: {string.Join(" → ", userOps.Select(o => $"{o.Kind} {o.Value} {o.Ack} {o.Status}"))}. Events: {string.Join(" → ", events.Select(Describe))}");
            }
        }
    }

    /// <summary>(4): replaying a user's events ends where its stored state is.</summary>
    private static async Task CheckStoredStateAsync(IGrainFactory grains, string tenantId, ScimEvent[] feed, Op[] ops, List<string> failures)
    {
        foreach (var userId in ops.Select(o => o.UserId).Distinct(StringComparer.Ordinal))
        {
            var stored = await grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, userId)).GetAsync();
            var last = feed.LastOrDefault(e => e.ResourceId == userId);
            var told = last is null || last.Type == ScimEventTypes.UserDeleted ? "gone" : State(JsonNode.Parse(last.Data)!.AsObject());
            var actual = stored.Status == 404 ? "gone" : State(JsonNode.Parse(stored.Resource!)!.AsObject());
            if (told != actual)
            {
                failures.Add($"tenant {tenantId}, user {userId}: the feed ends at '{told}' ({(last is null ? "no event" : Describe(last))}) but the user is '{actual}' ({stored.Status}); operations: {string.Join(" → ", ops.Where(o => o.UserId == userId).Select(o => $"{o.Kind} {o.Value} {o.Ack} {o.Status}"))}");
            }
        }
    }

    /// <summary>(5): every feed event delivered at least once, nothing else, signed; first deliveries in sequence order.</summary>
    private void CheckDeliveries(string tenantId, ScimEvent[] feed, IReadOnlyList<ReceivedWebhook> requests, string secret, List<string> failures)
    {
        var mine = new List<(string Id, long Sequence)>();
        foreach (var request in requests)
        {
            var body = JsonNode.Parse(request.BodyText)!.AsObject();
            if (body["tenantId"]!.GetValue<string>() != tenantId)
            {
                continue;
            }

            var id = body["id"]!.GetValue<string>();
            if (request.EventId != id || !request.HasValidSignature(secret))
            {
                failures.Add($"tenant {tenantId}: delivery of {id} has Scim-Event-Id {request.EventId} or a signature that does not verify");
            }

            mine.Add((id, body["sequence"]!.GetValue<long>()));
        }

        var first = mine.DistinctBy(d => d.Id).ToList();
        for (var i = 1; i < first.Count; i++)
        {
            if (first[i].Sequence <= first[i - 1].Sequence)
            {
                failures.Add($"tenant {tenantId}: event {first[i].Sequence} was first delivered after {first[i - 1].Sequence}");
            }
        }

        var feedIds = feed.Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
        var received = first.Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var missing in feed.Where(e => !received.Contains(e.Id)))
        {
            failures.Add($"tenant {tenantId}: {Describe(missing)} was never delivered");
        }

        foreach (var extra in first.Where(d => !feedIds.Contains(d.Id)))
        {
            failures.Add($"tenant {tenantId}: delivered event {extra.Id} (sequence {extra.Sequence}) is not in the feed");
        }

        output.WriteLine($"tenant {tenantId}: {mine.Count} deliveries of {first.Count} events ({mine.Count - first.Count} repeated)");
    }

    private static bool Matches(Op op, ScimEvent e)
    {
        if (e.ResourceType != "User" || e.ResourceId != op.UserId)
        {
            return false;
        }

        var data = JsonNode.Parse(e.Data)!.AsObject();
        return op.Kind switch
        {
            OpKind.Create => e.Type == ScimEventTypes.UserCreated && Text(data, "userName") == op.UserName && Text(data, "displayName") == op.Value && IsActive(data),
            OpKind.Rename => e.Type == ScimEventTypes.UserUpdated && e.Changed is ["displayName"] && Text(data, "displayName") == op.Value,
            OpKind.Deactivate => e.Type == ScimEventTypes.UserDeactivated && !IsActive(data),
            OpKind.Reactivate => e.Type == ScimEventTypes.UserReactivated && IsActive(data),
            _ => e.Type == ScimEventTypes.UserDeleted && Text(data, "id") == op.UserId,
        };
    }

    private static string State(JsonObject user) => $"{Text(user, "userName")} / {Text(user, "displayName")} / active {IsActive(user)}";

    private static string? Text(JsonObject o, string name) => o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static bool IsActive(JsonObject user) => user["active"] is not JsonValue v || !v.TryGetValue<bool>(out var active) || active;

    private static string Describe(ScimEvent e) => $"#{e.Sequence} {e.Type} {e.ResourceId} '{Text(JsonNode.Parse(e.Data)!.AsObject(), "displayName")}'";

    private static string Patch(string op, string path, string value) =>
        $$"""{"schemas":["{{EntraPayloads.PatchOpSchema}}"],"Operations":[{"op":"{{op}}","path":"{{path}}","value":"{{value}}"}]}""";

    private static IEventLogGrain Log(IGrainFactory grains, string tenantId) => grains.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId));

    private static IWebhookGrain Webhook(IGrainFactory grains, string tenantId) => grains.GetGrain<IWebhookGrain>(GrainKeys.Webhook(tenantId));

    private static async Task<ScimEvent[]> FeedAsync(IGrainFactory grains, string tenantId)
    {
        var events = new List<ScimEvent>();
        long? cursor = null;
        while (true)
        {
            var page = await Log(grains, tenantId).ReadAsync(cursor, 1000);
            events.AddRange(page.Events);
            cursor = page.Cursor;
            if (!page.HasMore)
            {
                return [.. events];
            }
        }
    }

    private enum OpKind
    {
        Create,
        Rename,
        Deactivate,
        Reactivate,
        Delete,
    }

    private sealed record Op(string TenantId, string UserId, string UserName, OpKind Kind, string? Value, Ack Ack, int? Status, int Attempts);
}
