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
        Assert.DoesNotContain(id, await Grains.IndexEntry(tenantId, IndexNames.GroupDisplayName, "Second").LookupAsync());
        await Grains.AssertMembershipAgreesAsync(tenantId, [id], [user]);

        // The refused insert's events were discarded, not resolved against the stored group: the feed tells one group create.
        var log = Grains.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId));
        for (var i = 0; (await log.GetInfoAsync()).OldestUnresolvedAt is not null; i++)
        {
            Assert.True(i < 300, "the feed did not resolve");
            await Task.Delay(100);
        }

        var feed = await log.ReadAsync(null, 100);
        var created = Assert.Single(feed.Events, e => e.Type == ScimEventTypes.GroupCreated);
        Assert.Contains("First", created.Data, StringComparison.Ordinal);
        Assert.DoesNotContain(feed.Events, e => e.Data.Contains("Second", StringComparison.Ordinal));
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
}
