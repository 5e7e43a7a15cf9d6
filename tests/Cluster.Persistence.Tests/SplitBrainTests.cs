using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Gateway.Resilience;
using Cluster.Grains.Events;
using Cluster.Grains.RequestLog;
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
        var refused = await WriteThroughBothAsync(first, second, Writers, CommitsPerWriter, async (cluster, writer, i) =>
        {
            var log = cluster.Client.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId));
            var id = $"w{writer}-{i}";
            var source = new EventSource("User", GrainKeys.NewResourceId(), 1, 0);
            attempted.Add(id);
            var from = await log.PrepareAsync(source, [new ScimEvent(id, 0, ScimEventTypes.UserUpdated, DateTimeOffset.UtcNow, "User", source.ResourceId, "{}", ["displayName"])]);
            await log.ConfirmAsync(source, from, durable: true);
            acknowledged.Add(id);
        });

        output.WriteLine($"{acknowledged.Count} acknowledged, {refused} not");
        Assert.True(refused > 0, "the two activations never met: nothing was refused");
        Assert.True(acknowledged.Count > EventLogGrain.PageSize * 4, $"only {acknowledged.Count} commits acknowledged: too few to fill pages");
        await first.StopAsync();
        await second.StopAsync();

        await using var after = await first.StartTwinAsync();
        var feed = await FeedAsync(after, tenantId);
        var ids = feed.Select(e => e.Id).ToList();
        Assert.Empty(acknowledged.Except(ids).Order(StringComparer.Ordinal));
        Assert.Empty(ids.Except(attempted));
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(feed.Select(e => e.Sequence).Order(), feed.Select(e => e.Sequence));
    }

    /// <summary>
    /// A resource's prepare taken by one activation of the log and its durable confirmation sent to the other, whose head
    /// predates the prepare (the directory moved on between the two calls): that activation does not know the commit, and
    /// used to answer "already resolved" without a write. The caller (a deleting user) then erased its row, so the
    /// resolution found nothing, answered "aborted", and an acknowledged <c>user.deleted</c> was missing from the feed. The
    /// outdated activation's answer is now a write that storage refuses, and the caller's retry confirms it.
    /// </summary>
    [Fact]
    public async Task ADurableConfirmationIsNotAnsweredByAnActivationOfTheLogThatNeverSawItsPrepare()
    {
        await using var first = await FailoverCluster.StartAsync("ScimSplitConfirm", "scim-split-confirm-", output, silos: 1);
        await using var second = await first.StartTwinAsync();
        var tenantId = GrainKeys.NewTenantId();
        var outdated = second.Client.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId));
        Assert.Equal(1, (await outdated.GetInfoAsync()).Next);

        var source = new EventSource("User", GrainKeys.NewResourceId(), 2, 0);
        var deleted = new ScimEvent("deleted", 0, ScimEventTypes.UserDeleted, DateTimeOffset.UtcNow, "User", source.ResourceId, "{}", null);
        var from = await first.Client.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId)).PrepareAsync(source, [deleted]);
        await first.StopAsync(); // its activation would resolve the prepare after 3 s (the resource has no row: "aborted")

        await Assert.ThrowsAnyAsync<Exception>(() => outdated.ConfirmAsync(source, from, durable: true));
        await outdated.ConfirmAsync(source, from, durable: true);
        await second.StopAsync();

        await using var after = await first.StartTwinAsync();
        Assert.Equal(["deleted"], (await FeedAsync(after, tenantId)).Select(e => e.Id));
    }

    /// <summary>
    /// A tenant's provisioning log appended to through both activations at once, long enough for pages to fill: every
    /// entry of an append that was answered is read back afterwards, once, and no entry of a refused append is. Before the
    /// head became the commit point, an activation on an outdated head wrote the pages it filled before storage refused
    /// its head, and so replaced page rows of stored entries with entries that were never stored.
    /// </summary>
    [Fact]
    public async Task EveryAnsweredAppendIsInTheProvisioningLogWhenTwoActivationsOfItWriteAtOnce()
    {
        const int Writers = 8;
        const int AppendsPerWriter = 20;
        const int EntriesPerAppend = 10;
        await using var first = await FailoverCluster.StartAsync("ScimSplitRequests", "scim-split-requests-", output, silos: 1);
        await using var second = await first.StartTwinAsync();
        var tenantId = GrainKeys.NewTenantId();
        var acknowledged = new ConcurrentBag<string>();
        var attempted = new ConcurrentBag<string>();
        var refused = await WriteThroughBothAsync(first, second, Writers, AppendsPerWriter, async (cluster, writer, i) =>
        {
            var log = cluster.Client.GetGrain<IRequestLogGrain>(GrainKeys.RequestLog(tenantId));
            string[] names = [.. Enumerable.Range(0, EntriesPerAppend).Select(k => $"w{writer}-{i}-{k}")];
            foreach (var name in names)
            {
                attempted.Add(name);
            }

            await log.AppendAsync([.. names.Select(n => new RequestLogEntry(0, DateTimeOffset.UtcNow, "PATCH", RequestLogOperations.Update, "User", "u", n, 200, null, null, 1, false, null))], 0);
            foreach (var name in names)
            {
                acknowledged.Add(name);
            }
        });

        output.WriteLine($"{acknowledged.Count / EntriesPerAppend} appends answered, {refused} not");
        Assert.True(refused > 0, "the two activations never met: nothing was refused");
        Assert.True(acknowledged.Count > RequestLogGrain.PageSize * 4, $"only {acknowledged.Count} entries stored: too few to fill pages");
        await first.StopAsync();
        await second.StopAsync();

        await using var after = await first.StartTwinAsync();
        var read = new List<string>();
        var requests = after.Client.GetGrain<IRequestLogGrain>(GrainKeys.RequestLog(tenantId));
        RequestLogPage page;
        long? cursor = null;
        do
        {
            page = await requests.ReadAsync(new RequestLogQuery(cursor, RequestLogQuery.MaxLimit, null, null));
            read.AddRange(page.Entries.Select(e => e.Name!));
            cursor = page.NextCursor;
        }
        while (page.HasMore);

        Assert.Empty(acknowledged.Except(read).Order(StringComparer.Ordinal));
        Assert.Empty(read.Except(attempted));
        Assert.Equal(read.Count, read.Distinct().Count());
    }

    /// <summary>
    /// The log resolves a commit through another activation of its resource while the first activation's write is still on
    /// its way (its silo declared dead meanwhile): the second cluster's log, activated while the first cluster's writes of an
    /// update and of a create are held back after their prepares, asks the second cluster's activations, which find neither
    /// write in storage. Whatever they answer, storage must then agree with the feed: a change that is stored — acknowledged
    /// or not — has its event, and an acknowledged one is stored. Before the row was fenced, both answered "aborted" from
    /// storage, the held writes then landed, and both changes were acknowledged (200, 201) and stored without an event.
    /// </summary>
    [Fact]
    public async Task AWriteStillOnItsWayWhenAnotherActivationAnswersForItNeverLandsWithoutItsEvents()
    {
        await using var first = await FailoverCluster.StartAsync("ScimSplitResolve", "scim-split-resolve-", output, silos: 1, probed: true);
        await using var second = await first.StartTwinAsync();
        var tenantId = GrainKeys.NewTenantId();
        var updated = GrainKeys.NewResourceId();
        await WriteAsync(first, 201, () => User(first, tenantId, updated).CreateAsync(FailoverCluster.UserResource($"updated.zq{first.Run}@contoso.com", "ext-updated")));

        var created = GrainKeys.NewResourceId();
        var heldUpdate = StorageProbe.HoldNextWrite(GrainKeys.User(tenantId, updated));
        var heldCreate = StorageProbe.HoldNextWrite(GrainKeys.User(tenantId, created));
        var update = User(first, tenantId, updated).PatchAsync(EntraPayloads.Patch("""{"op":"Replace","path":"displayName","value":"Updated"}"""));
        var create = User(first, tenantId, created).CreateNewAsync(FailoverCluster.UserResource($"created.zq{first.Run}@contoso.com", "ext-created"));
        await Task.WhenAll(heldUpdate.Started, heldCreate.Started); // both prepared: the log's head lists them

        var secondLog = second.Client.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId));
        await Eventually.TrueAsync(async () => (await secondLog.GetInfoAsync()).OldestUnresolvedAt is null, what: "the second cluster's log resolved both commits");
        heldUpdate.Release();
        heldCreate.Release();
        var updateAcknowledged = await AcknowledgedAsync(update, 200);
        var createAcknowledged = await AcknowledgedAsync(create, 201);
        output.WriteLine($"update acknowledged: {updateAcknowledged}, create acknowledged: {createAcknowledged}");

        await first.StopAsync();
        await second.StopAsync();
        await using var after = await first.StartTwinAsync();
        var feed = await FeedAsync(after, tenantId);
        var updateStored = JsonNode.Parse((await User(after, tenantId, updated).GetAsync()).Resource!)!["displayName"]?.GetValue<string>() == "Updated";
        var createStored = (await User(after, tenantId, created).GetAsync()).Status == 200;
        Assert.Equal(updateStored, feed.Any(e => e.Type == ScimEventTypes.UserUpdated && e.ResourceId == updated));
        Assert.Equal(createStored, feed.Any(e => e.Type == ScimEventTypes.UserCreated && e.ResourceId == created));
        Assert.True(updateStored || !updateAcknowledged, "the update was acknowledged and is not stored");
        Assert.True(createStored || !createAcknowledged, "the create was acknowledged and is not stored");

        // The fence row left by the create that never landed is no user: the gateway's retry of that create makes it.
        var retried = await after.TryAsync(CallSafety.Idempotent, () => User(after, tenantId, created).CreateAsync(FailoverCluster.UserResource($"created.zq{first.Run}@contoso.com", "ext-created")));
        Assert.Equal((Ack.Yes, (int?)201), (retried.Ack, retried.Status));
        Assert.Contains((await FeedAsync(after, tenantId)), e => e.Type == ScimEventTypes.UserCreated && e.ResourceId == created);
    }

    // Whether a direct grain call was acknowledged with this status (a refused or failed write is not).
    private async Task<bool> AcknowledgedAsync(Task<ScimResult> call, int status)
    {
        try
        {
            return (await call).Status == status;
        }
        catch (Exception e)
        {
            output.WriteLine($"not acknowledged: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
            return false;
        }
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
        IUserGrain User(FailoverCluster cluster, string id) => SplitBrainTests.User(cluster, tenantId, id);
        static string Active(bool active) =>
            $$"""{"schemas":["{{EntraPayloads.PatchOpSchema}}"],"Operations":[{"op":"Replace","path":"active","value":"{{(active ? "True" : "False")}}"}]}""";

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

    /// <summary>
    /// A group's member partitions are grains of their own, with outdated activations of their own: a member change is
    /// checked against the partition rows the group's record says are current (their stamps), and a change that finds
    /// nothing to do against the group's row. The second cluster's activations of two groups and of their partition see
    /// the members as they were; the first cluster then adds a member to one group and removes one from the other. The
    /// second cluster, asked to undo each change, must not answer from what it holds ("already not a member", "already a
    /// member") without a write. Before stamps, both answers were 200 with no write, and both changes were lost.
    /// </summary>
    [Fact]
    public async Task AMemberChangeThatAnOutdatedActivationFindsAlreadyMadeIsCheckedAgainstStorage()
    {
        await using var first = await FailoverCluster.StartAsync("ScimSplitMember", "scim-split-member-", output, silos: 1);
        await using var second = await first.StartTwinAsync();
        var tenantId = GrainKeys.NewTenantId();
        var x = GrainKeys.NewResourceId();
        var y = SamePartition(x);
        foreach (var user in new[] { x, y })
        {
            await WriteAsync(first, 201, () => User(first, tenantId, user).CreateAsync(FailoverCluster.UserResource($"{user}.zq{first.Run}@contoso.com", $"ext-{user}")));
        }

        var joining = GrainKeys.NewResourceId();
        var leaving = GrainKeys.NewResourceId();
        foreach (var group in new[] { joining, leaving })
        {
            await WriteAsync(first, 201, () => Group(first, tenantId, group).CreateAsync(GroupResource($"{group} {first.Run}", x)));
            // The second cluster's activations see members [x]. The read may replay the journal the first cluster's write left
            // in the record, which writes through the second cluster's outdated activation of x: through the retry policy too.
            var read = await second.TryAsync(CallSafety.Read, () => Group(second, tenantId, group).GetAsync());
            Assert.Equal((Ack.Yes, (int?)200), (read.Ack, read.Status));
        }

        await WriteAsync(first, 200, () => Group(first, tenantId, joining).PatchAsync(AddMember(y)));
        await WriteAsync(first, 200, () => Group(first, tenantId, leaving).PatchAsync(RemoveMember(x)));

        var removed = await second.TryAsync(CallSafety.Idempotent, () => Group(second, tenantId, joining).PatchAsync(RemoveMember(y)));
        Assert.Equal((Ack.Yes, (int?)200, true), (removed.Ack, removed.Status, removed.Attempts > 1));
        var added = await second.TryAsync(CallSafety.Idempotent, () => Group(second, tenantId, leaving).PatchAsync(AddMember(x)));
        Assert.Equal((Ack.Yes, (int?)200, true), (added.Ack, added.Status, added.Attempts > 1));

        await first.StopAsync();
        await second.StopAsync();
        await using var after = await first.StartTwinAsync();
        Assert.Equal([x], await MembersAsync(after, tenantId, joining));
        Assert.Equal([x], await MembersAsync(after, tenantId, leaving));
        var feed = await FeedAsync(after, tenantId);
        Assert.Equal([ScimEventTypes.GroupMemberAdded, ScimEventTypes.GroupMemberRemoved], MemberEvents(feed, joining, y));
        Assert.Equal([ScimEventTypes.GroupMemberAdded, ScimEventTypes.GroupMemberRemoved, ScimEventTypes.GroupMemberAdded], MemberEvents(feed, leaving, x)); // the first: the create
    }

    /// <summary>
    /// Members toggled in and out of one group through both clusters at once, each member's changes one after another: for
    /// every member, the group lists it afterwards exactly when its last acknowledged change added it, and the feed holds
    /// its changes alternating (never two adds or two removes in a row), ending as the group does. Before stamps, most
    /// members ended listed after an acknowledged remove.
    /// </summary>
    [Fact]
    public async Task EveryAcknowledgedMemberChangeHoldsWhenTwoActivationsOfTheGroupWriteAtOnce()
    {
        const int Members = 12;
        const int TogglesPerMember = 8;
        await using var first = await FailoverCluster.StartAsync("ScimSplitToggle", "scim-split-toggle-", output, silos: 1);
        await using var second = await first.StartTwinAsync();
        var tenantId = GrainKeys.NewTenantId();
        var users = Enumerable.Range(0, Members).Select(_ => GrainKeys.NewResourceId()).ToArray();
        foreach (var user in users)
        {
            await WriteAsync(first, 201, () => User(first, tenantId, user).CreateAsync(FailoverCluster.UserResource($"{user}.zq{first.Run}@contoso.com", $"ext-{user}")));
        }

        var group = GrainKeys.NewResourceId();
        await WriteAsync(first, 201, () => Group(first, tenantId, group).CreateAsync(GroupResource($"toggled {first.Run}")));
        var expected = new ConcurrentDictionary<string, bool?>();
        await Task.WhenAll(users.Select((user, u) => Task.Run(async () =>
        {
            var random = new Random(u);
            bool? listed = false;
            for (var i = 0; i < TogglesPerMember; i++)
            {
                var cluster = random.Next(2) == 0 ? first : second;
                var add = listed != true;
                var outcome = await cluster.TryAsync(CallSafety.Idempotent, () => Group(cluster, tenantId, group).PatchAsync(add ? AddMember(user) : RemoveMember(user)));
                listed = (outcome.Ack, outcome.Status) == (Ack.Yes, 200) ? add : null; // an unknown outcome leaves it unknown
            }

            expected[user] = listed;
        })));

        output.WriteLine($"calls answered after a retry: {first.Retried} through the first cluster, {second.Retried} through the second");
        Assert.True(first.Retried + second.Retried > 0, "the two clusters' activations never met: nothing was retried");
        await first.StopAsync();
        await second.StopAsync();
        await using var after = await first.StartTwinAsync();
        var members = (await MembersAsync(after, tenantId, group)).ToHashSet();
        var feed = await FeedAsync(after, tenantId);
        var violations = new List<string>();
        foreach (var user in users)
        {
            var events = MemberEvents(feed, group, user);
            if (expected[user] is { } listed && listed != members.Contains(user))
            {
                violations.Add($"{user}: last acknowledged change {(listed ? "added" : "removed")} it, the group {(listed ? "does not list" : "lists")} it");
            }

            if (events.Zip(events.Skip(1)).Any(pair => pair.First == pair.Second) || (events.Count > 0 && events[0] != ScimEventTypes.GroupMemberAdded))
            {
                violations.Add($"{user}: the feed's changes do not alternate: {string.Join(", ", events)}");
            }

            if ((events.Count > 0 && events[^1] == ScimEventTypes.GroupMemberAdded) != members.Contains(user))
            {
                violations.Add($"{user}: the feed ends with {(events.Count > 0 ? events[^1] : "nothing")} but the group {(members.Contains(user) ? "lists" : "does not list")} it");
            }
        }

        Assert.Empty(violations);
    }

    /// <summary>
    /// Runs <paramref name="writers"/> writers, each calling <paramref name="write"/> (cluster, writer, call) <paramref name="calls"/>
    /// times through either cluster at random (seeded by the writer), one call after another. Returns how many calls were not
    /// answered: refused by storage (the other activation wrote since this one read), or sent to an activation being
    /// replaced after such a refusal.
    /// </summary>
    private static async Task<int> WriteThroughBothAsync(FailoverCluster first, FailoverCluster second, int writers, int calls, Func<FailoverCluster, int, int, Task> write)
    {
        var refused = 0;
        await Task.WhenAll(Enumerable.Range(0, writers).Select(async writer =>
        {
            var random = new Random(writer);
            for (var i = 0; i < calls; i++)
            {
                try
                {
                    await write(random.Next(2) == 0 ? first : second, writer, i);
                }
                catch (Exception e) when (GrainCallRetry.IsTransient(e) || e.InnerException is InconsistentStateException)
                {
                    Interlocked.Increment(ref refused);
                }
            }
        }));

        return refused;
    }

    private static IUserGrain User(FailoverCluster cluster, string tenantId, string id) =>
        cluster.Client.GetGrain<IUserGrain>(GrainKeys.User(tenantId, id));

    private static IGroupGrain Group(FailoverCluster cluster, string tenantId, string id) =>
        cluster.Client.GetGrain<IGroupGrain>(GrainKeys.Group(tenantId, id));

    private static string GroupResource(string displayName, params string[] members) =>
        new JsonObject
        {
            ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:Group"),
            ["displayName"] = displayName,
            ["members"] = new JsonArray([.. members.Select(m => new JsonObject { ["value"] = m })]),
        }.ToJsonString();

    private static string AddMember(string id) => EntraPayloads.Patch($$"""{"op":"Add","path":"members","value":[{"value":"{{id}}"}]}""");

    private static string RemoveMember(string id) => EntraPayloads.Patch($$"""{"op":"Remove","path":"members[value eq \"{{id}}\"]"}""");

    // A new id whose member partition is that of the given one.
    private static string SamePartition(string id)
    {
        while (true)
        {
            var other = GrainKeys.NewResourceId();
            if (GrainKeys.GroupMemberPartitionOf(other) == GrainKeys.GroupMemberPartitionOf(id))
            {
                return other;
            }
        }
    }

    // A write through the gateway's retry policy, as in production: a cluster's activation is outdated whenever the other
    // cluster has written since, and storage refuses it once.
    private static async Task WriteAsync(FailoverCluster cluster, int status, Func<Task<ScimResult>> write)
    {
        var outcome = await cluster.TryAsync(CallSafety.Idempotent, write);
        Assert.Equal((Ack.Yes, (int?)status), (outcome.Ack, outcome.Status));
    }

    private static async Task<string[]> MembersAsync(FailoverCluster cluster, string tenantId, string groupId)
    {
        var group = await Group(cluster, tenantId, groupId).GetAsync();
        Assert.Equal(200, group.Status);
        return [.. (JsonNode.Parse(group.Resource!)!["members"]?.AsArray() ?? []).Select(m => m!["value"]!.GetValue<string>()).Order(StringComparer.Ordinal)];
    }

    // The group's member events of one member, in feed order.
    private static List<string> MemberEvents(List<ScimEvent> feed, string groupId, string userId) =>
        [.. feed.Where(e => e.Type is ScimEventTypes.GroupMemberAdded or ScimEventTypes.GroupMemberRemoved
                && JsonNode.Parse(e.Data) is { } data && data["groupId"]?.GetValue<string>() == groupId && data["userId"]?.GetValue<string>() == userId)
            .Select(e => e.Type)];

    // The tenant's whole feed, once every prepared commit is resolved.
    private static async Task<List<ScimEvent>> FeedAsync(FailoverCluster cluster, string tenantId)
    {
        var log = cluster.Client.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId));
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

        return feed;
    }
}
