using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Gateway.Querying;
using Cluster.Gateway.Resilience;
using Cluster.Scim.Filtering;
using Cluster.Scim.Resources;
using Cluster.Scim.Schema;
using Xunit.Abstractions;

namespace Cluster.Persistence.Tests;

/// <summary>
/// Invariants 3–7 for groups across a silo crash: three silos on Azure Table storage (Azurite), several tenants, and
/// concurrently, through the gateway's retry policy: member PATCHes in Entra's shapes (Add with several values, Remove
/// with a value list, Remove <c>members[value eq "x"]</c>), user deletes, a group delete and racing group creates of one
/// displayName; one silo is killed in the middle (after a third of the member PATCHes were acknowledged).
/// Afterwards: every acknowledged membership change holds unless a later acknowledged change of the same pair undid it
/// (a change whose outcome is unknown may have happened or not), group members and users' <c>groups</c> agree both ways,
/// no displayName is held twice and every group index lookup finds exactly the live holder.
/// Each (group, user) pair is changed by one writer only, so the order of its changes is known; groups are shared.
/// </summary>
public sealed class GroupFailoverTests(ITestOutputHelper output)
{
    private const int Tenants = 3;
    private const int Writers = 2;
    private const int UsersPerTenant = 20;
    private const int GroupsPerTenant = 4;
    private const int Steps = 36;

    private const string PatchSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

