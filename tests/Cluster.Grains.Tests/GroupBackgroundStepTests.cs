using Cluster.Abstractions;
using Cluster.Grains.Groups;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests;

/// <summary>A background step of a large membership change that fails is tried again a second later, then finishes.</summary>
[Collection(ClusterFixture.Collection)]
public sealed class GroupBackgroundStepTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task AFailingStepIsRetriedASecondLaterNotAtTheTimersPace()
    {
        var tenantId = GrainKeys.NewTenantId();
        var users = await MoreUsersThanAStepAsync(tenantId, "step");
        var group = await Grains.CreateGroupAsync(tenantId, "Stepped");

        // The storage of a member of the change's last chunk (chunks follow partition, then id) fails: the first step (in the
        // request) goes through, the second (in the background, where that member joins) fails on every try.
        var last = InChunkOrder(users).Last();
        var failing = GrainKeys.User(tenantId, last);
        StorageProbe.FailNextWrites(failing, 1_000);
        try
        {
            Assert.Equal(200, (await Grains.Group(tenantId, group).PatchAsync(Groups.AddMembers(users))).Status);
            await Eventually.TrueAsync(() => Task.FromResult(StorageProbe.WritesOf(failing) >= 1), what: "the background step reached the failing member");
            var before = StorageProbe.WritesOf(failing);

            // Tried again (however slow the machine)...
            await Eventually.TrueAsync(() => Task.FromResult(StorageProbe.WritesOf(failing) > before), what: "the step was tried again");
            var retried = StorageProbe.WritesOf(failing);

            // ...but about once a second, not at the timer's pace (it was one a millisecond: thousands in 3 s).
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.True(StorageProbe.WritesOf(failing) - retried <= 10, $"{StorageProbe.WritesOf(failing) - retried} tries in 3 s");
        }
        finally
        {
            StorageProbe.FailNextWrites(failing, 0);
        }

        // Storage works again: the change finishes, every member in.
        await Eventually.TrueAsync(async () => (await Grains.MembersAsync(tenantId, group)).Length == users.Length, what: "the change finished");
    }

    [Fact]
    public async Task AChangeWhoseFirstStepFailsInItsRequestGoesOnInTheBackground()
    {
        // The storage of a member of the change's FIRST chunk fails: the request's own step fails after the commit point, so
        // the client sees an error, but the change is committed. Until 2026-12-07 nothing then scheduled its steps: it only
        // advanced when later writes of the group waited for it.
        var tenantId = GrainKeys.NewTenantId();
        var users = await MoreUsersThanAStepAsync(tenantId, "first");
        var group = await Grains.CreateGroupAsync(tenantId, "First step fails");

        var first = InChunkOrder(users).First();
        var failing = GrainKeys.User(tenantId, first);
        StorageProbe.FailNextWrites(failing, 1_000);
        try
        {
            await Assert.ThrowsAnyAsync<Exception>(() => Grains.Group(tenantId, group).PatchAsync(Groups.AddMembers(users)));
        }
        finally
        {
            StorageProbe.FailNextWrites(failing, 0);
        }

        // No other request: the background steps finish it.
        await Eventually.TrueAsync(async () => (await Grains.MembersAsync(tenantId, group)).Length == users.Length, what: "the change finished");
    }

    [Fact]
    public async Task TheRetryOfALargeCreateWhoseFirstStepFailedIsAnsweredAsTheCreateNot409()
    {
        var tenantId = GrainKeys.NewTenantId();
        var users = await MoreUsersThanAStepAsync(tenantId, "created");
        var first = InChunkOrder(users).First();
        var failing = GrainKeys.User(tenantId, first);
        var id = GrainKeys.NewResourceId();
        var body = Groups.Resource("Created large", null, users);

        StorageProbe.FailNextWrites(failing, 1_000);
        try
        {
            await Assert.ThrowsAnyAsync<Exception>(() => Grains.Group(tenantId, id).CreateNewAsync(body));

            // The gateway's retry of the same POST while the member's storage still fails: the change cannot advance, so the
            // retry fails or is busy, and is never the 409 of a create under a taken id.
            ScimResult? retried = null;
            try
            {
                retried = await Grains.Group(tenantId, id).CreateAsync(body);
            }
            catch (Exception)
            {
            }

            Assert.True(retried is null || retried.Status == 503, $"the retried create answered {retried?.Status}");
        }
        finally
        {
            StorageProbe.FailNextWrites(failing, 0);
        }

        // Storage works again: the committed create, answered as such once its members are applied.
        await Eventually.TrueAsync(async () => (await Grains.Group(tenantId, id).CreateAsync(body)).Status == 201, what: "the retried create answered 201");
        Assert.Equal(users.Length, (await Grains.MembersAsync(tenantId, id)).Length);
    }

    // Users enough for a change of more than one step (a large change: chunks, background steps).
    private async Task<string[]> MoreUsersThanAStepAsync(string tenantId, string prefix)
    {
        var users = Enumerable.Range(0, GroupGrain.StepSize + 100).Select(_ => GrainKeys.NewResourceId()).ToArray();
        await Parallel.ForEachAsync(users.Select((id, i) => (id, i)), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (u, _) =>
            Assert.Equal(201, (await Grains.User(tenantId, u.id).CreateAsync(Users.Resource($"{prefix}{u.i}@contoso.com"))).Status));
        return users;
    }

    // The order a change's chunks take its members in: by partition, then id.
    private static IEnumerable<string> InChunkOrder(string[] users) =>
        users.OrderBy(GrainKeys.GroupMemberPartitionOf).ThenBy(id => id, StringComparer.Ordinal);
}
