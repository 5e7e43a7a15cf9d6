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

    public enum FirstOutcome
    {
        Written,
        FailedBeforeItsWrite,
        UnknownWrite,
    }

    [Fact]
    public async Task LookupsAreAnsweredFromTheCommittedHoldersWhileAClaimIsBeingWritten()
    {
        // A create's claim is held at the entry's own write: filters on that value (both ways the gateway asks an entry)
        // answer at once with what is committed — nobody yet, as the create is not acknowledged — instead of queueing
        // behind the claim (before, a lookup waited for it: up to the claim's bound of a third of the response timeout).
        var tenantId = GrainKeys.NewTenantId();
        var id = GrainKeys.NewResourceId();
        var entry = Grains.IndexEntry(tenantId, IndexNames.UserName, "held@contoso.com");
        var held = StorageProbe.HoldNextWrite(GrainKeys.IndexEntry(tenantId, IndexNames.UserName, IndexNames.Hash("held@contoso.com")));
        var create = Grains.User(tenantId, id).CreateNewAsync(Users.Resource("held@contoso.com"));
        await held.Started.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Empty(await entry.LookupAsync());
        Assert.Empty(await entry.FindAsync());
        Assert.False(create.IsCompleted);

        held.Release();
        Assert.Equal(201, (await create).Status);
        Assert.Equal([id], await entry.LookupAsync());
        Assert.Equal([id], (await entry.FindAsync()).Select(h => h.Id));
    }

    [Theory]
    [InlineData("User", FirstOutcome.Written)]
    [InlineData("User", FirstOutcome.FailedBeforeItsWrite)]
    [InlineData("User", FirstOutcome.UnknownWrite)]
    [InlineData("Group", FirstOutcome.Written)]
    [InlineData("Group", FirstOutcome.FailedBeforeItsWrite)]
    [InlineData("Group", FirstOutcome.UnknownWrite)]
    public async Task ACreateThatMeetsAClaimInFlightWaitsForItsOutcome(string kindName, FirstOutcome outcome)
    {
        var user = kindName == "User";
        var kind = user ? ResourceKind.User : ResourceKind.Group;
        var tenantId = GrainKeys.NewTenantId();
        var (first, second, third) = (GrainKeys.NewResourceId(), GrainKeys.NewResourceId(), GrainKeys.NewResourceId());
        string Body(string name) => user ? Users.Resource(name) : Groups.Resource(name);

        // The first create has claimed the name and is held back: at its events' prepare (the tenant's log write, before the
        // resource's own write), or at its own write, which then fails with an I/O error (it might have landed).
        var held = StorageProbe.HoldNextWrite(outcome == FirstOutcome.UnknownWrite
            ? (user ? GrainKeys.User(tenantId, first) : GrainKeys.Group(tenantId, first))
            : GrainKeys.EventLog(tenantId));
        var firstCreate = kind.Grain(Grains, tenantId, first).CreateNewAsync(Body("race@contoso.com"));
        await held.Started.WaitAsync(TimeSpan.FromSeconds(30));

        // The second, under another id and another case of the name, gets no answer while the first is undecided
        // (its bound, ClaimSettling: a third of the response timeout, 10 s here; this waits 1 s so the claim has reached the entry).
        var secondCreate = kind.Grain(Grains, tenantId, second).CreateNewAsync(Body("RACE@contoso.com"));
        Assert.NotSame(secondCreate, await Task.WhenAny(secondCreate, Task.Delay(TimeSpan.FromSeconds(1))));

        string winner;
        if (outcome == FirstOutcome.Written)
        {
            held.Release();
            Assert.Equal(201, (await firstCreate).Status);
            var lost = await secondCreate;
            Assert.Equal((409, "uniqueness"), (lost.Status, lost.ScimType));
            winner = first;
        }
        else if (outcome == FirstOutcome.FailedBeforeItsWrite)
        {
            // Nothing of the first create was written: the name is free.
            held.Fail();
            await Assert.ThrowsAnyAsync<Exception>(() => firstCreate);
            Assert.Equal(201, (await secondCreate).Status);
            winner = second;
        }
        else
        {
            // The first create's write failed but might have landed: its claim stands (409) until its activation is
            // replaced; the next one reads storage, finds nothing (this write did not land), and the name is free.
            held.Fail();
            await Assert.ThrowsAnyAsync<Exception>(() => firstCreate);
            var lost = await secondCreate;
            Assert.Equal((409, "uniqueness"), (lost.Status, lost.ScimType));
            Assert.Equal(201, (await kind.Grain(Grains, tenantId, third).CreateNewAsync(Body("Race@contoso.com"))).Status);
            winner = third;

            // Its directory entry was kept as well, until a listing meets it and reconciles it (as after a crash mid-create).
            await kind.Grain(Grains, tenantId, first).ReconcileAsync(null, null);
        }

        // What a client does after the answer: the name's lookup finds exactly the resource that was written.
        foreach (var id in new[] { first, second, third }.Where(id => id != winner))
        {
            Assert.Equal(404, (await kind.Grain(Grains, tenantId, id).GetAsync()).Status);
        }

        var index = user ? IndexNames.UserName : IndexNames.GroupDisplayName;
        var hits = await Grains.IndexEntry(tenantId, index, "Race@Contoso.com").FindAsync();
        Assert.Equal([winner], hits.Where(h => h.Resource.Status == 200).Select(h => h.Id).ToArray());
        if (user)
        {
            await Invariants.AssertConsistentAsync(Grains, tenantId, [first, second, third]);
        }
    }
}