    [Fact]
    public async Task MembershipAgreesBothWaysAfterASiloKilledDuringConcurrentMemberChanges()
    {
        await using var failover = await FailoverCluster.StartAsync("ScimGroupFailover", "scim-group-failover-", output);
        var grains = failover.Client;
        var run = failover.Run;
        Task<CallOutcome> TryAsync(CallSafety safety, Func<Task<ScimResult>> call) => failover.TryAsync(safety, call);

        // Set-up (no silo dies yet): users and groups, all acknowledged.
        var tenants = new List<TenantSetup>();
        for (var t = 0; t < Tenants; t++)
        {
            var tenantId = GrainKeys.NewTenantId();
            var users = Enumerable.Range(0, UsersPerTenant).Select(_ => GrainKeys.NewResourceId()).ToArray();
            await Task.WhenAll(users.Select(async (id, i) =>
            {
                var name = $"member{i}.zq{run}@contoso.com";
                var created = await grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, id)).CreateAsync(FailoverCluster.UserResource(name, $"ext-{i}"));
                Assert.Equal(201, created.Status);
            }));
            var groups = Enumerable.Range(0, GroupsPerTenant + 1).Select(_ => GrainKeys.NewResourceId()).ToArray();
            await Task.WhenAll(groups.Select(async (id, i) =>
            {
                var created = await Group(grains, tenantId, id).CreateAsync(GroupResource(i < GroupsPerTenant ? $"Team {i}" : "Doomed", $"gext-{i}"));
                Assert.True(created.Status == 201, $"group create: {created.Status} {created.Detail}");
            }));
            tenants.Add(new TenantSetup(tenantId, users, groups[..GroupsPerTenant], groups[GroupsPerTenant]));
        }

        var log = new ConcurrentQueue<MemberChange>();
        var userDeletes = new ConcurrentQueue<(string TenantId, string UserId, Ack Ack, int? Status)>();
        var groupDeletes = new ConcurrentQueue<(string TenantId, string GroupId, Ack Ack, int? Status)>();
        var raceCreates = new ConcurrentQueue<(string TenantId, string GroupId, string DisplayName, Ack Ack, int? Status)>();
        var unexpected = new ConcurrentQueue<string>();
        var acknowledgedPatches = 0;
        var killAt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task WriterAsync(TenantSetup tenant, int writer)
        {
            var random = new Random(HashCode.Combine(tenant.TenantId, writer));
            var mine = tenant.Users.Where((_, i) => i % Writers == writer).ToList();

            async Task PatchAsync(string groupId, string body, IReadOnlyList<string> adds, IReadOnlyList<string> removes)
            {
                var (ack, status) = await TryAsync(CallSafety.Idempotent, () => Group(grains, tenant.TenantId, groupId).PatchAsync(body));
                foreach (var (user, add) in adds.Select(u => (u, true)).Concat(removes.Select(u => (u, false))))
                {
                    log.Enqueue(new MemberChange(tenant.TenantId, groupId, user, add, ack, status));
                }

                if (ack == Ack.Yes && Interlocked.Increment(ref acknowledgedPatches) == Tenants * Writers * Steps / 3)
                {
                    killAt.TrySetResult();
                }

                if (ack == Ack.Rejected && !(status == 404 && groupId == tenant.Doomed))
                {
                    unexpected.Enqueue($"PATCH of group {groupId} answered {status}: {body}");
                }
            }

            for (var step = 0; step < Steps && mine.Count > 0; step++)
            {
                if (step % 12 == 0)
                {
                    // Both writers of the tenant create a group of the same displayName at about the same time (a
                    // group create is not retried by the gateway: it is not idempotent).
                    var id = GrainKeys.NewResourceId();
                    var name = $"Race {step / 12}";
                    var (ack, status) = await TryAsync(CallSafety.Unsafe, () => Group(grains, tenant.TenantId, id).CreateAsync(GroupResource(name, null)));
                    raceCreates.Enqueue((tenant.TenantId, id, name, ack, status));
                }

                if (writer == 0 && step == Steps / 2)
                {
                    var (ack, status) = await TryAsync(CallSafety.Idempotent, () => Group(grains, tenant.TenantId, tenant.Doomed).DeleteAsync());
                    groupDeletes.Enqueue((tenant.TenantId, tenant.Doomed, ack, status));
                }

                var group = tenant.Groups[random.Next(tenant.Groups.Length)];
                switch (step % 6)
                {
                    case 0 or 3:
                    {
                        var users = Pick(random, mine, random.Next(2, 5));
                        await PatchAsync(group, Ops(AddMembers(users)), users, []);
                        break;
                    }

                    case 1:
                    {
                        var users = Pick(random, mine, random.Next(1, 3));
                        await PatchAsync(group, Ops(RemoveMembers(users)), [], users);
                        break;
                    }

                    case 2:
                    {
                        var user = mine[random.Next(mine.Count)];
                        await PatchAsync(group, Ops($$"""{"op":"Remove","path":"members[value eq \"{{user}}\"]"}"""), [], [user]);
                        break;
                    }

                    case 4:
                    {
                        // The doomed group: members added before, during and (rejected, 404) after its delete.
                        var users = Pick(random, mine, random.Next(1, 4));
                        await PatchAsync(tenant.Doomed, Ops(AddMembers(users)), users, []);
                        break;
                    }

                    case 5 when step % 12 == 11:
                    {
                        // A user delete: it leaves every group. The writer never touches the user again.
                        var user = mine[random.Next(mine.Count)];
                        mine.Remove(user);
                        var (ack, status) = await TryAsync(CallSafety.Idempotent, () => grains.GetGrain<IUserGrain>(GrainKeys.User(tenant.TenantId, user)).DeleteAsync());
                        userDeletes.Enqueue((tenant.TenantId, user, ack, status));
                        break;
                    }

                    default:
                    {
                        // Add and remove in one PATCH (usually two partitions: a journaled change).
                        var users = Pick(random, mine, 3);
                        var split = Math.Min(2, users.Length - 1);
                        await PatchAsync(group, Ops(AddMembers(users[..split]), RemoveMembers(users[split..])), users[..split], users[split..]);
                        break;
                    }
                }
            }
        }

        await failover.RunKillingAsync(
            [.. tenants.SelectMany(t => Enumerable.Range(0, Writers).Select(w => WriterAsync(t, w)))],
            killAt.Task,
            () => Task.FromResult((failover.Cluster.Silos[^1], $"after {Volatile.Read(ref acknowledgedPatches)} acknowledged member PATCHes")));
        Assert.Empty(unexpected);

        var changes = log.ToArray();
        output.WriteLine($"{changes.Length} member changes: " + string.Join(", ", changes.GroupBy(c => $"{(c.Add ? "add" : "remove")} {c.Ack}").OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}")));
        output.WriteLine($"user deletes: {string.Join(", ", userDeletes.GroupBy(d => d.Ack).Select(g => $"{g.Key}: {g.Count()}"))}; group deletes: {string.Join(", ", groupDeletes.Select(d => $"{d.Ack} {d.Status}"))}; race creates: {string.Join(", ", raceCreates.GroupBy(r => r.Status?.ToString() ?? "unknown").Select(g => $"{g.Key}: {g.Count()}"))}; calls answered after a retry: {failover.Retried}");
        Assert.Contains(changes, c => c.Ack == Ack.Yes);

        var queries = new ResourceQueries(grains);
        foreach (var tenant in tenants)
        {
            await AssertTenantAsync(
                grains,
                queries,
                tenant,
                changes.Where(c => c.TenantId == tenant.TenantId).ToList(),
                userDeletes.Where(d => d.TenantId == tenant.TenantId).ToDictionary(d => d.UserId, d => d.Ack),
                groupDeletes.Where(d => d.TenantId == tenant.TenantId).ToDictionary(d => d.GroupId, d => d.Ack),
                raceCreates.Where(r => r.TenantId == tenant.TenantId).Select(r => (r.GroupId, r.DisplayName, r.Ack, r.Status)).ToList());
        }
    }

    private async Task AssertTenantAsync(
        IGrainFactory grains,
        ResourceQueries queries,
        TenantSetup tenant,
        List<MemberChange> changes,
        Dictionary<string, Ack> userDeletes,
        Dictionary<string, Ack> groupDeletes,
        List<(string GroupId, string DisplayName, Ack Ack, int? Status)> raceCreates)
    {
        var tenantId = tenant.TenantId;

        // Groups first: reading a group finishes any change a crash left journaled.
        var members = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var liveGroups = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var groupId in tenant.Groups.Append(tenant.Doomed).Concat(raceCreates.Select(r => r.GroupId)))
        {
            var read = await Group(grains, tenantId, groupId).ReadAsync(null);
            if (read.Status == 404)
            {
                continue;
            }

            Assert.Equal(200, read.Status);
            var group = JsonNode.Parse(read.Resource!)!.AsObject();
            liveGroups[groupId] = group;
            members[groupId] = (group["members"] as JsonArray ?? []).Select(m => m!["value"]!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
        }

        foreach (var groupId in tenant.Groups)
        {
            Assert.True(liveGroups.ContainsKey(groupId), $"group {groupId} was never deleted but answers 404");
        }

        if (groupDeletes.TryGetValue(tenant.Doomed, out var doomedDelete) && doomedDelete == Ack.Yes)
        {
            Assert.False(liveGroups.ContainsKey(tenant.Doomed), "an acknowledged group delete did not hold");
        }

        // Users: acknowledged deletes are gone, everyone else is there; members are existing users.
        var liveUsers = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var userId in tenant.Users)
        {
            var read = await grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, userId)).GetAsync();
            var delete = userDeletes.TryGetValue(userId, out var d) ? d : (Ack?)null;
            if (delete == Ack.Yes || delete is null)
            {
                Assert.True(read.Status == (delete == Ack.Yes ? 404 : 200), $"user {userId} (delete {delete?.ToString() ?? "none"}) answers {read.Status}");
            }

            if (read.Status == 200)
            {
                var groups = JsonNode.Parse(read.Resource!)!["groups"] as JsonArray ?? [];
                liveUsers[userId] = [.. groups.Select(g => g!["value"]!.GetValue<string>()).Order(StringComparer.Ordinal)];
            }
        }

        foreach (var (groupId, ids) in members)
        {
            foreach (var id in ids)
            {
                Assert.True(liveUsers.ContainsKey(id), $"group {groupId} lists {id}, which is not an existing user (dangling member)");
            }
        }

        // Both ways: each live user's groups are exactly the live groups listing it; its recorded ids settle to them too.
        foreach (var (userId, shown) in liveUsers)
        {
            var expected = members.Where(m => m.Value.Contains(userId)).Select(m => m.Key).Order(StringComparer.Ordinal).ToArray();
            Assert.True(expected.SequenceEqual(shown), $"user {userId}: groups [{string.Join(",", shown)}] but listed by [{string.Join(",", expected)}]");
            string[] recorded = [];
            for (var i = 0; i < 200; i++)
            {
                recorded = await grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, userId)).GetGroupIdsAsync();
                if (recorded.SequenceEqual(expected))
                {
                    break;
                }

                // A user's read sends unconfirmed groups a one-way repair: read again until it has landed.
                await grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, userId)).GetAsync();
                await Task.Delay(25);
            }

            Assert.True(expected.SequenceEqual(recorded), $"user {userId}: recorded groups [{string.Join(",", recorded)}] never settled to [{string.Join(",", expected)}]");
        }

        // Every acknowledged change holds unless a later acknowledged one of the same pair undid it; changes of unknown
        // outcome after the last acknowledged one may have happened or not. Groups start empty.
        var checkedPairs = 0;
        foreach (var pair in changes.Where(c => c.Ack != Ack.Rejected).GroupBy(c => (c.GroupId, c.UserId)))
        {
            var (groupId, userId) = pair.Key;
            if (!members.TryGetValue(groupId, out var groupMembers) || !liveUsers.ContainsKey(userId))
            {
                // The group or the user is gone (acknowledged or unknown delete, checked above): no membership at all.
                continue;
            }

            var ops = pair.ToList();
            var lastAcknowledged = ops.FindLastIndex(c => c.Ack == Ack.Yes);
            var allowed = new HashSet<bool> { lastAcknowledged >= 0 && ops[lastAcknowledged].Add };
            if (userDeletes.GetValueOrDefault(userId, Ack.Yes) == Ack.Unknown)
            {
                // A delete of unknown outcome may have taken the user out of its groups and failed before removing it
                // (documented: Entra retries the delete).
                allowed.Add(false);
            }

            foreach (var later in ops.Skip(lastAcknowledged + 1))
            {
                allowed.Add(later.Add);
            }

            var actual = groupMembers.Contains(userId);
            Assert.True(allowed.Contains(actual), $"group {groupId}, user {userId}: member = {actual}, but the changes were {string.Join(" → ", ops.Select(o => $"{(o.Add ? "add" : "remove")} {o.Ack}"))}");
            checkedPairs++;
        }

        // No displayName held twice; lookups (and the raw index entries they repair) find exactly the live holder.
        foreach (var byName in liveGroups.GroupBy(g => IndexNames.Normalize(g.Value["displayName"]!.GetValue<string>())))
        {
            Assert.True(byName.Count() == 1, $"displayName {byName.Key} is held by {string.Join(", ", byName.Select(g => g.Key))}");
        }

        foreach (var race in raceCreates.GroupBy(r => r.DisplayName))
        {
            Assert.True(race.Count(r => r.Ack == Ack.Yes) <= 1, $"{race.Key}: {race.Count(r => r.Ack == Ack.Yes)} creates acknowledged");
            foreach (var r in race.Where(r => r.Ack == Ack.Yes))
            {
                Assert.True(liveGroups.ContainsKey(r.GroupId), $"acknowledged create of {race.Key} ({r.GroupId}) answers 404");
            }

            foreach (var r in race.Where(r => r.Ack == Ack.Rejected))
            {
                Assert.Equal(409, r.Status);
                Assert.False(liveGroups.ContainsKey(r.GroupId), $"rejected create of {race.Key} ({r.GroupId}) exists");
            }
        }

        var names = liveGroups.Values.Select(g => g["displayName"]!.GetValue<string>()).Append("Doomed").Concat(raceCreates.Select(r => r.DisplayName)).Distinct();
        foreach (var name in names)
        {
            var holder = liveGroups.Where(g => string.Equals(g.Value["displayName"]!.GetValue<string>(), name, StringComparison.OrdinalIgnoreCase)).Select(g => g.Key).ToList();
            var found = await queries.QueryAsync(ResourceKind.Group, tenantId, FilterParser.Parse($"displayName eq \"{name.ToUpperInvariant()}\""), 1, 10);
            Assert.Equal(holder, found.Page.Select(g => g["id"]!.GetValue<string>()).ToList());
            var entry = await grains.GetGrain<IIndexEntryGrain>(GrainKeys.IndexEntry(tenantId, IndexNames.GroupDisplayName, IndexNames.Hash(name))).LookupAsync();
            Assert.Equal(holder, entry.ToList());
        }

        foreach (var (groupId, group) in liveGroups)
        {
            if (group["externalId"]?.GetValue<string>() is { } externalId)
            {
                var found = await queries.QueryAsync(ResourceKind.Group, tenantId, FilterParser.Parse($"externalId eq \"{externalId}\""), 1, 10);
                Assert.Equal(groupId, Assert.Single(found.Page)["id"]!.GetValue<string>());
            }

            // Entra's membership pre-check reads one partition and agrees with the full member list.
            foreach (var userId in tenant.Users.Take(6))
            {
                var check = await queries.QueryAsync(
                    ResourceKind.Group,
                    tenantId,
                    FilterParser.Parse($"id eq \"{groupId}\" and members[value eq \"{userId}\"]"),
                    1,
                    10,
                    id => Group(grains, tenantId, id).ReadAsync([userId]));
                Assert.Equal(members[groupId].Contains(userId) ? 1 : 0, check.Total);
            }
        }

        // Listing shows exactly the live groups.
        var listed = await queries.QueryAsync(ResourceKind.Group, tenantId, null, 1, 1000);
        Assert.Equal(liveGroups.Keys.Order(StringComparer.Ordinal), listed.Page.Select(g => g["id"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        output.WriteLine($"tenant {tenantId}: {liveGroups.Count} groups, {liveUsers.Count} users, {members.Values.Sum(m => m.Count)} memberships, {checkedPairs} pairs checked against acknowledged changes");
    }

    private static string[] Pick(Random random, List<string> from, int count) =>
        [.. from.OrderBy(_ => random.Next()).Take(Math.Min(count, from.Count))];

    private static string Ops(params string[] operations) =>
        $$"""{"schemas":["{{PatchSchema}}"],"Operations":[{{string.Join(",", operations)}}]}""";

    private static string AddMembers(IEnumerable<string> ids) =>
        $$"""{"op":"Add","path":"members","value":[{{string.Join(",", ids.Select(id => $$"""{"value":"{{id}}"}"""))}}]}""";

    private static string RemoveMembers(IEnumerable<string> ids) =>
        $$"""{"op":"Remove","path":"members","value":[{{string.Join(",", ids.Select(id => $$"""{"value":"{{id}}"}"""))}}]}""";

    private static IGroupGrain Group(IGrainFactory grains, string tenantId, string groupId) =>
        grains.GetGrain<IGroupGrain>(GrainKeys.Group(tenantId, groupId));

    private static string GroupResource(string displayName, string? externalId)
    {
        var body = new JsonObject { ["displayName"] = displayName };
        if (externalId is not null)
        {
            body["externalId"] = externalId;
        }

        return ResourceNormalizer.Normalize(body, ScimSchemas.GroupResource).ToJsonString();
    }

    private sealed record TenantSetup(string TenantId, string[] Users, string[] Groups, string Doomed);

    private sealed record MemberChange(string TenantId, string GroupId, string UserId, bool Add, Ack Ack, int? Status);
}
