using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Grains.Events;
using Cluster.Grains.State;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests.Events;

/// <summary>
/// Issue 12 at the grain level (two-silo cluster): one event per effective change, in order, exactly once — no event for a
/// change that changes nothing, for a retried request, or for a write that never reached storage; commits prepared and
/// never confirmed are resolved by asking their resource (invariant 11).
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed class EventFeedTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task AUsersLifeIsOneEventPerEffectiveChange()
    {
        var tenantId = GrainKeys.NewTenantId();
        var id = GrainKeys.NewResourceId();
        var user = Grains.User(tenantId, id);
        var resource = Users.Resource("life@contoso.com", externalId: "ext-1", displayName: "Life");
        Assert.Equal(201, (await user.CreateAsync(resource)).Status);
        Assert.Equal(201, (await user.CreateAsync(resource)).Status); // a retried create: the same answer, no second event

        await Patch(user, """{"op":"replace","path":"displayName","value":"Life Two"}""");
        await Patch(user, """{"op":"replace","path":"displayName","value":"Life Two"}"""); // Entra re-sends: nothing changes
        await Patch(user, """{"op":"Replace","path":"active","value":"False"}""");
        await Patch(user, """{"op":"Replace","path":"active","value":"True"}""", """{"op":"Replace","path":"title","value":"Boss"}""", """{"op":"Replace","path":"name.givenName","value":"Li"}""");
        await Patch(user, """{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:acme:2.0:User:site","value":"HQ"}""", """{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:acme:2.0:User:pin","value":"1234"}""");
        await Patch(user, """{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:acme:2.0:User:pin","value":"9876"}"""); // writeOnly alone: no visible change
        Assert.Equal(200, (await user.ReplaceAsync((await user.GetAsync()).Resource!)).Status); // PUT of what is stored: nothing
        Assert.Equal(204, (await user.DeleteAsync()).Status);

        var events = await FeedAsync(tenantId);
        Assert.Equal(
            [ScimEventTypes.UserCreated, ScimEventTypes.UserUpdated, ScimEventTypes.UserDeactivated, ScimEventTypes.UserReactivated, ScimEventTypes.UserUpdated, ScimEventTypes.UserUpdated, ScimEventTypes.UserDeleted],
            events.Select(e => e.Type));
        Assert.All(events, e => Assert.Equal((id, "User"), (e.ResourceId, e.ResourceType)));
        Assert.Equal(events.Select(e => e.Sequence).Order(), events.Select(e => e.Sequence));
        Assert.Equal(events.Length, events.Select(e => e.Sequence).Distinct().Count());
        Assert.Equal(events.Length, events.Select(e => e.Id).Distinct().Count());

        Assert.Equal(["displayName"], events[1].Changed!);
        Assert.Null(events[2].Changed);
        Assert.Equal(["name.givenName", "title"], events[4].Changed!);
        Assert.Equal(["urn:ietf:params:scim:schemas:extension:acme:2.0:User:site"], events[5].Changed!);
        Assert.Equal("Life Two", JsonNode.Parse(events[1].Data)!["displayName"]!.GetValue<string>());
        Assert.False(JsonNode.Parse(events[2].Data)!["active"]!.GetValue<bool>());

        // The deleted event carries the last state; no event ever carries a writeOnly value.
        Assert.Equal("Boss", JsonNode.Parse(events[^1].Data)!["title"]!.GetValue<string>());
        Assert.All(events, e => Assert.DoesNotContain("1234", e.Data, StringComparison.Ordinal));
        Assert.All(events, e => Assert.DoesNotContain("9876", e.Data, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AReadThatMeetsPagesErasedSinceTheHeadWasWrittenDoesNotSkipThem()
    {
        // Retention erases a pass's pages, then records the feed's new start: a read between the two (or after a crash
        // between them) found the erased pages empty and answered the events after them, so a consumer's cursor jumped
        // past events it never got, without the 410 that tells it to resynchronise.
        var tenantId = GrainKeys.NewTenantId();
        for (var i = 0; i < 60; i++)
        {
            await Grains.CreateUserAsync(tenantId, $"erased{i}@contoso.com");
        }

        var events = await WaitForFeedAsync(tenantId, 60);
        await Grains.GetGrain<IEventPageGrain>(GrainKeys.EventPage(tenantId, 0)).ClearAsync(); // a pass cut short after its first erase

        var first = events[0].Sequence;
        Assert.True((await Log(tenantId).ReadAsync(first + 2, 100)).Expired);
        var fromTheStart = await Log(tenantId).ReadAsync(null, 100);
        Assert.False(fromTheStart.Expired);
        Assert.Equal(first + EventLogGrain.PageSize, fromTheStart.Events[0].Sequence);
        var later = await Log(tenantId).ReadAsync(first + EventLogGrain.PageSize + 3, 100);
        Assert.Equal(first + EventLogGrain.PageSize + 4, later.Events[0].Sequence);
    }

    [Fact]
    public async Task ActiveSentWhereItWasMissingIsNoStatusChange()
    {
        // A user without "active" is active: setting it to true, or removing it again, reactivates no one (it told
        // user.reactivated, and the tenant's count of disabled users went down for each).
        var tenantId = GrainKeys.NewTenantId();
        var user = Grains.User(tenantId, GrainKeys.NewResourceId());
        Assert.Equal(201, (await user.CreateAsync(Users.Resource("status@contoso.com"))).Status);
        await Patch(user, """{"op":"Replace","path":"active","value":"True"}""");
        await Patch(user, """{"op":"remove","path":"active"}""");
        await Patch(user, """{"op":"Replace","path":"active","value":"False"}""");

        var events = await WaitForFeedAsync(tenantId, 2);
        Assert.Equal([ScimEventTypes.UserCreated, ScimEventTypes.UserDeactivated], events.Select(e => e.Type));
        Assert.Equal(1, await Grains.GetGrain<IDisabledUserCount>(GrainKeys.EventLog(tenantId)).GetDisabledUsersAsync());
    }

    [Fact]
    public async Task MembershipChangesAreOneEventPerMemberAndADeleteEndsItsMembershipsWithItsOneEvent()
    {
        var tenantId = GrainKeys.NewTenantId();
        var ann = await Grains.CreateUserAsync(tenantId, "ann@contoso.com");
        var bob = await Grains.CreateUserAsync(tenantId, "bob@contoso.com");
        var cy = await Grains.CreateUserAsync(tenantId, "cy@contoso.com");
        var group = await Grains.CreateGroupAsync(tenantId, "Team", ann, bob);
        var parent = await Grains.CreateGroupAsync(tenantId, "Parent", group);
        var after = (await FeedAsync(tenantId)).Max(e => e.Sequence);

        Assert.Equal(200, (await Grains.Group(tenantId, group).PatchAsync(Groups.Ops(
            """{"op":"Replace","path":"displayName","value":"Team Two"}""",
            $$"""{"op":"Add","path":"members","value":[{"value":"{{cy}}"}]}""",
            $$"""{"op":"Remove","path":"members","value":[{"value":"{{ann}}"}]}"""))).Status);
        Assert.Equal(200, (await Grains.Group(tenantId, group).PatchAsync(Groups.AddMembers(cy))).Status); // already a member: nothing
        Assert.Equal(204, (await Grains.User(tenantId, bob).DeleteAsync()).Status);
        Assert.Equal([cy], await Grains.MembersAsync(tenantId, group));
        Assert.Equal(204, (await Grains.Group(tenantId, group).DeleteAsync()).Status);
        Assert.Empty(await Grains.MembersAsync(tenantId, parent));

        // A delete is one event: the deleted user's and group's memberships end with them (as a deleted group's members do),
        // so no group.member_removed names bob or the deleted group.
        var events = (await FeedAsync(tenantId)).Where(e => e.Sequence > after).ToArray();
        Assert.Equal(
        [
            (ScimEventTypes.GroupUpdated, group, null),
            (ScimEventTypes.GroupMemberAdded, group, cy),
            (ScimEventTypes.GroupMemberRemoved, group, ann),
            (ScimEventTypes.UserDeleted, bob, null),
            (ScimEventTypes.GroupDeleted, group, null),
        ],
        events.Select(e => (e.Type, e.ResourceId, MemberOf(e))));
        Assert.Equal(["displayName"], events[0].Changed!);
        Assert.Null(JsonNode.Parse(events[0].Data)!["members"]);
        Assert.Equal(ann, JsonNode.Parse(events[2].Data)!["userId"]!.GetValue<string>());
        Assert.Equal("User", JsonNode.Parse(events[2].Data)!["memberType"]!.GetValue<string>());
        Assert.Equal("Group", JsonNode.Parse((await FeedAsync(tenantId)).Single(e => e.Type == ScimEventTypes.GroupMemberAdded && e.ResourceId == parent).Data)!["memberType"]!.GetValue<string>());
    }

    [Fact]
    public async Task AGroupDeleteWritesTheEventLogTwice()
    {
        // Its prepare and its durable confirmation (docs/architecture.md, "Storage operations"). The delete step that finishes
        // a small group inside the request confirms the commit again; the log stored it itself, so it writes nothing more
        // (it wrote the row a third time from 2026-12-08 until the log remembered what it confirmed durably).
        var tenantId = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "member@contoso.com");
        var group = await Grains.CreateGroupAsync(tenantId, "Doomed", user);
        var log = GrainKeys.EventLog(tenantId);

        var before = StorageProbe.WritesOf(log);
        Assert.Equal(204, (await Grains.Group(tenantId, group).DeleteAsync()).Status);
        Assert.Equal(2, StorageProbe.WritesOf(log) - before);
    }

    [Fact]
    public async Task AGroupRemovingAUserAtTheMomentTheUserIsDeletedTellsTheRemovalOnce()
    {
        // Entra's member PATCH and the user's DELETE in one cycle: the group has read its partition (the user is a member)
        // and its write is under way when the user's delete runs. Until 2026-12-07 both told group.member_removed.
        var tenantId = GrainKeys.NewTenantId();
        var ann = await Grains.CreateUserAsync(tenantId, "ann@contoso.com");
        var group = await Grains.CreateGroupAsync(tenantId, "Racing", ann);
        var after = (await FeedAsync(tenantId)).Max(e => e.Sequence);

        var held = StorageProbe.HoldNextWrite(GrainKeys.Group(tenantId, group));
        var patch = Grains.Group(tenantId, group).PatchAsync(Groups.RemoveMembers(ann));
        await held.Started.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(204, (await Grains.User(tenantId, ann).DeleteAsync()).Status);
        held.Release();
        Assert.Equal(200, (await patch).Status);

        Assert.Empty(await Grains.MembersAsync(tenantId, group));
        var events = await WaitForFeedAsync(tenantId, 5);
        Assert.Equal(
            [(ScimEventTypes.GroupMemberRemoved, group, ann), (ScimEventTypes.UserDeleted, ann, null)],
            events.Where(e => e.Sequence > after).Select(e => (e.Type, e.ResourceId, MemberOf(e))).OrderBy(e => e.Type, StringComparer.Ordinal));
    }

    [Fact]
    public async Task ReplacingOneMemberByAnotherWhoIsAlreadyAMemberTellsOnlyTheRemoval()
    {
        // members[value eq "ann"] replaced by bob, who is a member already: ann leaves, bob stays; nothing is added.
        var tenantId = GrainKeys.NewTenantId();
        var ann = await Grains.CreateUserAsync(tenantId, "ann@contoso.com");
        var bob = await Grains.CreateUserAsync(tenantId, "bob@contoso.com");
        var group = await Grains.CreateGroupAsync(tenantId, "Pair", ann, bob);
        var after = (await FeedAsync(tenantId)).Max(e => e.Sequence);

        Assert.Equal(200, (await Grains.Group(tenantId, group).PatchAsync(Groups.Ops(
            $$$"""{"op":"replace","path":"members[value eq \"{{{ann}}}\"]","value":{"value":"{{{bob}}}"}}"""))).Status);

        Assert.Equal([bob], await Grains.MembersAsync(tenantId, group));
        var events = (await FeedAsync(tenantId)).Where(e => e.Sequence > after).ToArray();
        Assert.Equal([(ScimEventTypes.GroupMemberRemoved, group, ann)], events.Select(e => (e.Type, e.ResourceId, MemberOf(e))));
    }

    [Fact]
    public async Task AGroupCreatedWithMembersAndARetriedCreateMakeTheirEventsOnce()
    {
        var tenantId = GrainKeys.NewTenantId();
        var ann = await Grains.CreateUserAsync(tenantId, "ann@contoso.com");
        var id = GrainKeys.NewResourceId();
        var body = Groups.Resource("Created", null, ann);
        Assert.Equal(201, (await Grains.Group(tenantId, id).CreateAsync(body)).Status);
        var retried = await Grains.Group(tenantId, id).CreateAsync(body);
        Assert.Equal(201, retried.Status);
        Assert.Contains(ann, retried.Resource!, StringComparison.Ordinal);
        Assert.Equal(409, (await Grains.Group(tenantId, id).CreateAsync(Groups.Resource("Other"))).Status);

        var events = (await FeedAsync(tenantId)).Where(e => e.ResourceId == id).ToArray();
        Assert.Equal([ScimEventTypes.GroupCreated, ScimEventTypes.GroupMemberAdded], events.Select(e => e.Type));
    }

    [Fact]
    public async Task AWriteThatNeverReachesStorageLeavesNoEventAndTheFeedMovesOn()
    {
        var tenantId = GrainKeys.NewTenantId();
        var id = await Grains.CreateUserAsync(tenantId, "fails@contoso.com");
        StorageProbe.FailNextWrites(GrainKeys.User(tenantId, id));

        await Assert.ThrowsAnyAsync<Exception>(() => Grains.User(tenantId, id).PatchAsync(Users.RenamePatch("renamed@contoso.com")));

        // The prepared commit holds the feed until it is resolved: the user (a new activation, reading storage) says it never happened.
        await Patch(Grains.User(tenantId, id), """{"op":"replace","path":"displayName","value":"After"}""");
        var events = await WaitForFeedAsync(tenantId, 2);
        Assert.Equal([ScimEventTypes.UserCreated, ScimEventTypes.UserUpdated], events.Select(e => e.Type));
        Assert.Equal(["displayName"], events[1].Changed!);
        Assert.DoesNotContain(events, e => e.Data.Contains("renamed@", StringComparison.Ordinal));
        Assert.Null((await Log(tenantId).GetInfoAsync()).OldestUnresolvedAt);
    }

    [Fact]
    public async Task AMemberAddWhosePartitionWriteFailsIsAnnouncedOnceAndItsRetryAddsNothing()
    {
        // tests/chaos.sh found this: the group's write landed (its events count), the partition write did not (the process
        // died), and the client's retry added the member again: two member_added for one add.
        var tenantId = GrainKeys.NewTenantId();
        var ann = await Grains.CreateUserAsync(tenantId, "ann@contoso.com");
        var group = await Grains.CreateGroupAsync(tenantId, "Team");
        StorageProbe.FailNextWrites(GrainKeys.GroupMembers(tenantId, group, GrainKeys.GroupMemberPartitionOf(ann)));

        await Assert.ThrowsAnyAsync<Exception>(() => Grains.Group(tenantId, group).PatchAsync(Groups.AddMembers(ann)));
        Assert.Equal(200, (await Grains.Group(tenantId, group).PatchAsync(Groups.AddMembers(ann))).Status);
        Assert.Equal(200, (await Grains.Group(tenantId, group).PatchAsync(Groups.RemoveMembers(ann))).Status);

        var events = (await WaitForFeedAsync(tenantId, 4)).Where(e => e.ResourceId == group).ToArray();
        Assert.Equal(
            [(ScimEventTypes.GroupCreated, null), (ScimEventTypes.GroupMemberAdded, ann), (ScimEventTypes.GroupMemberRemoved, ann)],
            events.Select(e => (e.Type, MemberOf(e))));
    }

    [Fact]
    public async Task APreparedCommitWhoseConfirmationIsLostIsResolvedByAskingItsResource()
    {
        var (tenantId, id, created, log) = await UserWithItsCreateEventAsync("asked@contoso.com");

        // The create's confirmation is held in the log's memory until its next write: a new activation has lost it, so
        // the create is unresolved (nothing is readable) until the user, asked, names that very attempt as stored.
        await fixture.Cluster.DeactivateAsync(log);
        Assert.Empty((await log.ReadAsync(null, 100)).Events);
        var resolved = await WaitForFeedAsync(tenantId, 1);
        Assert.Equal((ScimEventTypes.UserCreated, created.From), (resolved[0].Type, resolved[0].Sequence));

        // A commit the user never wrote, and one of a user that does not exist: asked, both are discarded.
        await log.PrepareAsync(new EventSource("User", id, created.Version + 1, 0) { Committed = created }, [Event("never", id)]);
        await log.PrepareAsync(new EventSource("User", GrainKeys.NewResourceId(), 1, 0) { Committed = EventAttempt.None }, [Event("nobody", id)]);
        await Patch(Grains.User(tenantId, id), """{"op":"replace","path":"displayName","value":"Later"}""");
        var events = await WaitForFeedAsync(tenantId, 2);
        Assert.Equal([ScimEventTypes.UserCreated, ScimEventTypes.UserUpdated], events.Select(e => e.Type));
        Assert.DoesNotContain(events, e => e.Id is "never" or "nobody");
    }

    /// <summary>
    /// A resource that cannot answer (its row unreadable) does not hold back the answers of the others: the commit a user
    /// never wrote is discarded, and that stored, while the other stays unresolved. Before, one failing question failed the
    /// whole pass, every second, so nothing it had learnt was stored, and the user fenced its row again at every pass.
    /// </summary>
    [Fact]
    public async Task OneResourceThatCannotAnswerDoesNotHoldBackTheOthersAnswers()
    {
        var (tenantId, id, created, log) = await UserWithItsCreateEventAsync("answers@contoso.com");
        var stuck = GrainKeys.NewResourceId();
        StorageProbe.FailNextReadsAsOutage(GrainKeys.User(tenantId, stuck), int.MaxValue);
        try
        {
            // Asked in the order prepared: first the user that cannot answer, then the commit the other user never wrote.
            await log.PrepareAsync(new EventSource("User", stuck, 1, 0) { Committed = EventAttempt.None }, [Event("stuck", stuck)]);
            await log.PrepareAsync(new EventSource("User", id, created.Version + 1, 0) { Committed = created }, [Event("never", id)]);
            await Eventually.TrueAsync(
                () => Task.FromResult(StorageProbe.LastWrittenState(GrainKeys.EventLog(tenantId), "events") is EventLogState head
                    && head.Prepared.Any(p => p.ResourceId == stuck) && head.Prepared.All(p => p.ResourceId != id)),
                what: "the discard of the commit the user never wrote stored beside the unresolved one");
            Assert.NotNull((await log.GetInfoAsync()).OldestUnresolvedAt);
        }
        finally
        {
            StorageProbe.FailNextReadsAsOutage(GrainKeys.User(tenantId, stuck), 0);
        }

        var events = await WaitForFeedAsync(tenantId, 1);
        Assert.Equal([ScimEventTypes.UserCreated], events.Select(e => e.Type));
    }

    /// <summary>
    /// A page row being written holds up no prepare: the batch that filled the page is answered once the log's row is
    /// stored, and the next batches are stored beside the page's write; readers get the events from the log's row meanwhile.
    /// Until 2026-12-07 the batch held the log's writer through its page writes: the prepare that filled page 0 waited for
    /// its row (here, for ever).
    /// </summary>
    [Fact]
    public async Task PreparesAreAnsweredWhileThePagesTheyFilledAreStillBeingWritten()
    {
        var tenantId = GrainKeys.NewTenantId();
        var log = Log(tenantId);
        var page = GrainKeys.EventPage(tenantId, 0);
        var held = StorageProbe.HoldNextWrite(page);
        var ids = new List<string>();
        try
        {
            for (var i = 0; i < EventLogGrain.PageSize + 3; i++)
            {
                await AppendAsync(log, $"paged-{i}").WaitAsync(TimeSpan.FromSeconds(30));
                ids.Add($"paged-{i}");
            }

            await held.Started.WaitAsync(TimeSpan.FromSeconds(30)); // the page's write began, and is held still
            Assert.Equal(0, StorageProbe.WritesOf(page));
            Assert.Equal(ids, (await FeedAsync(tenantId)).Select(e => e.Id));
        }
        finally
        {
            held.Release();
        }

        await Eventually.TrueAsync(() => Task.FromResult(StorageProbe.WritesOf(page) > 0), what: "page 0 written once released");
        Assert.Equal(ids, (await FeedAsync(tenantId)).Select(e => e.Id));
    }

    /// <summary>
    /// While a page row is being written (held here), the log's row does not grow without bound: once the events of
    /// unwritten pages alone reach a batch's bytes, the next batch waits for their rows. Without that wait (the first
    /// version of writing pages beside batches), every prepare added its events to the row, and a stalled page row made the
    /// row outgrow the 960 KiB that table storage writes, failing every write of the tenant.
    /// </summary>
    [Fact]
    public async Task TheLogsRowStaysBoundedWhileAPageRowIsStalled()
    {
        var tenantId = GrainKeys.NewTenantId();
        var log = Log(tenantId);
        var held = StorageProbe.HoldNextWrite(GrainKeys.EventPage(tenantId, 0));
        var data = new string('a', 16_000);
        var done = 0;
        var prepares = Task.Run(async () =>
        {
            for (var i = 0; i < 64; i++)
            {
                await AppendAsync(log, $"big-{i}", data);
                Interlocked.Increment(ref done);
            }
        });

        try
        {
            // Held until unbounded prepares have all been stored (the row past the limit), or until bounded ones stop: no
            // prepare answered for 3 s while one waits. Progress, not a fixed time, so a slow machine cannot end the hold
            // before unbounded prepares have grown the row.
            await held.Started.WaitAsync(TimeSpan.FromSeconds(30));
            var seen = -1;
            var still = System.Diagnostics.Stopwatch.StartNew();
            while (!prepares.IsCompleted)
            {
                var now = Volatile.Read(ref done);
                if (now != seen || (await log.GetInfoAsync()).Waiting == 0)
                {
                    seen = now;
                    still.Restart();
                }
                else if (still.Elapsed > TimeSpan.FromSeconds(3))
                {
                    break;
                }

                await Task.Delay(50);
            }
        }
        finally
        {
            held.Release();
        }

        await prepares.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(64, (await WaitForFeedAsync(tenantId, 64)).Length);
        var largest = StorageProbe.LargestWriteOf(GrainKeys.EventLog(tenantId));
        Assert.True(largest < 600_000, $"the log's row reached {largest} bytes while a page row was held");
    }

    /// <summary>
    /// Page rows keep no activation once written or read: a sync's pages held their events (the resources' JSON) in
    /// memory for the collection age (15 minutes) until 2026-12-07.
    /// </summary>
    [Fact]
    public async Task PageRowsKeepNoActivationOnceWrittenOrRead()
    {
        var tenantId = GrainKeys.NewTenantId();
        var log = Log(tenantId);
        for (var i = 0; i < (2 * EventLogGrain.PageSize) + 1; i++)
        {
            await AppendAsync(log, $"kept-{i}");
        }

        IEventPageGrain[] pages = [.. Enumerable.Range(0, 2).Select(p => Grains.GetGrain<IEventPageGrain>(GrainKeys.EventPage(tenantId, p)))];
        var management = Grains.GetGrain<IManagementGrain>(0);
        async Task<bool> NoneActiveAsync()
        {
            foreach (var page in pages)
            {
                if (await management.GetActivationAddress(page) is not null)
                {
                    return false;
                }
            }

            return true;
        }

        await Eventually.TrueAsync(() => Task.FromResult(pages.All(p => StorageProbe.WritesOf(p.GetPrimaryKeyString()) > 0)), what: "both pages written");
        await Eventually.TrueAsync(NoneActiveAsync, what: "no page activation left after the writes");
        Assert.Equal(EventLogGrain.PageSize, (await pages[1].ReadAsync()).Length);
        await Eventually.TrueAsync(NoneActiveAsync, what: "no page activation left after a read");
    }

    [Fact]
    public async Task AnAbortDiscardsOnlyItsOwnAttemptNeverTheSameCommitPreparedAgain()
    {
        // Two activations of one user (its silo declared dead while still running) prepare the same commit; the second
        // attempt's write lands, the first one is aborted (driven by hand here). Its abort must not take the landed events with it.
        var (tenantId, id, created, log) = await UserWithItsCreateEventAsync("twice@contoso.com");

        var source = new EventSource("User", id, created.Version + 1, 0) { Committed = created };
        var refused = await log.PrepareAsync(source, [Event("refused", id)]);
        var landed = await log.PrepareAsync(source, [Event("landed", id)]);
        Assert.NotEqual(refused, landed);
        await log.AbortAsync(source, refused);
        await log.ConfirmAsync(source, landed, durable: true);

        // An abort of the attempt that is still prepared discards it.
        var next = new EventSource("User", id, created.Version + 2, 0) { Committed = new EventAttempt(source.Version, 0, landed) };
        await log.AbortAsync(next, await log.PrepareAsync(next, [Event("aborted", id)]));

        var events = await WaitForFeedAsync(tenantId, 2);
        Assert.Equal(["landed"], events.Skip(1).Select(e => e.Id));
    }

    [Fact]
    public async Task ALateConfirmationOfTheAttemptThatLandedConfirmsItAfterTheSameCommitWasPreparedAgain()
    {
        // Two activations of one user again: the first one's write landed but its confirmation is late; the second, on the
        // state before that write, prepared the same commit again, and storage refused its write. Both attempts stay
        // prepared until each is settled: the late confirmation names the first, the refusal's abort the second.
        var (tenantId, id, created, log) = await UserWithItsCreateEventAsync("late@contoso.com");

        var source = new EventSource("User", id, created.Version + 1, 0) { Committed = created };
        var early = await log.PrepareAsync(source, [Event("early", id)]);
        var again = await log.PrepareAsync(source, [Event("again", id)]);
        await log.ConfirmAsync(source, early, durable: false);
        await log.AbortAsync(source, again);

        var next = new EventSource("User", id, created.Version + 2, 0) { Committed = new EventAttempt(source.Version, 0, early) };
        await log.ConfirmAsync(next, await log.PrepareAsync(next, [Event("later", id)]), durable: false);
        var events = await WaitForFeedAsync(tenantId, 3);
        Assert.Equal(["early", "later"], events.Skip(1).Select(e => e.Id));
    }

    [Fact]
    public async Task APrepareNamingTheAttemptThatLandedCommitsItAndDiscardsTheOtherAttempts()
    {
        // Neither attempt of the same commit was settled (both activations died); the user's next commit names the attempt
        // its stored state holds, which settles both: that one is part of the feed, the other never appears.
        var (tenantId, id, created, log) = await UserWithItsCreateEventAsync("named@contoso.com");

        var source = new EventSource("User", id, created.Version + 1, 0) { Committed = created };
        await log.PrepareAsync(source, [Event("refused", id)]);
        var landed = await log.PrepareAsync(source, [Event("landed", id)]);

        var next = new EventSource("User", id, created.Version + 2, 0) { Committed = new EventAttempt(source.Version, 0, landed) };
        await log.ConfirmAsync(next, await log.PrepareAsync(next, [Event("next", id)]), durable: false);
        var events = await WaitForFeedAsync(tenantId, 3);
        Assert.Equal(["landed", "next"], events.Skip(1).Select(e => e.Id));
    }

    [Fact]
    public async Task ARecordThatDoesNotNameItsAttemptResolvesByVersionAsBefore()
    {
        // Rows stored before attempts were recorded: a prepare without Committed. The same commit prepared again means the
        // earlier write never landed, so the first attempt is discarded and its late confirmation confirms nothing.
        var (tenantId, id, created, log) = await UserWithItsCreateEventAsync("legacy@contoso.com");

        var source = new EventSource("User", id, created.Version + 1, 0);
        var early = await log.PrepareAsync(source, [Event("early", id)]);
        var again = await log.PrepareAsync(source, [Event("again", id)]);
        await log.ConfirmAsync(source, early, durable: false);
        await log.ConfirmAsync(source, again, durable: false);

        var next = new EventSource("User", id, created.Version + 2, 0);
        await log.ConfirmAsync(next, await log.PrepareAsync(next, [Event("later", id)]), durable: false);
        var events = await WaitForFeedAsync(tenantId, 3);
        Assert.Equal(["again", "later"], events.Skip(1).Select(e => e.Id));
    }

    [Fact]
    public async Task AChangeOfManyMembersMakesOneEventPerMemberAcrossItsSteps()
    {
        var tenantId = GrainKeys.NewTenantId();
        var users = await Task.WhenAll(Enumerable.Range(0, 620).Select(i => Grains.CreateUserAsync(tenantId, $"many{i}@contoso.com")));
        var group = await Grains.CreateGroupAsync(tenantId, "Many");
        var before = (await FeedAsync(tenantId)).Length;

        Assert.Equal(200, (await Grains.Group(tenantId, group).PatchAsync(Groups.AddMembers(users))).Status);
        var events = await WaitForFeedAsync(tenantId, before + users.Length);
        var added = events.Where(e => e.Type == ScimEventTypes.GroupMemberAdded).Select(MemberOf).ToArray();
        Assert.Equal(users.Order(StringComparer.Ordinal), added.Order(StringComparer.Ordinal));
        Assert.Equal(events.Select(e => e.Sequence).Order(), events.Select(e => e.Sequence));
    }

    [Fact]
    public async Task PreparesThatArriveDuringAWriteAreStoredTogetherInArrivalOrder()
    {
        // Group commit: the log's head write is held; nine prepares arrive meanwhile and are stored by one write after it.
        var tenantId = GrainKeys.NewTenantId();
        var log = Log(tenantId);
        var ids = Enumerable.Range(0, 10).Select(_ => GrainKeys.NewResourceId()).ToArray();
        await log.GetInfoAsync(); // activated: its only write from here is the prepares'
        var headKey = GrainKeys.EventLog(tenantId);
        var writes = StorageProbe.WritesOf(headKey);

        var held = StorageProbe.HoldNextWrite(headKey);
        var first = log.PrepareAsync(new EventSource("User", ids[0], 1, 0), [Event("e0", ids[0])]);
        await held.Started.WaitAsync(TimeSpan.FromSeconds(30));
        var rest = ids.Skip(1).Select((id, i) => log.PrepareAsync(new EventSource("User", id, 1, 0), [Event($"e{i + 1}", id)])).ToArray();
        // Orleans does not promise that a later call arrives later (a client may send through several gateways): wait until
        // the log holds the nine.
        await Eventually.TrueAsync(async () => (await log.GetInfoAsync()).Waiting == 9, what: "the nine prepares waiting for the held write");
        held.Release();

        // Numbered in the order the log took them (Orleans does not promise the order of concurrent calls): the first 1.
        var firsts = await Task.WhenAll([first, .. rest]);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), firsts.Order());
        Assert.Equal(1, firsts[0]);
        // The first write, then the nine in one (a prepare that arrived after that one had started would wait for a third).
        Assert.InRange(StorageProbe.WritesOf(headKey) - writes, 2, 3);

        // Nothing is readable before its commit is confirmed; then all ten, in the order they were numbered.
        Assert.Empty((await log.ReadAsync(null, 100)).Events);
        foreach (var id in ids)
        {
            await log.ConfirmAsync(new EventSource("User", id, 1, 0), first: null, durable: false);
        }

        var byNumber = Enumerable.Range(0, 10).OrderBy(i => firsts[i]).Select(i => $"e{i}");
        Assert.Equal(byNumber, (await log.ReadAsync(null, 100)).Events.Select(e => e.Id));
    }

    [Fact]
    public async Task ConcurrentChangesOfOneTenantAreEachToldOnceInOrderAndCounted()
    {
        var tenantId = GrainKeys.NewTenantId();
        var ids = Enumerable.Range(0, 40).Select(_ => GrainKeys.NewResourceId()).ToArray();
        var created = await Task.WhenAll(ids.Select((id, i) => Grains.User(tenantId, id).CreateNewAsync(
            i % 2 == 0 ? Users.Resource($"many{i}@contoso.com") : Disabled(Users.Resource($"many{i}@contoso.com")))));
        Assert.All(created, r => Assert.Equal(201, r.Status));
        var patched = await Task.WhenAll(ids.Select((id, i) => Grains.User(tenantId, id).PatchAsync(Groups.Ops($$"""{"op":"replace","path":"displayName","value":"D{{i}}"}"""))));
        Assert.All(patched, r => Assert.Equal(200, r.Status));

        var events = await WaitForFeedAsync(tenantId, 80);
        Assert.Equal(Enumerable.Range(1, 80).Select(i => (long)i), events.Select(e => e.Sequence));
        foreach (var id in ids)
        {
            Assert.Equal([ScimEventTypes.UserCreated, ScimEventTypes.UserUpdated], events.Where(e => e.ResourceId == id).Select(e => e.Type));
        }

        Assert.Equal(40, (await Log(tenantId).GetCountsAsync()).Users);
        Assert.Equal(20, await Grains.GetGrain<IDisabledUserCount>(GrainKeys.EventLog(tenantId)).GetDisabledUsersAsync());
    }

    [Fact]
    public async Task PagesFollowTheCursorAndEveryEventIsReadOnce()
    {
        var tenantId = GrainKeys.NewTenantId();
        var ids = new List<string>();
        for (var i = 0; i < 45; i++)
        {
            ids.Add(await Grains.CreateUserAsync(tenantId, $"paged{i}@contoso.com"));
        }

        var read = new List<ScimEvent>();
        long? cursor = null;
        for (var pages = 0; pages < 20; pages++)
        {
            var page = await Log(tenantId).ReadAsync(cursor, 7);
            read.AddRange(page.Events);
            cursor = page.Cursor;
            if (!page.HasMore)
            {
                break;
            }
        }

        Assert.Equal(ids, read.Select(e => e.ResourceId));
        Assert.Equal(Enumerable.Range(1, 45).Select(i => (long)i), read.Select(e => e.Sequence));
        Assert.Empty((await Log(tenantId).ReadAsync(cursor, 7)).Events);
    }

    private static string? MemberOf(ScimEvent e) => e.Type.StartsWith("group.member_", StringComparison.Ordinal)
        ? JsonNode.Parse(e.Data)!["memberId"]!.GetValue<string>()
        : null;

    private static ScimEvent Event(string id, string userId, string data = "{}") =>
        new(id, 0, ScimEventTypes.UserUpdated, DateTimeOffset.UtcNow, "User", userId, data, ["displayName"]);

    // One event of a new user's first commit, prepared and confirmed by hand: the tests that drive the log's pages.
    private static async Task AppendAsync(IEventLogGrain log, string eventId, string data = "{}")
    {
        var source = new EventSource("User", GrainKeys.NewResourceId(), 1, 0) { Committed = EventAttempt.None };
        await log.ConfirmAsync(source, await log.PrepareAsync(source, [Event(eventId, source.ResourceId, data)]), durable: false);
    }

    // A new tenant with one user whose create event is readable: the set-up of the tests that drive the log by hand.
    // Created: the create's attempt, as the user's state records it (its version and the sequence number of its event).
    private async Task<(string TenantId, string Id, EventAttempt Created, IEventLogGrain Log)> UserWithItsCreateEventAsync(string userName)
    {
        var tenantId = GrainKeys.NewTenantId();
        var id = await Grains.CreateUserAsync(tenantId, userName);
        var version = (await Grains.User(tenantId, id).GetAsync()).Version;
        var created = await WaitForFeedAsync(tenantId, 1);
        return (tenantId, id, new EventAttempt(version, 0, created[0].Sequence), Log(tenantId));
    }

    private static string Disabled(string user)
    {
        var resource = JsonNode.Parse(user)!.AsObject();
        resource["active"] = false;
        return resource.ToJsonString();
    }

    private IEventLogGrain Log(string tenantId) => Grains.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId));

    private async Task<ScimEvent[]> FeedAsync(string tenantId)
    {
        var events = new List<ScimEvent>();
        long? cursor = null;
        while (true)
        {
            var page = await Log(tenantId).ReadAsync(cursor, 1000);
            events.AddRange(page.Events);
            cursor = page.Cursor;
            if (!page.HasMore)
            {
                return [.. events];
            }
        }
    }

    // The feed once it holds at least `count` events and nothing is unresolved (resolution takes a few seconds).
    private async Task<ScimEvent[]> WaitForFeedAsync(string tenantId, int count)
    {
        for (var i = 0; ; i++)
        {
            var events = await FeedAsync(tenantId);
            if (events.Length >= count && (await Log(tenantId).GetInfoAsync()).OldestUnresolvedAt is null)
            {
                return events;
            }

            Assert.True(i < 300, $"the feed has {events.Length} readable events, expected {count}");
            await Task.Delay(100);
        }
    }

    private static async Task Patch(IUserGrain user, params string[] operations)
    {
        var result = await user.PatchAsync(Groups.Ops(operations));
        Assert.True(result.Status == 200, $"{result.Status} {result.Detail}");
    }
}
