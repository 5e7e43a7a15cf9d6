using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests;

/// <summary>
/// A group create's first attempt (<see cref="IIndexedResourceGrain.CreateNewAsync"/>) reads no empty state, as a user's
/// does (<see cref="NewUserTests"/>): the group's two states (<c>group</c>, <c>parents</c>) are taken as absent and its
/// writes are inserts. What that must not cost: durability (a new activation reads what was written, members and parent
/// groups included) and safety (an insert under an id that is taken after all overwrites nothing).
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed class NewGroupTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task AFirstAttemptCreatesWithoutReadingAndTheGroupIsDurable()
    {
        var tenantId = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "member-of-new@contoso.com");
        var id = GrainKeys.NewResourceId();
        var key = GrainKeys.Group(tenantId, id);

        var created = await Grains.Group(tenantId, id).CreateNewAsync(Groups.Resource("Fresh group", "fresh-ext", user));
        Assert.Equal(201, created.Status);
        Assert.Equal(0, StorageProbe.ReadsOf(key));

        // The same activation serves what it wrote; a new one reads both states once and shows the same group.
        Assert.Equal(created.Resource, (await Grains.Group(tenantId, id).GetAsync()).Resource);
        Assert.Equal(0, StorageProbe.ReadsOf(key));
        await fixture.Cluster.DeactivateAsync(Grains.Group(tenantId, id));
        var reread = await Grains.Group(tenantId, id).GetAsync();
        Assert.Equal(created.Resource, reread.Resource);
        Assert.Equal(created.Version, reread.Version);
        Assert.Equal(1, StorageProbe.ReadsOf(key));
        Assert.Equal([id], await Grains.GroupsOfAsync(tenantId, user));

        // A parent recorded after such a create (the `parents` state, never read) is stored too.
        var parent = await Grains.CreateGroupAsync(tenantId, "Parent of fresh", id);
        await fixture.Cluster.DeactivateAsync(Grains.Group(tenantId, id));
        Assert.Equal([parent], await Grains.Group(tenantId, id).GetGroupIdsAsync());
        await Grains.AssertMembershipAgreesAsync(tenantId, [id, parent], [user]);
    }

    [Fact]
    public async Task AFirstAttemptUnderATakenIdOverwritesNothing()
    {
        // Cannot happen with GrainKeys.NewResourceId; if it did, the insert fails and the stored group stays as it was.
        var tenantId = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "first-member@contoso.com");
        var id = GrainKeys.NewResourceId();
        Assert.Equal(201, (await Grains.Group(tenantId, id).CreateAsync(Groups.Resource("First", null, user))).Status);
        var stored = await Grains.Group(tenantId, id).GetAsync();
        await fixture.Cluster.DeactivateAsync(Grains.Group(tenantId, id));

        await Assert.ThrowsAnyAsync<Exception>(() => Grains.Group(tenantId, id).CreateNewAsync(Groups.Resource("Second")));

        var after = await Grains.Group(tenantId, id).GetAsync();
        Assert.Equal(stored.Resource, after.Resource);
        Assert.Equal(stored.Version, after.Version);
        Assert.Equal(409, (await Grains.Group(tenantId, id).CreateAsync(Groups.Resource("Second"))).Status);
        await Grains.AssertMembershipAgreesAsync(tenantId, [id], [user]);

        // The refused insert's claim of the name stays at its entry (a refused write may have landed: CommittedState.Failed)
        // until someone claims the name or looks it up: the id, asked, does not hold it, so the name is free.
        var other = GrainKeys.NewResourceId();
        Assert.Equal(201, (await Grains.Group(tenantId, other).CreateNewAsync(Groups.Resource("Second"))).Status);

        // The refused insert's events are resolved against the stored group, whose last commit is the first create: they are
        // discarded, and the feed tells one create of this group.
        var log = Grains.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId));
        for (var i = 0; (await log.GetInfoAsync()).OldestUnresolvedAt is not null; i++)
        {
            Assert.True(i < 300, "the feed did not resolve");
            await Task.Delay(100);
        }

        var feed = await log.ReadAsync(null, 100);
        var created = Assert.Single(feed.Events, e => e.Type == ScimEventTypes.GroupCreated && e.ResourceId == id);
        Assert.Contains("First", created.Data, StringComparison.Ordinal);
        Assert.DoesNotContain(feed.Events, e => e.ResourceId == id && e.Data.Contains("Second", StringComparison.Ordinal));
    }

    [Fact]
    public async Task APartitionIsWrittenWithoutAReadTheFirstTimeAndReadersSkipThoseNeverWritten()
    {
        // Entra creates a group without members, then adds them by PATCH: each partition's first write is an insert of a
        // row its group knows is absent. Partitions never written are not asked by reads of every member.
        var tenantId = GrainKeys.NewTenantId();
        var id = GrainKeys.NewResourceId();
        Assert.Equal(201, (await Grains.Group(tenantId, id).CreateNewAsync(Groups.Resource("Grown by PATCH"))).Status);
        var (first, second) = await UsersInPartitionsAsync(tenantId, same: false);
        var third = await Grains.CreateUserInPartitionOfAsync(tenantId, first);

        Assert.Equal(200, (await Grains.Group(tenantId, id).PatchAsync(Groups.AddMembers(first))).Status);
        Assert.Equal(200, (await Grains.Group(tenantId, id).PatchAsync(Groups.AddMembers(second))).Status);
        Assert.Equal((0, 1), Counted(tenantId, id, first));
        Assert.Equal((0, 1), Counted(tenantId, id, second));

        // A partition written before is read as before (here by a new activation).
        await fixture.Cluster.DeactivateAsync(Grains.GetGrain<IGroupMembersGrain>(PartitionKey(tenantId, id, first)));
        Assert.Equal(200, (await Grains.Group(tenantId, id).PatchAsync(Groups.AddMembers(third))).Status);
        Assert.Equal((1, 2), Counted(tenantId, id, first));

        // Durable, and a new activation of the group reads only the two partitions that have rows.
        await fixture.Cluster.DeactivateAsync(Grains.Group(tenantId, id));
        Assert.Equal(new[] { first, second, third }.Order(StringComparer.Ordinal), await Grains.MembersAsync(tenantId, id));
        var used = new[] { first, second }.Select(GrainKeys.GroupMemberPartitionOf).ToHashSet();
        Assert.All(
            Enumerable.Range(0, GrainKeys.GroupMemberPartitions).Where(p => !used.Contains(p)),
            p => Assert.Equal(0, StorageProbe.ReadsOf(GrainKeys.GroupMembers(tenantId, id, p))));
        await Grains.AssertMembershipAgreesAsync(tenantId, [id], [first, second, third]);
    }

    [Fact]
    public async Task AFirstPartitionWriteThatFindsARowAfterAllOverwritesNothingAndTheChangeIsFinishedByReading()
    {
        // Cannot happen while only the group writes its partitions; if it did, the insert fails, nothing is overwritten, and
        // the committed change is finished by its journal's replay, which reads the row.
        var tenantId = GrainKeys.NewTenantId();
        var id = await Grains.CreateGroupAsync(tenantId, "Row behind its back");
        var (planted, added) = await UsersInPartitionsAsync(tenantId, same: true);
        var partition = Grains.GetGrain<IGroupMembersGrain>(PartitionKey(tenantId, id, planted));
        Assert.True(await Grains.User(tenantId, planted).JoinGroupAsync(id));
        Assert.Empty(await partition.ApplyMembersAsync([new MemberRef(planted, MemberKind.User)], []));
        await fixture.Cluster.DeactivateAsync(partition);

        await Assert.ThrowsAnyAsync<Exception>(() => Grains.Group(tenantId, id).PatchAsync(Groups.AddMembers(added)));

        Assert.Equal(new[] { planted, added }.Order(StringComparer.Ordinal), await Grains.MembersAsync(tenantId, id));
        Assert.Equal(new[] { planted, added }.Order(StringComparer.Ordinal), (await partition.ListAsync()).Order(StringComparer.Ordinal));
        await Grains.AssertMembershipAgreesAsync(tenantId, [id], [planted, added]);
    }

    [Fact]
    public async Task ACallThatArrivesFirstLoadsTheStateForACreateBehindIt()
    {
        // Another call activated the grain first (a group asking whether the id exists): the create then reads, as before.
        var tenantId = GrainKeys.NewTenantId();
        var id = GrainKeys.NewResourceId();
        Assert.False(await Grains.Group(tenantId, id).ExistsAsync());
        Assert.Equal(201, (await Grains.Group(tenantId, id).CreateNewAsync(Groups.Resource("Second call"))).Status);
        Assert.Equal(1, StorageProbe.ReadsOf(GrainKeys.Group(tenantId, id)));
        Assert.Equal(200, (await Grains.Group(tenantId, id).GetAsync()).Status);
    }

    /// <summary>
    /// A partition the group's change empties keeps its row, with the stamp of that change (GroupMembersGrain): its next
    /// activation reads it once, as before stamps, where a missing row would be read twice (it cannot say how recent it is).
    /// The group's delete removes it.
    /// </summary>
    [Fact]
    public async Task AnEmptiedPartitionIsReadOnceByItsNextActivationAndGoesWithItsGroup()
    {
        var tenantId = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "leaves-a-row@contoso.com");
        var id = await Grains.CreateGroupAsync(tenantId, "Emptied partition", user);
        var key = PartitionKey(tenantId, id, user);
        Assert.Equal(200, (await Grains.Group(tenantId, id).PatchAsync(Groups.RemoveMembers(user))).Status);
        Assert.NotNull(StorageProbe.LastWrittenState(key, "members"));

        await fixture.Cluster.DeactivateAsync(Grains.GetGrain<IGroupMembersGrain>(key));
        var reads = StorageProbe.ReadsOf(key);
        Assert.Empty(await Grains.MembersAsync(tenantId, id));
        Assert.Equal(reads + 1, StorageProbe.ReadsOf(key));

        Assert.Equal(204, (await Grains.Group(tenantId, id).DeleteAsync()).Status);
        Assert.Null(StorageProbe.LastWrittenState(key, "members"));
    }

    private static string PartitionKey(string tenantId, string groupId, string memberId) =>
        GrainKeys.GroupMembers(tenantId, groupId, GrainKeys.GroupMemberPartitionOf(memberId));

    // Reads and writes of the partition of the group that holds this member.
    private static (int Reads, int Writes) Counted(string tenantId, string groupId, string memberId) =>
        (StorageProbe.ReadsOf(PartitionKey(tenantId, groupId, memberId)), StorageProbe.WritesOf(PartitionKey(tenantId, groupId, memberId)));

    private async Task<(string First, string Second)> UsersInPartitionsAsync(string tenantId, bool same)
    {
        var first = await Grains.CreateUserAsync(tenantId, "partition-first@contoso.com");
        return (first, same ? await Grains.CreateUserInPartitionOfAsync(tenantId, first) : await Grains.CreateUserInPartitionOfAsync(tenantId, first, other: true));
    }
}
