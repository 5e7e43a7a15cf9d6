using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests;

/// <summary>
/// A unique value claimed by a change still in flight is decided by that change, not by timing. The case that found it
/// (tests/chaos.sh, 2026-12-05): kill -9 of a co-hosted process dropped a POST whose grain, on another silo, went on and
/// had claimed the userName; the client's retry — a new id — met the claim and was answered 409; then the first
/// attempt failed, and the client found no user under that name. The retry now waits for the claim to settle: 201 if
/// the first attempt failed, 409 (and the first attempt's resource findable) if it was written.
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed class ClaimInFlightTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Theory]
    [InlineData("User", false)]
    [InlineData("User", true)]
    [InlineData("Group", false)]
    [InlineData("Group", true)]
    public async Task ACreateThatMeetsAClaimInFlightWaitsForItsOutcome(string kindName, bool firstWriteFails)
    {
        var user = kindName == "User";
        var kind = user ? ResourceKind.User : ResourceKind.Group;
        var tenantId = GrainKeys.NewTenantId();
        var (first, second) = (GrainKeys.NewResourceId(), GrainKeys.NewResourceId());
        string Body(string name) => user ? Users.Resource(name) : Groups.Resource(name);

        // The first create has claimed the name and is writing (held back, as a slow or dying write would be).
        var held = StorageProbe.HoldNextWrite(user ? GrainKeys.User(tenantId, first) : GrainKeys.Group(tenantId, first));
        var firstCreate = kind.Grain(Grains, tenantId, first).CreateNewAsync(Body("race@contoso.com"));
        await held.Started;

        // The second, under another id and another case of the name, gets no answer while the first is undecided
        // (its bound, ClaimSettling: a third of the response timeout, 10 s here; this waits 1 s so the claim has reached the entry).
        var secondCreate = kind.Grain(Grains, tenantId, second).CreateNewAsync(Body("RACE@contoso.com"));
        Assert.NotSame(secondCreate, await Task.WhenAny(secondCreate, Task.Delay(TimeSpan.FromSeconds(1))));

        string winner;
        if (firstWriteFails)
        {
            held.Fail();
            await Assert.ThrowsAnyAsync<Exception>(() => firstCreate);
            Assert.Equal(201, (await secondCreate).Status);
            Assert.Equal(404, (await kind.Grain(Grains, tenantId, first).GetAsync()).Status);
            winner = second;
        }
        else
        {
            held.Release();
            Assert.Equal(201, (await firstCreate).Status);
            var lost = await secondCreate;
            Assert.Equal((409, "uniqueness"), (lost.Status, lost.ScimType));
            Assert.Equal(404, (await kind.Grain(Grains, tenantId, second).GetAsync()).Status);
            winner = first;
        }

        // What a client does after the answer: the name's lookup finds exactly the resource that was written.
        var index = user ? IndexNames.UserName : IndexNames.GroupDisplayName;
        var hits = await Grains.IndexEntry(tenantId, index, "Race@Contoso.com").FindAsync();
        Assert.Equal([winner], hits.Where(h => h.Resource.Status == 200).Select(h => h.Id).ToArray());
        if (user)
        {
            await Invariants.AssertConsistentAsync(Grains, tenantId, [first, second]);
        }
    }
}
