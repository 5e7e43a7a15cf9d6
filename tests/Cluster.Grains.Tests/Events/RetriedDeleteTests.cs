using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests.Events;

/// <summary>
/// A delete is told once even when its confirmation to the event log fails after its tombstone was written (invariant 11).
/// Found by <c>Cluster.Persistence.Tests.EventFailoverTests</c> (seed 578516259: an acknowledged user delete appeared as two
/// <c>user.deleted</c> events, #16 and #24): the silo holding the tenant's event log died between the user's tombstone
/// write and its durable confirmation; the delete failed, the gateway's retry reached the same user activation, which still
/// held the resource in memory, and deleted it again as a new commit with new events. The log, asked later, counts both.
/// Here the log's write of the confirmation fails instead of its silo dying. A group's delete resumes from its tombstone
/// and answers the retry without a second commit; the group test guards that.
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed class RetriedDeleteTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task AUserDeleteRetriedAfterItsConfirmationFailedIsToldOnce()
    {
        var tenantId = GrainKeys.NewTenantId();
        var id = await Grains.CreateUserAsync(tenantId, "twice@contoso.com");
        await DeleteWithFailedConfirmationAsync(tenantId, GrainKeys.User(tenantId, id), () => Grains.User(tenantId, id).DeleteAsync());

        var deleted = (await FeedAsync(tenantId)).Where(e => e.Type == ScimEventTypes.UserDeleted).ToArray();
        Assert.Single(deleted);
    }

    [Fact]
    public async Task AGroupDeleteRetriedAfterItsConfirmationFailedIsToldOnce()
    {
        var tenantId = GrainKeys.NewTenantId();
        var id = await Grains.CreateGroupAsync(tenantId, "Twice");
        await DeleteWithFailedConfirmationAsync(tenantId, GrainKeys.Group(tenantId, id), () => Grains.Group(tenantId, id).DeleteAsync());

        var deleted = (await FeedAsync(tenantId)).Where(e => e.Type == ScimEventTypes.GroupDeleted).ToArray();
        Assert.Single(deleted);
    }

    [Fact]
    public async Task AUserWhoseDeleteFailedAfterItsTombstoneIsGoneForEveryoneUntilTheRetryFinishesIt()
    {
        var tenantId = GrainKeys.NewTenantId();
        var id = await Grains.CreateUserAsync(tenantId, "tombstoned@contoso.com");
        var group = await Grains.CreateGroupAsync(tenantId, "Joinable");
        await Deletes.FailAfterTombstoneAsync(tenantId, GrainKeys.User(tenantId, id), () => Grains.User(tenantId, id).DeleteAsync());

        // The tombstone is the commit point: the same activation must not serve, change or let a group add the user.
        Assert.Equal(404, (await Grains.User(tenantId, id).GetAsync()).Status);
        Assert.Equal(404, (await Grains.User(tenantId, id).PatchAsync(Users.RenamePatch("back@contoso.com"))).Status);
        Assert.Equal(400, (await Grains.Group(tenantId, group).PatchAsync(Groups.AddMembers(id))).Status);

        // Nor does it hold its userName: Entra, finding no such user, may create another one under that name.
        var successor = await Grains.CreateUserAsync(tenantId, "tombstoned@contoso.com");

        // 404 only if the delete's reminder finished it first (its tick comes 30 s after the delete began); either way the
        // tombstone is gone.
        Assert.True((await Grains.User(tenantId, id).DeleteAsync()).Status is 204 or 404);
        Assert.Null(StorageProbe.LastWrittenState(GrainKeys.User(tenantId, id), "user"));
        await ResolvedAsync(tenantId);
        Assert.Empty(await Grains.MembersAsync(tenantId, group));
        Assert.Single(await FeedAsync(tenantId), e => e.Type == ScimEventTypes.UserDeleted);

        // The retry released the deleted user's index values, not its successor's.
        Assert.Equal([successor], await Grains.IndexEntry(tenantId, IndexNames.UserName, "tombstoned@contoso.com").LookupAsync());
    }

    [Fact]
    public async Task AGroupWhoseDeleteFailedAfterItsTombstoneIsGoneForEveryoneAndItsDeleteIsToldOnce()
    {
        var tenantId = GrainKeys.NewTenantId();
        var member = await Grains.CreateUserAsync(tenantId, "member@contoso.com");
        var id = await Grains.CreateGroupAsync(tenantId, "Tombstoned", member);
        await Deletes.FailAfterTombstoneAsync(tenantId, GrainKeys.Group(tenantId, id), () => Grains.Group(tenantId, id).DeleteAsync());

        Assert.Equal(404, (await Grains.Group(tenantId, id).PatchAsync(Groups.AddMembers(member))).Status);
        Assert.Equal(404, (await Grains.Group(tenantId, id).GetAsync()).Status);

        var retried = await Grains.Group(tenantId, id).DeleteAsync();
        Assert.True(retried.Status is 204 or 404, $"the retried delete answered {retried.Status}");
        await ResolvedAsync(tenantId);
        Assert.Single(await FeedAsync(tenantId), e => e.Type == ScimEventTypes.GroupDeleted);
        Assert.Equal(404, (await Grains.Group(tenantId, id).GetAsync()).Status);
    }

    // The delete fails after its tombstone reached storage, and is retried as the gateway retries a failed DELETE.
    private async Task DeleteWithFailedConfirmationAsync(string tenantId, string resourceKey, Func<Task<ScimResult>> delete)
    {
        await Deletes.FailAfterTombstoneAsync(tenantId, resourceKey, delete);
        var retried = await delete();
        Assert.True(retried.Status is 204 or 404, $"the retried delete answered {retried.Status}");
        await ResolvedAsync(tenantId);
    }

    // Until every prepared commit is resolved (a few seconds: the log asks the resource).
    private async Task ResolvedAsync(string tenantId)
    {
        var log = Grains.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId));
        for (var i = 0; (await log.GetInfoAsync()).OldestUnresolvedAt is not null; i++)
        {
            Assert.True(i < 300, "the feed never resolved");
            await Task.Delay(100);
        }
    }

    private async Task<ScimEvent[]> FeedAsync(string tenantId)
    {
        var page = await Grains.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId)).ReadAsync(null, 1000);
        return page.Events;
    }
}
