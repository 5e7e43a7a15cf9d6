using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests;

/// <summary>
/// <see cref="IIndexEntryGrain.FindAsync"/>: an indexed <c>eq</c> filter in one call from the gateway, the entry reading its
/// holders. It must answer what a second call would have (the holder's state when asked) and must not wait on a holder that
/// is waiting on the entry.
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed class IndexFindTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task AnEntryAnswersWithItsHoldersAsTheirGetAnswers()
    {
        var tenantId = GrainKeys.NewTenantId();
        var id = await Grains.CreateUserAsync(tenantId, "found@contoso.com", externalId: "found-1");

        var hit = Assert.Single(await Grains.IndexEntry(tenantId, IndexNames.UserName, "found@contoso.com").FindAsync());
        Assert.Equal(id, hit.Id);
        Assert.Equal(await Grains.User(tenantId, id).GetAsync(), hit.Resource);
        Assert.Empty(await Grains.IndexEntry(tenantId, IndexNames.UserName, "nobody@contoso.com").FindAsync());
    }

    [Fact]
    public async Task AFindWaitingOnAHolderThatReleasesTheEntryDoesNotDeadlock()
    {
        // The holder renames itself: its turn claims the new value, writes (held here), then releases this entry. A find on
        // this entry asks the holder meanwhile, so it waits for that turn, which waits for the entry: the find interleaves.
        var tenantId = GrainKeys.NewTenantId();
        var id = await Grains.CreateUserAsync(tenantId, "before@contoso.com");
        var held = StorageProbe.HoldNextWrite(GrainKeys.User(tenantId, id));
        var rename = Grains.User(tenantId, id).PatchAsync(Users.RenamePatch("after@contoso.com"));
        await held.Started.WaitAsync(TimeSpan.FromSeconds(30));

        // The find reaches the entry first (if it did not, there would be nothing to deadlock on: checked below). The entry
        // starts a new activation for it, so its read of storage shows the find got there; then it asks the holder.
        var entry = Grains.IndexEntry(tenantId, IndexNames.UserName, "before@contoso.com");
        await fixture.Cluster.DeactivateAsync(entry);
        var reads = StorageProbe.ReadsOf(entry.GetPrimaryKeyString());
        var find = entry.FindAsync();
        await Eventually.TrueAsync(() => Task.FromResult(StorageProbe.ReadsOf(entry.GetPrimaryKeyString()) > reads), what: "the find reached the entry");
        await Task.Delay(500);
        held.Release();

        // A deadlock would hold both until Orleans' 30 s response timeout.
        Assert.Equal(200, (await rename.WaitAsync(TimeSpan.FromSeconds(20))).Status);
        var hits = await find.WaitAsync(TimeSpan.FromSeconds(20));

        // The entry listed the holder when asked (so the find did wait on the holder's turn); the holder answered after its
        // rename, which a caller checks against the filter.
        var hit = Assert.Single(hits);
        Assert.Equal(id, hit.Id);
        Assert.Equal("after@contoso.com", JsonNode.Parse(hit.Resource.Resource!)!["userName"]!.GetValue<string>());
        Assert.Empty(await Grains.IndexEntry(tenantId, IndexNames.UserName, "before@contoso.com").FindAsync());
    }
}
