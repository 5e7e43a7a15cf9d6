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

    // The delete's tombstone write is held; meanwhile the log's next write (the durable confirmation) is set to fail; the
    // delete fails after its tombstone reached storage, and is retried as the gateway retries a failed DELETE.
    private async Task DeleteWithFailedConfirmationAsync(string tenantId, string resourceKey, Func<Task<ScimResult>> delete)
    {
        var held = StorageProbe.HoldNextWrite(resourceKey);
        var first = delete();
        await held.Started.WaitAsync(TimeSpan.FromSeconds(30));
        StorageProbe.FailNextWrites(GrainKeys.EventLog(tenantId));
        held.Release();
        await Assert.ThrowsAnyAsync<Exception>(() => first);

        var retried = await delete();
        Assert.True(retried.Status is 204 or 404, $"the retried delete answered {retried.Status}");

        // Until every prepared commit is resolved (a few seconds: the log asks the resource).
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
