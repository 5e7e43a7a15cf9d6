using System.Diagnostics;
using Cluster.Abstractions;
using Cluster.Grains.Groups;
using Cluster.TestInfrastructure;
using Xunit.Abstractions;

namespace Cluster.Grains.Tests;

/// <summary>
/// Issue 11: a group of 100,000 members is rewritten in bounded steps. Adding 10,000 members in one PATCH, replacing all
/// 100,000 members with a new list of 10,000 in one PUT, and deleting the group each do at most a step's worth of member
/// work inside the request (counted in storage writes, not timed) and finish in the background; no storage row outgrows
/// its limit; and membership agrees both ways at every read, during the work and after it (invariant 7).
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed class GiantGroupTests(ClusterFixture fixture, ITestOutputHelper output)
{
    private const int Members = 100_000;
    private const int NewMembers = 10_000;

    // An Azure Table entity holds at most 1 MiB; Orleans' table storage needs headroom around the JSON.
    private const int RowLimit = 512 * 1024;

    // What a request may write beyond one step of member work: chunk rows, the group's records, the partitions one step touches.
    private const int RequestWriteBound = (GroupGrain.StepSize * 2) + 200;

    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task AHundredThousandMemberGroupIsGrownReplacedAndDeletedInBoundedSteps()
    {
        var tenantId = GrainKeys.NewTenantId();
        var clock = Stopwatch.StartNew();
        var users = await SeedUsersAsync(tenantId, Members + NewMembers);
        output.WriteLine($"seeded {users.Length} users in {clock.Elapsed}");
        var (old, fresh) = (users[..Members], users[Members..]);
        var sample = old.Where((_, i) => i % 997 == 0).Concat(fresh.Where((_, i) => i % 499 == 0)).ToArray();

        // Two groups of 100,000, each grown by PATCHes of 10,000 members.
        var replaced = await Grains.CreateGroupAsync(tenantId, "Replaced");
        var deleted = await Grains.CreateGroupAsync(tenantId, "Deleted");
        foreach (var group in new[] { replaced, deleted })
        {
            foreach (var batch in old.Chunk(NewMembers))
            {
                await BoundedAsync("PATCH add 10,000", tenantId, group, () => Grains.Group(tenantId, group).PatchAsync(Groups.AddMembers(batch)), 200);
                await SettleWatchingAsync(tenantId, group, sample);
            }

            Assert.Equal(Members, (await Grains.MembersAsync(tenantId, group)).Length);
        }

        // Replace all 100,000 members of one with a new list of 10,000, in one PUT.
        await BoundedAsync("PUT 10,000 over 100,000", tenantId, replaced, () => Grains.Group(tenantId, replaced).ReplaceAsync(Groups.Resource("Replaced", null, fresh)), 200);
        await SettleWatchingAsync(tenantId, replaced, sample);
        Assert.Equal(fresh.Order(StringComparer.Ordinal), await Grains.MembersAsync(tenantId, replaced));

        // Delete the other (still 100,000 members).
        await BoundedAsync("DELETE 100,000", tenantId, deleted, () => Grains.Group(tenantId, deleted).DeleteAsync(), 204);
        Assert.Equal(404, (await Grains.Group(tenantId, deleted).ReadAsync([])).Status);

        // Deleted twice while its background steps run: 404, as GET answers (entra-scim.md §2.7, "Delete the same Group
        // twice"), and as for a group small enough to be deleted in the request.
        Assert.Equal(404, (await Grains.Group(tenantId, deleted).DeleteAsync()).Status);
        await SettleWatchingAsync(tenantId, deleted, sample);
        Assert.Empty(await Grains.IndexEntry(tenantId, IndexNames.GroupDisplayName, "Deleted").LookupAsync());

        await Grains.AssertMembershipAgreesAsync(tenantId, [replaced, deleted], sample);
        foreach (var user in sample)
        {
            await Grains.AssertRecordedGroupsSettleAsync(tenantId, user, fresh.Contains(user) ? [replaced] : []);
        }

        output.WriteLine($"largest row written: {StorageProbe.LargestWrite} bytes; total {clock.Elapsed}");
        Assert.True(StorageProbe.LargestWrite < RowLimit, $"a row of {StorageProbe.LargestWrite} bytes was written");
    }

    // Runs a request and checks it did at most a step of member work itself: the tenant's storage writes from its start to
    // the group's answer (counted in the silo, so the steps the group runs after answering are not, however late this test
    // reads the answer) stay under a bound that does not grow with the group.
    private async Task BoundedAsync(string what, string tenantId, string groupId, Func<Task<ScimResult>> request, int status)
    {
        var group = GrainKeys.Group(tenantId, groupId);
        StorageProbe.WatchNextAnswer(group);
        var writes = StorageProbe.WritesOfTenant(tenantId);
        var clock = Stopwatch.StartNew();
        var result = await request();
        var written = StorageProbe.TenantWritesAtAnswer(group) - writes;
        output.WriteLine($"{what}: {result.Status} in {clock.ElapsedMilliseconds} ms, {written} storage writes inside the request");
        Assert.Equal(status, result.Status);
        Assert.True(written <= RequestWriteBound, $"{what} wrote {written} rows inside the request (bound {RequestWriteBound})");
    }

    // Waits for the group's background steps to finish, checking membership both ways for sampled users meanwhile: a user
    // shows the group exactly when the group lists the user (read user, group, user; equal user reads mean no step ran between).
    private async Task SettleWatchingAsync(string tenantId, string groupId, string[] sample)
    {
        var clock = Stopwatch.StartNew();
        var checks = 0;
        while (await HasWorkAsync(tenantId, groupId))
        {
            foreach (var user in sample.Take(20))
            {
                var before = (await Grains.GroupsOfAsync(tenantId, user)).Contains(groupId);
                var read = await Grains.Group(tenantId, groupId).ReadAsync([user]);
                var listed = read.Status == 200 && read.Resource!.Contains(user, StringComparison.Ordinal);
                var after = (await Grains.GroupsOfAsync(tenantId, user)).Contains(groupId);
                if (before == after)
                {
                    Assert.True(before == listed, $"user {user} shows group {groupId}: {before}; the group lists the user: {listed}");
                    checks++;
                }
            }

            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(5), "the background steps did not finish");
        }

        output.WriteLine($"  settled in {clock.Elapsed} ({checks} both-ways checks during the work)");
    }

    // The group still has steps to run: a large change under way, or a delete not finished.
    private static async Task<bool> HasWorkAsync(string tenantId, string groupId)
    {
        await Task.Delay(50);
        var change = StorageProbe.LastWrittenState(GrainKeys.Group(tenantId, groupId), "group") as State.GroupState;
        return change is { Change: not null } or { Deleting: true };
    }

    private async Task<string[]> SeedUsersAsync(string tenantId, int count)
    {
        var ids = Enumerable.Range(0, count).Select(_ => GrainKeys.NewResourceId()).ToArray();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, _) =>
        {
            var result = await Grains.User(tenantId, ids[i]).CreateAsync(Users.Resource($"giant{i}@contoso.com"));
            Assert.Equal(201, result.Status);
        });
        return ids;
    }
}
