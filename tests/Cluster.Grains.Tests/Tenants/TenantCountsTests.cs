using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests.Tenants;

/// <summary>
/// Issue 13, counts in O(1): the tenant's event log counts users and groups as their commits are confirmed or resolved as
/// committed, once each; a retried create, a write that never reached storage (discarded) and a change that is not a create
/// or delete never count.
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed class TenantCountsTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task CountsAreExactUnderCreatesDeletesRetriesAndUpdates()
    {
        var tenantId = GrainKeys.NewTenantId();
        var users = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Grains.CreateUserAsync(tenantId, $"count{i}@contoso.com")));
        var groups = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Grains.CreateGroupAsync(tenantId, $"Counted {i}", users[i])));
        Assert.Equal(new ResourceCounts(12, 4), await CountsAsync(tenantId));

        // A retried create (same id, same content) answers 201 again and counts nothing; updates and membership count nothing.
        Assert.Equal(201, (await Grains.User(tenantId, users[0]).CreateAsync(Users.Resource("count0@contoso.com"))).Status);
        Assert.Equal(200, (await Grains.User(tenantId, users[1]).PatchAsync(Users.RenamePatch("renamed1@contoso.com"))).Status);
        Assert.Equal(200, (await Grains.Group(tenantId, groups[0]).PatchAsync(Groups.AddMembers(users[5], users[6]))).Status);
        Assert.Equal(new ResourceCounts(12, 4), await CountsAsync(tenantId));

        // Deletes, concurrently; a delete of a member removes it from its group (events, no count), a second delete is a 404.
        await Task.WhenAll(users.Take(5).Select(id => Grains.User(tenantId, id).DeleteAsync()));
        Assert.Equal(404, (await Grains.User(tenantId, users[0]).DeleteAsync()).Status);
        Assert.Equal(204, (await Grains.Group(tenantId, groups[3]).DeleteAsync()).Status);
        Assert.Equal(new ResourceCounts(7, 3), await CountsAsync(tenantId));

        // The counts are stored with the log's head: a new activation of the log reads them back.
        await fixture.Cluster.DeactivateAsync(Grains.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId)));
        Assert.Equal(new ResourceCounts(7, 3), await CountsAsync(tenantId));
    }

    [Fact]
    public async Task ACommitThatNeverReachedStorageNeverCountsAndItsRetryCountsOnce()
    {
        var tenantId = GrainKeys.NewTenantId();
        await Grains.CreateUserAsync(tenantId, "first@contoso.com");

        // Two creates whose write fails after their events were prepared: one is retried (its prepare again discards the first
        // attempt), the other is not (the log asks the user, which has no record: discarded).
        var (retried, abandoned) = (GrainKeys.NewResourceId(), GrainKeys.NewResourceId());
        foreach (var id in new[] { retried, abandoned })
        {
            StorageProbe.FailNextWrites(GrainKeys.User(tenantId, id));
            await Assert.ThrowsAnyAsync<Exception>(() => Grains.User(tenantId, id).CreateAsync(Users.Resource($"{id}@contoso.com")));
        }

        Assert.Equal(new ResourceCounts(1, 0), await CountsAsync(tenantId));
        Assert.Equal(201, (await Grains.User(tenantId, retried).CreateAsync(Users.Resource($"{retried}@contoso.com"))).Status);
        Assert.Equal(new ResourceCounts(2, 0), await CountsAsync(tenantId));

        // Once the log has resolved the abandoned commit (it asks after a few seconds), nothing is pending and the count holds.
        var log = Grains.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId));
        await Eventually.TrueAsync(async () => (await log.GetInfoAsync()).OldestUnresolvedAt is null, what: "the abandoned commit resolved");
        Assert.Equal(new ResourceCounts(2, 0), await CountsAsync(tenantId));
        Assert.Equal(404, (await Grains.User(tenantId, abandoned).GetAsync()).Status);

        // A delete whose tombstone write fails counts nothing; the retried delete counts once.
        StorageProbe.FailNextWrites(GrainKeys.User(tenantId, retried));
        await Assert.ThrowsAnyAsync<Exception>(() => Grains.User(tenantId, retried).DeleteAsync());
        Assert.Equal(new ResourceCounts(2, 0), await CountsAsync(tenantId));
        Assert.Equal(204, (await Grains.User(tenantId, retried).DeleteAsync()).Status);
        Assert.Equal(new ResourceCounts(1, 0), await CountsAsync(tenantId));
    }

    [Fact]
    public async Task TheTenantSummaryShowsTheCounts()
    {
        var tenantId = GrainKeys.NewTenantId();
        var tenant = Grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenantId));
        await tenant.CreateAsync("Counted");
        var user = await Grains.CreateUserAsync(tenantId, "summary@contoso.com");
        await Grains.CreateGroupAsync(tenantId, "Summary", user);

        var summary = (await tenant.GetSummaryAsync())!;
        Assert.Equal((1L, 1L), (summary.UserCount, summary.GroupCount));
        Assert.Equal("Counted", summary.Name);
        Assert.Null(summary.Deletion);
        Assert.Null(summary.LastRequestAt);

        // Told of requests (as gateways do, at most once a minute each), it shows the latest.
        var at = DateTimeOffset.UtcNow;
        await tenant.NoteRequestAsync(at.AddSeconds(-30));
        await tenant.NoteRequestAsync(at);
        await tenant.NoteRequestAsync(at.AddSeconds(-10)); // a gateway's late message never moves it back
        await Eventually.TrueAsync(async () => (await tenant.GetSummaryAsync())!.LastRequestAt == at, what: "lastRequestAt");
    }

    private Task<ResourceCounts> CountsAsync(string tenantId) => Grains.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId)).GetCountsAsync();
}
