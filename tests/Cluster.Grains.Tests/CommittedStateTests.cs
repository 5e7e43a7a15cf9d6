using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests;

/// <summary>
/// Readers see only committed state (issue 11): a call that interleaves with a storage write in flight — the
/// <c>[AlwaysInterleave]</c> member checks a group's partition asks, the membership a user reports — answers from what
/// storage has acknowledged, never from a value that may still be rolled back.
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed class CommittedStateTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AUsersGroupRecordIsNotVisibleUntilStored(bool writeFails)
    {
        var tenantId = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "held@contoso.com");
        var groupId = GrainKeys.NewResourceId();
        var grain = Grains.User(tenantId, user);

        var held = StorageProbe.HoldNextWrite(GrainKeys.User(tenantId, user));
        var join = grain.JoinGroupAsync(groupId);
        await held.Started.WaitAsync(TimeSpan.FromSeconds(30));

        // The write is in flight: an interleaving reader sees the stored state, without the group.
        Assert.False(await grain.IsJoinedAsync(groupId));
        Assert.Empty(await grain.GetGroupIdsAsync());

        if (writeFails)
        {
            held.Fail();
            await Assert.ThrowsAnyAsync<Exception>(() => join);
            Assert.False(await grain.IsJoinedAsync(groupId));
            Assert.Empty(await grain.GetGroupIdsAsync());
        }
        else
        {
            held.Release();
            Assert.True(await join);
            Assert.True(await grain.IsJoinedAsync(groupId));
            Assert.Equal([groupId], await grain.GetGroupIdsAsync());
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AGroupsMembershipJournalIsNotVisibleUntilStored(bool writeFails)
    {
        var tenantId = GrainKeys.NewTenantId();
        var (first, second) = await TwoUsersInDifferentPartitionsAsync(tenantId);
        var group = await Grains.CreateGroupAsync(tenantId, "Held Journal");
        var grain = Grains.Group(tenantId, group);

        // Two partitions: the change is committed by one write of the group carrying it as a journal. Hold that write.
        var held = StorageProbe.HoldNextWrite(GrainKeys.Group(tenantId, group));
        var patch = grain.PatchAsync(Groups.AddMembers(first, second));
        await held.Started.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Null(await grain.DescribeMemberAsync(first));
        Assert.Null(await grain.DescribeMemberAsync(second));

        if (writeFails)
        {
            held.Fail();
            await Assert.ThrowsAnyAsync<Exception>(() => patch);
            Assert.Null(await grain.DescribeMemberAsync(first));
            Assert.Empty(await Grains.MembersAsync(tenantId, group));
        }
        else
        {
            held.Release();
            Assert.Equal(200, (await patch).Status);
            Assert.Equal("Held Journal", await grain.DescribeMemberAsync(first));
            Assert.Equal([first, second], (await Grains.MembersAsync(tenantId, group)).Order(StringComparer.Ordinal).ToArray());
        }

        await Grains.AssertMembershipAgreesAsync(tenantId, [group], [first, second]);
        if (writeFails)
        {
            // The members recorded the group before the failed commit; their reads above asked it to repair that.
            await Grains.AssertRecordedGroupsSettleAsync(tenantId, first);
            await Grains.AssertRecordedGroupsSettleAsync(tenantId, second);
        }
    }

    private async Task<(string, string)> TwoUsersInDifferentPartitionsAsync(string tenantId)
    {
        var first = await Grains.CreateUserAsync(tenantId, "first@contoso.com");
        for (var i = 0; ; i++)
        {
            var second = await Grains.CreateUserAsync(tenantId, $"second{i}@contoso.com");
            if (GrainKeys.GroupMemberPartitionOf(second) != GrainKeys.GroupMemberPartitionOf(first))
            {
                return string.CompareOrdinal(first, second) < 0 ? (first, second) : (second, first);
            }
        }
    }
}
