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
        var users = Enumerable.Range(0, GroupGrain.StepSize + 100).Select(_ => GrainKeys.NewResourceId()).ToArray();
        await Parallel.ForEachAsync(users.Select((id, i) => (id, i)), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (u, _) =>
            Assert.Equal(201, (await Grains.User(tenantId, u.id).CreateAsync(Users.Resource($"step{u.i}@contoso.com"))).Status));
        var group = await Grains.CreateGroupAsync(tenantId, "Stepped");

        // The storage of a member of the change's last chunk (chunks follow partition, then id) fails: the first step (in the
        // request) goes through, the second (in the background, where that member joins) fails on every try.
        var last = users.OrderBy(GrainKeys.GroupMemberPartitionOf).ThenBy(id => id, StringComparer.Ordinal).Last();
        var failing = GrainKeys.User(tenantId, last);
        StorageProbe.FailNextWrites(failing, 1_000);
        try
        {
            Assert.Equal(200, (await Grains.Group(tenantId, group).PatchAsync(Groups.AddMembers(users))).Status);
            await Eventually.TrueAsync(() => Task.FromResult(StorageProbe.WritesOf(failing) >= 1), what: "the background step reached the failing member");
            var before = StorageProbe.WritesOf(failing);
            await Task.Delay(TimeSpan.FromSeconds(3));

            // About one try a second (it was one a millisecond: hundreds here).
            Assert.InRange(StorageProbe.WritesOf(failing) - before, 1, 10);
        }
        finally
        {
            StorageProbe.FailNextWrites(failing, 0);
        }

        // Storage works again: the change finishes, every member in.
        await Eventually.TrueAsync(async () => (await Grains.MembersAsync(tenantId, group)).Length == users.Length, what: "the change finished");
    }
}
