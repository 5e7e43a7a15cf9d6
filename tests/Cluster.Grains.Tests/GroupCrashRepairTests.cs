using Cluster.Abstractions;
using Cluster.TestInfrastructure;

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
    public async Task UserDeleteFailingMidwayLeavesAConsistentUserThatARetryDeletes()
    {
        var tenantId = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "halfgone@contoso.com");
        var a = await Grains.CreateGroupAsync(tenantId, "HalfA", user);
        var b = await Grains.CreateGroupAsync(tenantId, "HalfB", user);
        StorageProbe.FailNextWrites(GrainKeys.GroupMembers(tenantId, b, GrainKeys.GroupMemberPartitionOf(user)));

        await Assert.ThrowsAnyAsync<Exception>(() => Grains.User(tenantId, user).DeleteAsync());

        Assert.Equal(200, (await Grains.User(tenantId, user).GetAsync()).Status);
        await Grains.AssertMembershipAgreesAsync(tenantId, [a, b], [user]);

        Assert.Equal(204, (await Grains.User(tenantId, user).DeleteAsync()).Status);
        Assert.Empty(await Grains.MembersAsync(tenantId, a));
        Assert.Empty(await Grains.MembersAsync(tenantId, b));
        await Grains.AssertMembershipAgreesAsync(tenantId, [a, b], [user]);
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
