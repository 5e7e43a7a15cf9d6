using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests;

/// <summary>
/// A create's first attempt (<see cref="IIndexedResourceGrain.CreateNewAsync"/>) reads no empty state: the user's two
/// states are taken as absent and its write is an insert. What that must not cost: durability (a new activation reads
/// what was written) and safety (an insert under an id that is taken after all overwrites nothing).
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed class NewUserTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task AFirstAttemptCreatesWithoutReadingAndTheUserIsDurable()
    {
        var tenantId = GrainKeys.NewTenantId();
        var id = GrainKeys.NewResourceId();
        var key = GrainKeys.User(tenantId, id);

        var created = await Grains.User(tenantId, id).CreateNewAsync(Users.Resource("fresh@contoso.com", externalId: "x-1"));
        Assert.Equal(201, created.Status);
        Assert.Equal(0, StorageProbe.ReadsOf(key));
        Assert.Equal(1, StorageProbe.WritesOf(key));

        // The same activation serves reads and writes from what it wrote; a new one reads both states once.
        Assert.Equal(created.Resource, (await Grains.User(tenantId, id).GetAsync()).Resource);
        Assert.Equal(0, StorageProbe.ReadsOf(key));
        await fixture.Cluster.DeactivateAsync(Grains.User(tenantId, id));
        var reread = await Grains.User(tenantId, id).GetAsync();
        Assert.Equal(created.Resource, reread.Resource);
        Assert.Equal(1, StorageProbe.ReadsOf(key));

        // Groups recorded after such a create are stored too.
        var group = await Grains.CreateGroupAsync(tenantId, "Joined later", id);
        await fixture.Cluster.DeactivateAsync(Grains.User(tenantId, id));
        Assert.Equal([group], await Grains.GroupsOfAsync(tenantId, id));
    }

    [Fact]
    public async Task AFirstAttemptUnderATakenIdOverwritesNothing()
    {
        // Cannot happen with GrainKeys.NewResourceId; if it did, the insert fails and the stored user stays as it was.
        var tenantId = GrainKeys.NewTenantId();
        var id = GrainKeys.NewResourceId();
        Assert.Equal(201, (await Grains.User(tenantId, id).CreateAsync(Users.Resource("first@contoso.com"))).Status);
        var stored = await Grains.User(tenantId, id).GetAsync();
        await fixture.Cluster.DeactivateAsync(Grains.User(tenantId, id));

        await Assert.ThrowsAnyAsync<Exception>(() => Grains.User(tenantId, id).CreateNewAsync(Users.Resource("second@contoso.com")));

        var after = await Grains.User(tenantId, id).GetAsync();
        Assert.Equal(stored.Resource, after.Resource);
        Assert.Equal(stored.Version, after.Version);
        Assert.Equal(409, (await Grains.User(tenantId, id).CreateAsync(Users.Resource("second@contoso.com"))).Status);
        // The refused insert's claim of the name stays at its entry (a refused write may have landed: CommittedState.Failed)
        // until someone claims the name or looks it up: the id, asked, does not hold it, so the name is free.
        Assert.Equal(201, (await Grains.User(tenantId, GrainKeys.NewResourceId()).CreateNewAsync(Users.Resource("second@contoso.com"))).Status);

        // The refused insert's events are resolved against the stored user, whose last commit is the first create: they are
        // discarded, and the feed tells one create of this user (and the other user's).
        var log = Grains.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId));
        for (var i = 0; (await log.GetInfoAsync()).OldestUnresolvedAt is not null; i++)
        {
            Assert.True(i < 300, "the feed did not resolve");
            await Task.Delay(100);
        }

        var feed = await log.ReadAsync(null, 100);
        Assert.Equal([ScimEventTypes.UserCreated, ScimEventTypes.UserCreated], feed.Events.Select(e => e.Type));
        Assert.Contains("first@contoso.com", feed.Events[0].Data, StringComparison.Ordinal);
        Assert.DoesNotContain(feed.Events, e => e.ResourceId == id && e.Data.Contains("second@contoso.com", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ACallThatArrivesFirstLoadsTheStateForACreateBehindIt()
    {
        // Another call activated the grain first (a group asking whether the id exists): the create then reads, as before.
        var tenantId = GrainKeys.NewTenantId();
        var id = GrainKeys.NewResourceId();
        Assert.False(await Grains.User(tenantId, id).ExistsAsync());
        Assert.Equal(201, (await Grains.User(tenantId, id).CreateNewAsync(Users.Resource("second-call@contoso.com"))).Status);
        Assert.Equal(1, StorageProbe.ReadsOf(GrainKeys.User(tenantId, id)));
        Assert.Equal(200, (await Grains.User(tenantId, id).GetAsync()).Status);
    }
}
