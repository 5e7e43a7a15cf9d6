using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Gateway.Querying;
using Cluster.Gateway.Resilience;
using Cluster.Scim.Filtering;
using Xunit.Abstractions;

namespace Cluster.Persistence.Tests;

/// <summary>
/// Invariants 3–6 across a silo crash: three silos on Azure Table storage (Azurite, so state outlives the silo),
/// concurrent creates (two writers racing for each userName), PATCHes and deletes for several tenants, driven
/// through the gateway's retry policy; one silo is killed in the middle. Afterwards every acknowledged write is
/// there, no userName is held twice, and every index lookup and the directory agree with the users.
/// Progress, not time, decides when the silo dies.
/// </summary>
public sealed class FailoverTests(ITestOutputHelper output)
{
    private const int Tenants = 3;
    private const int NamesPerTenant = 16;

    [Fact]
    public async Task AcknowledgedWritesSurviveASiloKilledDuringConcurrentCreatesUpdatesAndDeletes()
    {
        await using var failover = await FailoverCluster.StartAsync("ScimFailover", "scim-failover-", output);
        var grains = failover.Client;
        var run = failover.Run;
        var tenants = Enumerable.Range(0, Tenants).Select(_ => GrainKeys.NewTenantId()).ToArray();
        var log = new ConcurrentQueue<Outcome>();
        var acknowledgedCreates = 0;
        var killAt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task WriterAsync(string tenantId, int writer)
        {
            for (var n = 0; n < NamesPerTenant; n++)
            {
                var name = $"user{n}.zq{run}@contoso.com";
                var id = GrainKeys.NewResourceId();
                var user = grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, id));
                var (_, created) = await TryAsync(() => user.CreateAsync(FailoverCluster.UserResource(name, $"ext-{n}", $"w{writer} v0")));
                log.Enqueue(new Outcome(tenantId, id, name, "create", $"w{writer} v0", created));
                if (created != 201)
                {
                    continue;
                }

                if (Interlocked.Increment(ref acknowledgedCreates) == Tenants * NamesPerTenant / 3)
                {
                    killAt.TrySetResult();
                }

                for (var version = 1; version <= 2; version++)
                {
                    var value = $"w{writer} v{version}";
                    var (_, patched) = await TryAsync(() => user.PatchAsync($$"""{"Operations":[{"op":"replace","path":"displayName","value":"{{value}}"}]}"""));
                    log.Enqueue(new Outcome(tenantId, id, name, "patch", value, patched));
                }

                if (n % 4 == 3)
                {
                    var (_, deleted) = await TryAsync(() => user.DeleteAsync());
                    log.Enqueue(new Outcome(tenantId, id, name, "delete", null, deleted));
                }
            }
        }

        // A call through the gateway's policy; a null status = unknown outcome (the failure outlasted the retries, or the call
        // was on the silo being killed: an in-process kill can fail a write in flight with its storage provider already closed).
        Task<CallOutcome> TryAsync(Func<Task<ScimResult>> call) => failover.TryAsync(CallSafety.Idempotent, call);

        await failover.RunKillingAsync(
            [.. tenants.SelectMany(t => new[] { WriterAsync(t, 0), WriterAsync(t, 1) })],
            killAt.Task,
            () => Task.FromResult((failover.Cluster.Silos[^1], $"after {Volatile.Read(ref acknowledgedCreates)} acknowledged creates")));

        var outcomes = log.ToArray();
        output.WriteLine($"{outcomes.Length} operations: " + string.Join(", ", outcomes.GroupBy(o => $"{o.Kind} {o.Status?.ToString() ?? "unknown"}").OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}")));
        Assert.Contains(outcomes, o => o.Kind == "create" && o.Status == 201);

        var queries = new ResourceQueries(grains);
        foreach (var tenantId in tenants)
        {
            await AssertTenantAsync(grains, queries, tenantId, outcomes.Where(o => o.TenantId == tenantId).ToList());
        }
    }

    /// <summary>
    /// Every acknowledged write of the tenant in <paramref name="outcomes"/> is there, no userName is held twice, and every index
    /// lookup and the directory agree with the users (also used by <see cref="OffboardingTests"/> for the tenant that stays).
    /// </summary>
    internal static async Task AssertTenantAsync(IGrainFactory grains, ResourceQueries queries, string tenantId, List<Outcome> outcomes)
    {
        var live = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var byUser in outcomes.GroupBy(o => o.Id))
        {
            var id = byUser.Key;
            var ops = byUser.ToList();
            var stored = await grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, id)).GetAsync();
            var create = ops.Single(o => o.Kind == "create");
            var delete = ops.SingleOrDefault(o => o.Kind == "delete");

            if (delete?.Status == 204 || create.Status is 409)
            {
                // Acknowledged delete, or a create that lost the race: gone (or never there).
                Assert.Equal(404, stored.Status);
                continue;
            }

            if (create.Status == 201 && delete is null)
            {
                Assert.True(stored.Status == 200, $"acknowledged user {id} ({create.UserName}) answers {stored.Status}");
            }

            if (stored.Status != 200)
            {
                // An unacknowledged create or delete may have happened or not.
                Assert.True(create.Status is null || delete is not null, $"user {id}: {stored.Status} after create {create.Status}");
                continue;
            }

            var user = JsonNode.Parse(stored.Resource!)!.AsObject();
            live[id] = user;
            Assert.Equal(create.UserName, user["userName"]!.GetValue<string>());

            // The displayName is the last acknowledged value, or a later one whose outcome is unknown.
            var writes = ops.Where(o => o.Kind is "create" or "patch").ToList();
            var lastAcknowledged = writes.FindLastIndex(o => o.Status is 200 or 201);
            var allowed = writes.Skip(Math.Max(0, lastAcknowledged)).Where((o, i) => i == 0 || o.Status is null).Select(o => o.Value).ToList();
            Assert.Contains(user["displayName"]!.GetValue<string>(), allowed);
        }

        // No userName held twice; every lookup finds exactly the live holder.
        foreach (var byName in live.GroupBy(u => NormalizedName(u.Value["userName"]!.GetValue<string>())))
        {
            Assert.True(byName.Count() == 1, $"userName {byName.Key} is held by {string.Join(", ", byName.Select(u => u.Key))}");
        }

        foreach (var name in outcomes.Select(o => o.UserName).Distinct())
        {
            var holder = live.Where(u => string.Equals(u.Value["userName"]!.GetValue<string>(), name, StringComparison.OrdinalIgnoreCase)).Select(u => u.Key).ToList();
            var found = await queries.QueryAsync(ResourceKind.User, tenantId, FilterParser.Parse($"userName eq \"{name.ToUpperInvariant()}\""), 1, 10);
            Assert.Equal(holder, found.Page.Select(u => u["id"]!.GetValue<string>()).ToList());

            // The lookup repaired whatever the crash left: the raw index entry now names exactly the holder.
            var entry = await grains.GetGrain<IIndexEntryGrain>(GrainKeys.IndexEntry(tenantId, IndexNames.UserName, IndexNames.Hash(name))).LookupAsync();
            Assert.Equal(holder, entry.ToList());
        }

        foreach (var (id, user) in live)
        {
            var byExternal = await queries.QueryAsync(ResourceKind.User, tenantId, FilterParser.Parse($"externalId eq \"{user["externalId"]!.GetValue<string>()}\""), 1, 10);
            Assert.Contains(id, byExternal.Page.Select(u => u["id"]!.GetValue<string>()));
            var byEmail = await queries.QueryAsync(ResourceKind.User, tenantId, FilterParser.Parse($"emails[type eq \"work\"].value eq \"{user["userName"]!.GetValue<string>()}\""), 1, 10);
            Assert.Equal(id, Assert.Single(byEmail.Page)["id"]!.GetValue<string>());
        }

        // Listing (which repairs directory entries of users that are gone) shows exactly the live users.
        var listed = await queries.QueryAsync(ResourceKind.User, tenantId, null, 1, 1000);
        Assert.Equal(live.Keys.Order(StringComparer.Ordinal), listed.Page.Select(u => u["id"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Equal(live.Count, listed.Total);
    }

    private static string NormalizedName(string value) => IndexNames.Normalize(value);

    /// <summary>One write and its answer: <paramref name="Status"/> null when its outcome is unknown.</summary>
    internal sealed record Outcome(string TenantId, string Id, string UserName, string Kind, string? Value, int? Status);
}
