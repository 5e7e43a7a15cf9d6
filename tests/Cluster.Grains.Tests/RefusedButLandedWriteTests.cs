using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests;

/// <summary>
/// A write storage reports as refused may have landed: the storage client retries a write whose answer was lost (an I/O
/// error, a timeout), and the retry meets the write itself (Azure Table: 409 for an insert, 412 for an update). Until
/// 2026-12-07 a refusal counted as "did not land": the user's index claims and directory entry were given back and its
/// events discarded, so the gateway's retry answered 201 for a user that no filter found, whose name a second create could
/// take, and whose user.created never reached the feed (invariants 4, 5, 6 and 11).
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed class RefusedButLandedWriteTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task ACreateReportedRefusedAfterItLandedKeepsItsIndexEntriesDirectoryEntryAndEvent()
    {
        var tenantId = GrainKeys.NewTenantId();
        var id = GrainKeys.NewResourceId();
        var body = Users.Resource("landed@contoso.com", externalId: "ext-landed");
        StorageProbe.RefuseAfterLanding(GrainKeys.User(tenantId, id));

        await Assert.ThrowsAnyAsync<Exception>(() => Grains.User(tenantId, id).CreateNewAsync(body));
        Assert.Equal(201, (await Grains.User(tenantId, id).CreateAsync(body)).Status); // the gateway's retry

        await Invariants.AssertConsistentAsync(Grains, tenantId, [id]);
        Assert.Equal([id], await Grains.IndexEntry(tenantId, IndexNames.UserName, "landed@contoso.com").LookupAsync());
        Assert.Equal([id], await Grains.IndexEntry(tenantId, IndexNames.UserExternalId, "ext-landed").LookupAsync());
        Assert.Equal(409, (await Grains.User(tenantId, GrainKeys.NewResourceId()).CreateNewAsync(Users.Resource("LANDED@contoso.com"))).Status);
        Assert.Equal([ScimEventTypes.UserCreated], await FeedTypesAsync(tenantId, 1));
    }

    [Fact]
    public async Task ARenameReportedRefusedAfterItLandedKeepsTheNewNameAndFreesTheOld()
    {
        var tenantId = GrainKeys.NewTenantId();
        var id = await Grains.CreateUserAsync(tenantId, "before@contoso.com");
        StorageProbe.RefuseAfterLanding(GrainKeys.User(tenantId, id));

        await Assert.ThrowsAnyAsync<Exception>(() => Grains.User(tenantId, id).PatchAsync(Users.RenamePatch("after@contoso.com")));
        Assert.Equal(200, (await Grains.User(tenantId, id).PatchAsync(Users.RenamePatch("after@contoso.com"))).Status); // the retry

        Assert.Contains(id, await Grains.IndexEntry(tenantId, IndexNames.UserName, "after@contoso.com").LookupAsync());
        Assert.Equal(409, (await Grains.User(tenantId, GrainKeys.NewResourceId()).CreateNewAsync(Users.Resource("after@contoso.com"))).Status);
        Assert.Equal(201, (await Grains.User(tenantId, GrainKeys.NewResourceId()).CreateNewAsync(Users.Resource("before@contoso.com"))).Status);
        Assert.Equal([ScimEventTypes.UserCreated, ScimEventTypes.UserUpdated, ScimEventTypes.UserCreated], await FeedTypesAsync(tenantId, 3));
    }

    // The feed's event types once it holds `count` events and nothing is unresolved (resolution asks the user: seconds).
    private async Task<string[]> FeedTypesAsync(string tenantId, int count)
    {
        var log = Grains.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId));
        string[] types = [];
        await Eventually.TrueAsync(
            async () =>
            {
                types = [.. (await log.ReadAsync(null, 100)).Events.Select(e => e.Type)];
                return types.Length >= count && (await log.GetInfoAsync()).OldestUnresolvedAt is null;
            },
            what: $"{count} events resolved");
        return types;
    }
}
