using Cluster.Abstractions;
using Cluster.Grains.Groups;
using Cluster.Grains.Users;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Grains.Tests;

/// <summary>
/// Invariants 6 and 7 under crashes: each step of a membership change is interrupted from outside — by making the
/// state a crash leaves (a member's record written, its partition not), or by failing a storage write with
/// <see cref="StorageProbe"/> — and the system must show a consistent view and repair itself.
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed class GroupCrashRepairTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task MemberRecordWithoutPartitionEntryIsNotShownAndIsRepaired()
    {
        // Crashed after step 2 (the user recorded the group) before step 4 (the partition): the add never happened.
        var tenantId = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "ghost-member@contoso.com");
        var group = await Grains.CreateGroupAsync(tenantId, "Interrupted");
        Assert.True(await Grains.User(tenantId, user).JoinGroupAsync(group));

        Assert.Empty(await Grains.GroupsOfAsync(tenantId, user));
        Assert.Empty(await Grains.MembersAsync(tenantId, group));
        await Grains.AssertRecordedGroupsSettleAsync(tenantId, user);

        // A later real add still works.
        Assert.Equal(200, (await Grains.Group(tenantId, group).PatchAsync(Groups.AddMembers(user))).Status);
        await Grains.AssertMembershipAgreesAsync(tenantId, [group], [user]);
        Assert.Equal([group], await Grains.User(tenantId, user).GetGroupIdsAsync());
    }

    [Fact]
    public async Task RecordOfADeletedGroupIsNotShownAndIsRepaired()
    {
        var tenantId = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "orphan@contoso.com");
        var never = GrainKeys.NewResourceId();
        Assert.True(await Grains.User(tenantId, user).JoinGroupAsync(never));

        Assert.Empty(await Grains.GroupsOfAsync(tenantId, user));
        await Grains.AssertRecordedGroupsSettleAsync(tenantId, user);
    }

    [Fact]
    public async Task PartitionWriteFailingAfterTheGroupsWriteIsFinishedAndTheRetryChangesNothing()
    {
        // Even a one-member change is journaled in the group's write, the commit point (its events count from there):
        // a partition write failing after it is finished on the next call, never lost.
        var tenantId = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "flaky@contoso.com");
        var group = await Grains.CreateGroupAsync(tenantId, "Flaky");
        StorageProbe.FailNextWrites(GrainKeys.GroupMembers(tenantId, group, GrainKeys.GroupMemberPartitionOf(user)));

        await Assert.ThrowsAnyAsync<Exception>(() => Grains.Group(tenantId, group).PatchAsync(Groups.AddMembers(user)));

        Assert.Equal([user], await Grains.MembersAsync(tenantId, group));
        Assert.Equal([user], await Partition(tenantId, group, user).ListAsync());
        await Grains.AssertMembershipAgreesAsync(tenantId, [group], [user]);

        // Entra retries: the group already lists the user, so nothing is written.
        var version = (await Grains.Group(tenantId, group).GetAsync()).Version;
        var retried = await Grains.Group(tenantId, group).PatchAsync(Groups.AddMembers(user));
        Assert.Equal(200, retried.Status);
        Assert.Equal(version, retried.Version);
        Assert.Equal([user], await Grains.MembersAsync(tenantId, group));
    }

    [Fact]
    public async Task JournaledChangeInterruptedBetweenPartitionsIsFinishedOnTheNextCall()
    {
        // A change over two partitions is journaled in the group; the second partition's write fails.
        var tenantId = GrainKeys.NewTenantId();
        var (first, second) = await TwoUsersInDifferentPartitionsAsync(tenantId);
        var group = await Grains.CreateGroupAsync(tenantId, "Journaled");
        StorageProbe.FailNextWrites(GrainKeys.GroupMembers(tenantId, group, GrainKeys.GroupMemberPartitionOf(second)));

        await Assert.ThrowsAnyAsync<Exception>(() => Grains.Group(tenantId, group).PatchAsync(Groups.AddMembers(first, second)));

        // The change is committed: every reader sees both members, and the partitions catch up.
        Assert.Equal(new[] { first, second }.Order(StringComparer.Ordinal), await Grains.MembersAsync(tenantId, group));
        Assert.Equal([first], await Partition(tenantId, group, first).ListAsync());
        Assert.Equal([second], await Partition(tenantId, group, second).ListAsync());
        await Grains.AssertMembershipAgreesAsync(tenantId, [group], [first, second]);
    }

    [Fact]
    public async Task AnAppliedJournalIsClearedByTheNextWriteOrOnDeactivationAndItsReplayChangesNothing()
    {
        // A membership change writes the group's record once: the commit point, carrying the change as its journal. Once
        // applied, the journal is cleared by the record's next write or when the activation goes, not by a write of its own.
        var tenantId = GrainKeys.NewTenantId();
        var (first, second) = await TwoUsersInDifferentPartitionsAsync(tenantId);
        var group = await Grains.CreateGroupAsync(tenantId, "Cleared later", first);
        var key = GrainKeys.Group(tenantId, group);
        var writes = StorageProbe.WritesOf(key);

        Assert.Equal(200, (await Grains.Group(tenantId, group).PatchAsync(Groups.AddMembers(second))).Status);
        Assert.Equal(writes + 1, StorageProbe.WritesOf(key));
        Assert.Equal((second, ""), Journal(key));
        await Grains.AssertMembershipAgreesAsync(tenantId, [group], [first, second]);

        // The next change's write replaces it; deactivation clears the applied one (one write), and the next activation
        // has nothing to replay: it writes nothing, and neither do the members.
        Assert.Equal(200, (await Grains.Group(tenantId, group).PatchAsync(Groups.RemoveMembers(first))).Status);
        Assert.Equal(("", first), Journal(key));
        await fixture.Cluster.DeactivateAsync(Grains.Group(tenantId, group));
        Assert.Equal(writes + 3, StorageProbe.WritesOf(key));
        Assert.Equal(("", ""), Journal(key));
        var memberWrites = (StorageProbe.WritesOf(GrainKeys.User(tenantId, first)), StorageProbe.WritesOf(GrainKeys.User(tenantId, second)));
        Assert.Equal([second], await Grains.MembersAsync(tenantId, group));
        Assert.Equal(writes + 3, StorageProbe.WritesOf(key));
        Assert.Equal(memberWrites, (StorageProbe.WritesOf(GrainKeys.User(tenantId, first)), StorageProbe.WritesOf(GrainKeys.User(tenantId, second))));

        // The clearing is lost (as in a crash): the next activation replays the applied journal, which changes nothing that
        // is done, and a later deactivation clears it.
        Assert.Equal(200, (await Grains.Group(tenantId, group).PatchAsync(Groups.AddMembers(first))).Status);
        StorageProbe.FailNextWrites(key);
        await fixture.Cluster.DeactivateAsync(Grains.Group(tenantId, group));
        Assert.Equal((first, ""), Journal(key));
        Assert.Equal(new[] { first, second }.Order(StringComparer.Ordinal), await Grains.MembersAsync(tenantId, group));
        await Grains.AssertMembershipAgreesAsync(tenantId, [group], [first, second]);
        await fixture.Cluster.DeactivateAsync(Grains.Group(tenantId, group));
        Assert.Equal(("", ""), Journal(key));

        // Each change was told once: the replay adds no event.
        var log = Grains.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId));
        await Eventually.TrueAsync(async () => (await log.GetInfoAsync()).OldestUnresolvedAt is null, what: "the feed resolved");
        var feed = await log.ReadAsync(null, 100);
        Assert.Equal(
            [ScimEventTypes.GroupMemberAdded, ScimEventTypes.GroupMemberAdded, ScimEventTypes.GroupMemberRemoved, ScimEventTypes.GroupMemberAdded],
            feed.Events.Where(e => e.Type.StartsWith("group.member", StringComparison.Ordinal)).Select(e => e.Type));
        await Grains.AssertMembershipAgreesAsync(tenantId, [group], [first, second]);
    }

    [Fact]
    public async Task UserDeleteFailingMidwayLeavesAConsistentUserThatARetryDeletes()
    {
        var tenantId = GrainKeys.NewTenantId();
        var (user, a, b) = await UserInTwoGroupsAsync(tenantId, "halfgone@contoso.com");
        StorageProbe.FailNextWrites(GrainKeys.GroupMembers(tenantId, b, GrainKeys.GroupMemberPartitionOf(user)));
        var before = await Task.WhenAll(new[] { a, b }.Select(async g => (await Grains.Group(tenantId, g).ReadAsync([])).Version));

        await Assert.ThrowsAnyAsync<Exception>(() => Grains.User(tenantId, user).DeleteAsync());

        // The user stays, consistent both ways (no group lists a deleted user): out of a, which it had left, still in b.
        // Both groups' versions moved on (b's removal failed, but a failed write may have landed), so no ETag taken before
        // answers for a member list that changed. Nothing is left for the reminder to finish: it is gone.
        Assert.Equal(200, (await Grains.User(tenantId, user).GetAsync()).Status);
        await Grains.AssertMembershipAgreesAsync(tenantId, [a, b], [user]);
        Assert.Empty(await Grains.MembersAsync(tenantId, a));
        Assert.Equal([user], await Grains.MembersAsync(tenantId, b));
        await Eventually.TrueAsync(
            async () => (await Task.WhenAll(new[] { a, b }.Select(async g => (await Grains.Group(tenantId, g).ReadAsync([])).Version))).Zip(before).All(v => v.First > v.Second),
            what: "both groups' new versions");
        Assert.DoesNotContain(GrainKeys.User(tenantId, user), await fixture.ReminderKeysAsync());

        // The client's retry deletes it.
        Assert.Equal(204, (await Grains.User(tenantId, user).DeleteAsync()).Status);
        await AssertDeleteFinishedAsync(tenantId, user, a, b);
    }

    [Fact]
    public async Task GroupDeleteFailingMidwayMovesEveryParentsVersionOn()
    {
        // As for a user: a child group's delete whose removal from one parent fails (after the other's landed) still gives
        // both parents a new version, so no ETag taken before answers for a member list that changed. Until 2026-12-08 the
        // failure skipped every parent's new version.
        var tenantId = GrainKeys.NewTenantId();
        var child = await Grains.CreateGroupAsync(tenantId, "Child");
        var a = await Grains.CreateGroupAsync(tenantId, "Parent A", child);
        var b = await Grains.CreateGroupAsync(tenantId, "Parent B", child);
        var before = await Task.WhenAll(new[] { a, b }.Select(async g => (await Grains.Group(tenantId, g).ReadAsync([])).Version));
        StorageProbe.FailNextWrites(GrainKeys.GroupMembers(tenantId, b, GrainKeys.GroupMemberPartitionOf(child)));

        await Assert.ThrowsAnyAsync<Exception>(() => Grains.Group(tenantId, child).DeleteAsync());

        Assert.Empty(await Grains.MembersAsync(tenantId, a));
        Assert.Equal([child], await Grains.MembersAsync(tenantId, b));
        await Eventually.TrueAsync(
            async () => (await Task.WhenAll(new[] { a, b }.Select(async g => (await Grains.Group(tenantId, g).ReadAsync([])).Version))).Zip(before).All(v => v.First > v.Second),
            what: "both parents' new versions");

        // The client's retry deletes it, from both.
        Assert.Equal(204, (await Grains.Group(tenantId, child).DeleteAsync()).Status);
        Assert.Empty(await Grains.MembersAsync(tenantId, b));
    }

    [Fact]
    public async Task UserDeleteInterruptedAfterItsTombstoneIsFinishedWithoutTheClient()
    {
        // The delete fails after its tombstone (its events' durable confirmation fails, as when the log's silo dies) and the
        // client never repeats it: the reminder held from its start finishes it, on a new activation (as after a crash)
        // without any call.
        var tenantId = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "abandoned@contoso.com");
        var key = GrainKeys.User(tenantId, user);
        await Deletes.FailAfterTombstoneAsync(tenantId, key, () => Grains.User(tenantId, user).DeleteAsync());
        Assert.Equal(404, (await Grains.User(tenantId, user).GetAsync()).Status);
        Assert.NotNull(StorageProbe.LastWrittenState(key, "user"));
        Assert.Contains(key, await fixture.ReminderKeysAsync());
        await fixture.Cluster.DeactivateAsync(Grains.User(tenantId, user));

        await Eventually.TrueAsync(async () => StorageProbe.LastWrittenState(key, "user") is null, (int)UserGrain.FinishDeleteDue.TotalSeconds + 90, "the reminder finished the delete");
        await Eventually.TrueAsync(async () => !(await fixture.ReminderKeysAsync()).Contains(key), what: "the reminder removed");
        Assert.Empty(await Grains.IndexEntry(tenantId, IndexNames.UserName, "abandoned@contoso.com").LookupAsync());
        await AssertToldOnceAsync(tenantId);
    }

    [Fact]
    public async Task AFinishedUserDeleteHoldsNoReminder()
    {
        var tenantId = GrainKeys.NewTenantId();
        var (user, a, b) = await UserInTwoGroupsAsync(tenantId, "done@contoso.com");
        Assert.Equal(204, (await Grains.User(tenantId, user).DeleteAsync()).Status);
        Assert.DoesNotContain(GrainKeys.User(tenantId, user), await fixture.ReminderKeysAsync());
        await AssertDeleteFinishedAsync(tenantId, user, a, b);
    }

    private async Task<(string User, string A, string B)> UserInTwoGroupsAsync(string tenantId, string userName)
    {
        var user = await Grains.CreateUserAsync(tenantId, userName);
        return (user, await Grains.CreateGroupAsync(tenantId, "HalfA", user), await Grains.CreateGroupAsync(tenantId, "HalfB", user));
    }

    private async Task AssertDeleteFinishedAsync(string tenantId, string user, string a, string b)
    {
        Assert.Equal(404, (await Grains.User(tenantId, user).GetAsync()).Status);
        Assert.Empty(await Grains.MembersAsync(tenantId, a));
        Assert.Empty(await Grains.MembersAsync(tenantId, b));
        Assert.Empty(await Grains.User(tenantId, user).GetGroupIdsAsync());
        await Grains.AssertMembershipAgreesAsync(tenantId, [a, b], [user]);
        Assert.DoesNotContain(GrainKeys.User(tenantId, user), await fixture.ReminderKeysAsync());
        await AssertToldOnceAsync(tenantId);
    }

    // The delete is told once, as its one event (user.deleted, or group.deleted): the memberships end with the resource (no
    // member removal is told apart, nor anything of a failed attempt).
    private async Task AssertToldOnceAsync(string tenantId, string deleted = ScimEventTypes.UserDeleted)
    {
        var log = Grains.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId));
        await Eventually.TrueAsync(async () => (await log.GetInfoAsync()).OldestUnresolvedAt is null, what: "the feed resolved");
        var told = (await log.ReadAsync(null, 100)).Events
            .Where(e => e.Type == deleted || e.Type == ScimEventTypes.GroupMemberRemoved)
            .Select(e => e.Type);
        Assert.Equal([deleted], told);
    }

    [Fact]
    public async Task GroupDeleteInterruptedAfterItsTombstoneIsFinished()
    {
        var tenantId = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "tomb@contoso.com");
        var group = await Grains.CreateGroupAsync(tenantId, "Tombstoned", user);
        StorageProbe.FailNextWrites(GrainKeys.GroupMembers(tenantId, group, GrainKeys.GroupMemberPartitionOf(user)));

        await Assert.ThrowsAnyAsync<Exception>(() => Grains.Group(tenantId, group).DeleteAsync());

        // Gone for every reader at once; the next call finishes the cleanup.
        Assert.Empty(await Grains.GroupsOfAsync(tenantId, user));
        Assert.Equal(404, (await Grains.Group(tenantId, group).ReadAsync(null)).Status);
        Assert.Empty(await Partition(tenantId, group, user).ListAsync());
        Assert.Empty(await Grains.User(tenantId, user).GetGroupIdsAsync());
        Assert.Empty(await Grains.IndexEntry(tenantId, IndexNames.GroupDisplayName, "Tombstoned").LookupAsync());
    }

    [Fact]
    public async Task GroupDeleteWhoseConfirmationFailedIsFinishedWithoutTheClient()
    {
        // The delete fails after its tombstone (its events' durable confirmation fails, as when the log's silo dies), and
        // nobody calls the group again: the reminder held from before its commit finishes it on a new activation (as after
        // a crash). Until 2026-12-07 the reminder was registered only after the first step, which this failure never reached.
        var tenantId = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "left-behind@contoso.com");
        var group = await Grains.CreateGroupAsync(tenantId, "Abandoned", user);
        var key = GrainKeys.Group(tenantId, group);
        await Deletes.FailAfterTombstoneAsync(tenantId, key, () => Grains.Group(tenantId, group).DeleteAsync());
        Assert.NotNull(StorageProbe.LastWrittenState(key, "group"));
        Assert.Contains(key, await fixture.ReminderKeysAsync());
        await fixture.Cluster.DeactivateAsync(Grains.Group(tenantId, group));

        await Eventually.TrueAsync(async () => StorageProbe.LastWrittenState(key, "group") is null, (int)GroupGrain.WorkReminderDue.TotalSeconds + 90, "the reminder finished the delete");
        await Eventually.TrueAsync(async () => !(await fixture.ReminderKeysAsync()).Contains(key), what: "the reminder removed");
        Assert.Empty(await Partition(tenantId, group, user).ListAsync());
        Assert.Empty(await Grains.IndexEntry(tenantId, IndexNames.GroupDisplayName, "Abandoned").LookupAsync());
        Assert.Empty(await Grains.User(tenantId, user).GetGroupIdsAsync());
        await AssertToldOnceAsync(tenantId, ScimEventTypes.GroupDeleted);
    }

    [Fact]
    public async Task AReadThatFinishesAnInterruptedGroupDeleteGivesBackItsName()
    {
        // Any call on a group whose delete is unfinished takes a step of it; a small group's one step ends the delete. That
        // step gives back the group's name too: until 2026-12-07 only the DELETE request did, so the index entry kept
        // naming a group that no longer existed.
        var tenantId = GrainKeys.NewTenantId();
        var group = await Grains.CreateGroupAsync(tenantId, "Interrupted Name");
        var key = GrainKeys.Group(tenantId, group);
        await Deletes.FailAfterTombstoneAsync(tenantId, key, () => Grains.Group(tenantId, group).DeleteAsync());

        Assert.Equal(404, (await Grains.Group(tenantId, group).GetAsync()).Status);

        Assert.Null(StorageProbe.LastWrittenState(key, "group"));
        Assert.Empty(await Grains.IndexEntry(tenantId, IndexNames.GroupDisplayName, "Interrupted Name").LookupAsync());
        Assert.DoesNotContain(key, await fixture.ReminderKeysAsync()); // the step that finished it dropped the delete's reminder
        await AssertToldOnceAsync(tenantId, ScimEventTypes.GroupDeleted);
    }

    [Fact]
    public async Task AFinishedGroupDeleteHoldsNoReminder()
    {
        var tenantId = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "plain-member@contoso.com");
        var group = await Grains.CreateGroupAsync(tenantId, "Finished", user);

        Assert.Equal(204, (await Grains.Group(tenantId, group).DeleteAsync()).Status);

        Assert.DoesNotContain(GrainKeys.Group(tenantId, group), await fixture.ReminderKeysAsync());
        Assert.Empty(await Grains.User(tenantId, user).GetGroupIdsAsync());
    }

    [Fact]
    public async Task MemberDeletedWhileBeingAddedIsNotLeftInThePartition()
    {
        // The partition asks each added member whether it still records the group; a deleted one is not added.
        var tenantId = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "racer@contoso.com");
        var group = await Grains.CreateGroupAsync(tenantId, "Race");
        Assert.True(await Grains.User(tenantId, user).JoinGroupAsync(group));
        Assert.Equal(204, (await Grains.User(tenantId, user).DeleteAsync()).Status);

        var rejected = await Partition(tenantId, group, user).ApplyAsync([user], []);

        Assert.Equal([user], rejected);
        Assert.Empty(await Grains.MembersAsync(tenantId, group));
    }

    // The journal the group's last written record carries: the ids to add and to remove.
    private static (string Add, string Remove) Journal(string groupKey)
    {
        var stored = Assert.IsType<State.GroupState>(StorageProbe.LastWrittenState(groupKey, "group"));
        return (string.Join(',', stored.PendingAdd), string.Join(',', stored.PendingRemove));
    }

    private IGroupMembersGrain Partition(string tenantId, string groupId, string memberId) =>
        Grains.GetGrain<IGroupMembersGrain>(GrainKeys.GroupMembers(tenantId, groupId, GrainKeys.GroupMemberPartitionOf(memberId)));

    private async Task<(string First, string Second)> TwoUsersInDifferentPartitionsAsync(string tenantId)
    {
        var first = await Grains.CreateUserAsync(tenantId, "first@contoso.com");
        for (var i = 0; ; i++)
        {
            var second = await Grains.CreateUserAsync(tenantId, $"second{i}@contoso.com");
            if (GrainKeys.GroupMemberPartitionOf(second) != GrainKeys.GroupMemberPartitionOf(first))
            {
                return (first, second);
            }
        }
    }
}
