using Cluster.Abstractions;
using Cluster.Gateway.Querying;
using Cluster.Scim.Filtering;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests;

/// <summary>
/// Invariant 6 (no orphans, no ghosts): the states a crash between two grain writes can leave are made from the
/// outside, by writing index and directory grains directly, and the system must repair them by itself.
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed class CrashRepairTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    private ResourceQueries Queries => new(Grains);

    [Fact]
    public async Task StaleClaimOfACreateThatNeverWroteIsTakenOver()
    {
        // Crashed between (1) claim and (2) write: the entry names a user that has no state.
        var tenantId = GrainKeys.NewTenantId();
        var ghost = GrainKeys.NewResourceId();
        var entry = Grains.IndexEntry(tenantId, IndexNames.UserName, "carol@contoso.com");
        Assert.Null(await entry.ClaimAsync(ghost));
        Assert.Equal([ghost], await entry.LookupAsync());

        // A lookup never shows the ghost.
        Assert.Equal(0, (await Queries.QueryAsync(ResourceKind.User, tenantId, FilterParser.Parse("userName eq \"carol@contoso.com\""), 1, 10)).Total);

        Assert.Null(await entry.ClaimAsync(ghost));
        var real = await Grains.CreateUserAsync(tenantId, "Carol@contoso.com");

        Assert.Equal([real], await entry.LookupAsync());
        var found = await Queries.QueryAsync(ResourceKind.User, tenantId, FilterParser.Parse("userName eq \"CAROL@contoso.com\""), 1, 10);
        Assert.Equal(real, Assert.Single(found.Page)["id"]!.GetValue<string>());
        Assert.Equal(1, found.Total);
        Assert.Equal(404, (await Grains.User(tenantId, ghost).GetAsync()).Status);
        await Invariants.AssertConsistentAsync(Grains, tenantId, [real, ghost]);
    }

    [Fact]
    public async Task LookupRemovesAStaleClaimNobodyTakesOver()
    {
        var tenantId = GrainKeys.NewTenantId();
        var ghost = GrainKeys.NewResourceId();
        Assert.Null(await Grains.IndexEntry(tenantId, IndexNames.UserExternalId, "ext-ghost").ClaimAsync(ghost));

        var result = await Queries.QueryAsync(ResourceKind.User, tenantId, FilterParser.Parse("externalId eq \"ext-ghost\""), 1, 10);

        Assert.Equal(0, result.Total);
        Assert.Empty(await Grains.IndexEntry(tenantId, IndexNames.UserExternalId, "ext-ghost").LookupAsync());
        await Invariants.AssertConsistentAsync(Grains, tenantId, [ghost], (IndexNames.UserExternalId, "ext-ghost"));
    }

    [Fact]
    public async Task OldValueLeftByARenameThatCrashedBeforeReleaseIsTakenOver()
    {
        // Crashed after (2) write, before (3) release: the old name's entry still names the renamed user.
        var tenantId = GrainKeys.NewTenantId();
        var renamed = await Grains.CreateUserAsync(tenantId, "dave@contoso.com");
        Assert.Equal(200, (await Grains.User(tenantId, renamed).PatchAsync(Users.RenamePatch("david@contoso.com"))).Status);
        var oldEntry = Grains.IndexEntry(tenantId, IndexNames.UserName, "dave@contoso.com");
        Assert.Null(await oldEntry.ClaimAsync(renamed));
        Assert.Equal([renamed], await oldEntry.LookupAsync());

        // A lookup of the old name does not show the renamed user.
        Assert.Equal(0, (await Queries.QueryAsync(ResourceKind.User, tenantId, FilterParser.Parse("userName eq \"dave@contoso.com\""), 1, 10)).Total);
        Assert.Null(await oldEntry.ClaimAsync(renamed));

        var newcomer = await Grains.CreateUserAsync(tenantId, "DAVE@contoso.com");

        Assert.Equal([newcomer], await oldEntry.LookupAsync());
        Assert.Equal("david@contoso.com", Users.UserNameOf(await Grains.User(tenantId, renamed).GetAsync()));
        var byNew = await Queries.QueryAsync(ResourceKind.User, tenantId, FilterParser.Parse("userName eq \"david@contoso.com\""), 1, 10);
        Assert.Equal(renamed, Assert.Single(byNew.Page)["id"]!.GetValue<string>());
        await Invariants.AssertConsistentAsync(Grains, tenantId, [renamed, newcomer]);
    }

    [Fact]
    public async Task DirectoryEntryOfAMissingUserIsRemovedByReconcile()
    {
        // A delete that crashed after clearing the user but before leaving the directory (or a create that never wrote).
        var tenantId = GrainKeys.NewTenantId();
        var real = await Grains.CreateUserAsync(tenantId, "erin@contoso.com");
        var ghost = GrainKeys.NewResourceId();
        await Grains.DirectoryOf(tenantId, ghost).AddAsync(ghost);
        Assert.True((await Grains.DirectoryIdsAsync(tenantId)).SetEquals([ghost, real]));

        await Grains.User(tenantId, ghost).ReconcileAsync(null, null);

        Assert.Equal([real], await Grains.DirectoryIdsAsync(tenantId));
        Assert.Equal(404, (await Grains.User(tenantId, ghost).GetAsync()).Status);
        await Invariants.AssertConsistentAsync(Grains, tenantId, [real, ghost]);
    }

    [Fact]
    public async Task ListingRepairsADirectoryEntryOfAMissingUser()
    {
        var tenantId = GrainKeys.NewTenantId();
        var real = await Grains.CreateUserAsync(tenantId, "frank@contoso.com");
        var ghost = GrainKeys.NewResourceId();
        await Grains.DirectoryOf(tenantId, ghost).AddAsync(ghost);

        var listed = await Queries.QueryAsync(ResourceKind.User, tenantId, null, 1, 100);

        Assert.Equal(real, Assert.Single(listed.Page)["id"]!.GetValue<string>());
        Assert.Equal([real], await Grains.DirectoryIdsAsync(tenantId));
        await Invariants.AssertConsistentAsync(Grains, tenantId, [real, ghost]);
    }

    [Fact]
    public async Task MissingIndexAndDirectoryEntriesOfAnExistingUserAreRestoredByReconcile()
    {
        var tenantId = GrainKeys.NewTenantId();
        var id = await Grains.CreateUserAsync(tenantId, "grace@contoso.com", externalId: "ext-g", workEmail: "grace@contoso.com");
        await Grains.IndexEntry(tenantId, IndexNames.UserName, "grace@contoso.com").ReleaseAsync(id);
        await Grains.IndexEntry(tenantId, IndexNames.UserExternalId, "ext-g").ReleaseAsync(id);
        await Grains.IndexEntry(tenantId, IndexNames.UserWorkEmail, "grace@contoso.com").ReleaseAsync(id);
        await Grains.DirectoryOf(tenantId, id).RemoveAsync(id);
        Assert.Empty(await Grains.IndexEntry(tenantId, IndexNames.UserName, "grace@contoso.com").LookupAsync());

        await Grains.User(tenantId, id).ReconcileAsync(null, null);

        Assert.Equal([id], await Grains.IndexEntry(tenantId, IndexNames.UserName, "grace@contoso.com").LookupAsync());
        Assert.Equal([id], await Grains.IndexEntry(tenantId, IndexNames.UserExternalId, "ext-g").LookupAsync());
        Assert.Equal([id], await Grains.IndexEntry(tenantId, IndexNames.UserWorkEmail, "grace@contoso.com").LookupAsync());
        Assert.Equal([id], await Grains.DirectoryIdsAsync(tenantId));
        var found = await Queries.QueryAsync(ResourceKind.User, tenantId, FilterParser.Parse("userName eq \"grace@contoso.com\""), 1, 10);
        Assert.Equal(id, Assert.Single(found.Page)["id"]!.GetValue<string>());
        await Invariants.AssertConsistentAsync(Grains, tenantId, [id]);
    }

    [Fact]
    public async Task ReconcileOfAStaleValueReleasesOnlyThatEntry()
    {
        var tenantId = GrainKeys.NewTenantId();
        var id = await Grains.CreateUserAsync(tenantId, "heidi@contoso.com", externalId: "ext-new");
        var staleHash = IndexNames.Hash("ext-old");
        Assert.Null(await Grains.GetGrain<IIndexEntryGrain>(GrainKeys.IndexEntry(tenantId, IndexNames.UserExternalId, staleHash)).ClaimAsync(id));

        // Reconcile for a value the user holds changes nothing; for one it does not hold, releases it.
        await Grains.User(tenantId, id).ReconcileAsync(IndexNames.UserExternalId, IndexNames.Hash("ext-new"));
        Assert.Equal([id], await Grains.IndexEntry(tenantId, IndexNames.UserExternalId, "ext-new").LookupAsync());
        Assert.Equal([id], await Grains.IndexEntry(tenantId, IndexNames.UserExternalId, "ext-old").LookupAsync());

        await Grains.User(tenantId, id).ReconcileAsync(IndexNames.UserExternalId, staleHash);
        Assert.Empty(await Grains.IndexEntry(tenantId, IndexNames.UserExternalId, "ext-old").LookupAsync());
        await Invariants.AssertConsistentAsync(Grains, tenantId, [id], (IndexNames.UserExternalId, "ext-old"));
    }
}
