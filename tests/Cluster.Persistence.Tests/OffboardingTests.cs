using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Cluster.Abstractions;
using Cluster.Gateway.Querying;
using Cluster.Gateway.Resilience;
using Cluster.Grains.Tenants;
using Cluster.Scim.Resources;
using Cluster.Scim.Schema;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.TestingHost;
using Xunit.Abstractions;
using Outcome = Cluster.Persistence.Tests.FailoverTests.Outcome;

namespace Cluster.Persistence.Tests;

/// <summary>
/// Invariant 13 on Azure Table storage (Azurite): offboarding leaves no row of the tenant — in the grain state table nor in the
/// reminder table, counted by scanning the tables for the tenant's id, not by the sweep's own idea of where rows are — and
/// every row of another tenant stays; also under Entra-like load on both tenants with a silo killed in the middle, where the
/// other tenant loses no acknowledged write.
/// </summary>
public sealed class OffboardingTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ADeletedUserAndItsEmptiedIndexEntriesLeaveNoRowBehind()
    {
        await using var run = await StorageRun.StartAsync(silos: 1, graceSeconds: 1);
        var grains = run.Cluster.Client;
        var tenantId = GrainKeys.NewTenantId();
        var id = GrainKeys.NewResourceId();
        var user = grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, id));
        Assert.Equal(201, (await user.CreateAsync(FailoverCluster.UserResource("gone@contoso.com", "ext-gone"))).Status);
        // The user's rows and its two index entries' (userName, externalId); a row key has "_" for "/".
        bool Owned(TableEntity row) => row.PartitionKey.Contains(id, StringComparison.Ordinal)
            || row.PartitionKey.Contains($"_{IndexNames.UserName}_", StringComparison.Ordinal)
            || row.PartitionKey.Contains($"_{IndexNames.UserExternalId}_", StringComparison.Ordinal);
        var owned = (await run.RowsAsync(tenantId)).Where(Owned).ToList();
        Assert.Contains(owned, r => r.PartitionKey.Contains(id, StringComparison.Ordinal));
        Assert.Contains(owned, r => r.PartitionKey.Contains(IndexNames.UserName, StringComparison.Ordinal));

        // Deleted, those rows go (they stayed as empty entities, for ever); the tenant's event log and directory stay.
        Assert.Equal(204, (await user.DeleteAsync()).Status);
        Assert.DoesNotContain(await run.RowsAsync(tenantId), Owned);

        // The id's state can be written again: an insert, as for any new row.
        Assert.Equal(201, (await user.CreateAsync(FailoverCluster.UserResource("back@contoso.com", "ext-back"))).Status);
        Assert.Equal(200, (await grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, id)).GetAsync()).Status);
    }

    [Fact]
    public async Task OffboardingErasesEveryRowOfTheTenantAndNoRowOfAnother()
    {
        await using var run = await StorageRun.StartAsync(silos: 2, graceSeconds: 1);
        var grains = run.Cluster.Client;
        var (deleted, kept) = (await SeedAsync(grains, "Leaving", users: 520, largeGroup: true), await SeedAsync(grains, "Staying", users: 12, largeGroup: false));

        // The layout the sweep relies on, checked against what Azurite really holds: every row of the tenant is under one of its
        // range prefixes (a data grain's key starts with "{tenantId}/"), or is the tenant grain's own.
        var before = await run.RowsAsync(deleted);
        var keptBefore = await run.RowsAsync(kept);
        var prefixes = TenantData.Grains.Select(g => AzureTableTenantSweeper.PartitionKeyOf(run.ServiceId, TenantData.GrainTypeOf(grains, g).ToString()!, deleted + "/")).ToList();
        var own = AzureTableTenantSweeper.PartitionKeyOf(run.ServiceId, TenantData.GrainTypeOf(grains, typeof(ITenantGrain)).ToString()!, deleted);
        Assert.All(before, row => Assert.True(row.PartitionKey == own || prefixes.Any(p => row.PartitionKey.StartsWith(p, StringComparison.Ordinal)), row.PartitionKey));
        Assert.Contains(before, row => row.PartitionKey == own);
        var remindersBefore = await run.RemindersAsync(deleted);
        output.WriteLine($"before: {before.Count} rows and {remindersBefore} reminders of the deleted tenant ({string.Join(", ", before.GroupBy(r => StateOf(r)).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}"))}); {keptBefore.Count} rows of the other");
        Assert.True(before.Count > 1000, $"only {before.Count} rows");
        Assert.True(remindersBefore > 0, "the failing webhook holds a reminder");

        var clock = Stopwatch.StartNew();
        var tenant = grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(deleted));
        Assert.NotNull(await tenant.DeleteAsync());
        Assert.False((await tenant.GetCredentialsAsync()).Exists);
        var summary = await WaitUntilGoneAsync(tenant, TimeSpan.FromMinutes(3));
        output.WriteLine($"erased in {clock.Elapsed.TotalSeconds:F1} s; last progress: {summary}");

        var after = await run.RowsAsync(deleted);
        var remindersAfter = await run.RemindersAsync(deleted);
        output.WriteLine($"after: {after.Count} rows and {remindersAfter} reminders of the deleted tenant; {(await run.RowsAsync(kept)).Count} rows of the other");
        Assert.Empty(after);
        Assert.Equal(0, remindersAfter);
        Assert.Equal(keptBefore.Select(r => (r.PartitionKey, r.RowKey)), (await run.RowsAsync(kept)).Select(r => (r.PartitionKey, r.RowKey)));
        Assert.True((await grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(kept)).GetCredentialsAsync()).Exists);
        Assert.True(await run.RemindersAsync(kept) > 0);
    }

    [Fact]
    public async Task ATenantDeletedUnderEntraLikeLoadWithASiloKilledLeavesNoRowWhileAnotherLosesNoAcknowledgedWrite()
    {
        const int maxNamesPerWriter = 400;
        await using var run = await StorageRun.StartAsync(silos: 3, graceSeconds: 15);
        var cluster = run.Cluster;
        var grains = cluster.Client;
        var retry = new GrainCallRetry(
            Options.Create(new GrainCallRetryOptions { MaxAttempts = 8, InitialDelayMilliseconds = 200, MaxDelayMilliseconds = 2000 }),
            TimeProvider.System,
            NullLogger<GrainCallRetry>.Instance);

        // Each SCIM request is authenticated as a gateway does it (credential cache, Gateway:TokenCacheSeconds = 2).
        var validator = GatewayAuth.Validator(grains);
        var deletedId = await SeedAsync(grains, "Leaving under load", users: 200, largeGroup: false);
        var keptId = GrainKeys.NewTenantId();
        var tokens = new Dictionary<string, string>
        {
            [deletedId] = (await grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(deletedId)).IssueTokenAsync())!.Secret,
            [keptId] = (await grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(keptId)).CreateAsync("Staying under load"))!.Secret,
        };

        var log = new ConcurrentQueue<Outcome>();
        var refused = new ConcurrentDictionary<string, int>();
        var lastAcknowledged = new ConcurrentDictionary<string, TimeSpan>();
        var clock = Stopwatch.StartNew();
        var deleteAt = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var killed = false;
        var acknowledged = 0;
        var name = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        using var stop = new CancellationTokenSource();

        // Entra's cycle on both tenants until the deletion is over: the deleted tenant's job keeps calling (and is refused).
        async Task WriterAsync(string tenantId, int writer)
        {
            for (var n = 0; n < maxNamesPerWriter && !stop.IsCancellationRequested; n++)
            {
                await Task.Delay(20);
                var userName = $"u{n}.w{writer}.{name}@contoso.com";
                var id = GrainKeys.NewResourceId();
                var user = grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, id));
                var created = await RequestAsync(tenantId, () => user.CreateAsync(FailoverCluster.UserResource(userName, $"ext-{writer}-{n}", "v0")));
                log.Enqueue(new Outcome(tenantId, id, userName, "create", "v0", created));
                if (created != 201)
                {
                    continue;
                }

                if (Interlocked.Increment(ref acknowledged) == 12)
                {
                    deleteAt.TrySetResult(clock.Elapsed);
                }

                var patched = await RequestAsync(tenantId, () => user.PatchAsync("""{"Operations":[{"op":"replace","path":"displayName","value":"v1"}]}"""));
                log.Enqueue(new Outcome(tenantId, id, userName, "patch", "v1", patched));
                if (n % 4 == 3)
                {
                    log.Enqueue(new Outcome(tenantId, id, userName, "delete", null, await RequestAsync(tenantId, () => user.DeleteAsync())));
                }
            }
        }

        // One SCIM request: refused (401, status 0 here) unless the tenant's credentials check out, then the grain call through
        // the gateway's retry policy; null = unknown outcome (a failure outlasting the retries, or the call met the killed silo).
        async Task<int?> RequestAsync(string tenantId, Func<Task<ScimResult>> call)
        {
            try
            {
                // The credential check reads the tenant grain too (every TokenCacheSeconds), which may meet the killed silo:
                // a transient failure there is an unknown outcome (the gateway answers 503), anything else fails the test.
                if (!await validator.AcceptsAsync(tenantId, tokens[tenantId]))
                {
                    refused.AddOrUpdate(tenantId, 1, (_, c) => c + 1);
                    return 0;
                }
            }
            catch (Exception e) when (GrainCallRetry.IsTransient(e))
            {
                output.WriteLine($"unknown outcome of the credential check: {e.GetType().Name}");
                return null;
            }

            try
            {
                var status = (await retry.ExecuteAsync(CallSafety.Idempotent, call)).Status;
                lastAcknowledged[tenantId] = clock.Elapsed;
                return status;
            }
            catch (Exception e) when (GrainCallRetry.IsTransient(e) || Volatile.Read(ref killed))
            {
                output.WriteLine($"unknown outcome: {e.GetType().Name}");
                return null;
            }
        }

        var writers = new[] { deletedId, keptId }.SelectMany(t => Enumerable.Range(0, 2).Select(w => WriterAsync(t, w))).ToList();

        // The deletion, once the load runs; the silo holding the tenant grain is killed once the erase is under way (or, when that
        // is the first silo, which the test cluster needs, another one).
        var tenant = grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(deletedId));
        var deletedAt = await deleteAt.Task.WaitAsync(TimeSpan.FromMinutes(3));
        Assert.NotNull(await retry.ExecuteAsync(CallSafety.Idempotent, tenant.DeleteAsync));
        output.WriteLine($"delete accepted at {clock.Elapsed.TotalSeconds:F1} s, after {Volatile.Read(ref acknowledged)} acknowledged creates");
        while (true)
        {
            var phase = (await retry.ExecuteAsync(CallSafety.Read, tenant.GetSummaryAsync))?.Deletion?.Phase;
            if (phase is null or TenantDeletionPhases.Erasing or TenantDeletionPhases.Verifying or TenantDeletionPhases.Finishing)
            {
                var host = await grains.GetGrain<IManagementGrain>(0).GetActivationAddress(tenant);
                var victim = cluster.Silos.Skip(1).FirstOrDefault(s => s.SiloAddress.Equals(host)) ?? cluster.Silos[^1];
                output.WriteLine($"killing {victim.SiloAddress} ({(victim.SiloAddress.Equals(host) ? "the tenant grain's silo" : "not the tenant grain's silo")}) at {clock.Elapsed.TotalSeconds:F1} s (phase {phase ?? "done"})");
                Volatile.Write(ref killed, true);
                await cluster.KillSiloAsync(victim);
                break;
            }

            await Task.Delay(100);
        }

        var summary = await WaitUntilGoneAsync(tenant, TimeSpan.FromMinutes(4), retry);
        output.WriteLine($"erased at {clock.Elapsed.TotalSeconds:F1} s; last progress: {summary}");
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        var outcomes = log.ToArray();
        foreach (var group in outcomes.GroupBy(o => o.TenantId == deletedId ? "deleted" : "kept"))
        {
            output.WriteLine($"{group.Key} tenant: " + string.Join(", ", group.GroupBy(o => $"{o.Kind} {o.Status switch { null => "unknown", 0 => "401", var s => s.ToString() }}").OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}")));
        }

        output.WriteLine($"the deleted tenant's last acknowledged write ended {(lastAcknowledged[deletedId] - deletedAt).TotalSeconds:F1} s after the delete; {refused.GetValueOrDefault(deletedId)} requests refused");

        // No row and no reminder of the deleted tenant; its requests were refused from a few seconds after the delete on.
        var rows = await run.RowsAsync(deletedId);
        var reminders = await run.RemindersAsync(deletedId);
        output.WriteLine($"after: {rows.Count} rows and {reminders} reminders of the deleted tenant; {(await run.RowsAsync(keptId)).Count} rows of the other");
        Assert.Empty(rows);
        Assert.Equal(0, reminders);
        Assert.True(refused.GetValueOrDefault(deletedId) > 0, "the deleted tenant's requests were never refused");
        Assert.Equal(0, refused.GetValueOrDefault(keptId));

        // The other tenant lost nothing acknowledged, and its indexes agree (FailoverTests' checks).
        Assert.Contains(outcomes, o => o.TenantId == keptId && o.Kind == "create" && o.Status == 201);
        await FailoverTests.AssertTenantAsync(grains, new ResourceQueries(grains), keptId, [.. outcomes.Where(o => o.TenantId == keptId)]);
    }

    // A tenant with what tenants have: users (userName, externalId and work email indexed), some deleted (their rows are
    // deleted with them), groups with members and a nested group, optionally a change of more than one
    // step's members (chunk rows), events over many pages, and a webhook whose receiver never answers (retrying, with a reminder).
    private static async Task<string> SeedAsync(IGrainFactory grains, string name, int users, bool largeGroup)
    {
        var tenantId = GrainKeys.NewTenantId();
        Assert.NotNull(await grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenantId)).CreateAsync(name));
        var ids = new List<string>();
        foreach (var batch in Enumerable.Range(0, users).Chunk(32))
        {
            ids.AddRange(await Task.WhenAll(batch.Select(async i =>
            {
                var id = GrainKeys.NewResourceId();
                var body = ResourceNormalizer.Normalize(
                    new JsonObject
                    {
                        ["userName"] = $"u{i}@{tenantId}.test",
                        ["externalId"] = $"ext-{i}",
                        ["emails"] = new JsonArray(new JsonObject { ["type"] = "work", ["value"] = $"u{i}@{tenantId}.test" }),
                    },
                    ScimSchemas.UserResource).ToJsonString();
                Assert.Equal(201, (await grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, id)).CreateAsync(body)).Status);
                return id;
            })));
        }

        var inner = await CreateGroupAsync(grains, tenantId, "Inner", ids[0], ids[1]);
        await CreateGroupAsync(grains, tenantId, "Outer", ids[2], inner);
        if (largeGroup)
        {
            var group = await CreateGroupAsync(grains, tenantId, "Everyone");
            var add = $$"""{"Operations":[{"op":"add","path":"members","value":[{{string.Join(",", ids.Select(id => $$"""{"value":"{{id}}"}"""))}}]}]}""";
            Assert.Equal(200, (await grains.GetGrain<IGroupGrain>(GrainKeys.Group(tenantId, group)).PatchAsync(add)).Status);
        }

        foreach (var id in ids.Skip(3).Take(5))
        {
            Assert.Equal(204, (await grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, id)).DeleteAsync()).Status);
        }

        var webhook = await grains.GetGrain<IWebhookGrain>(GrainKeys.Webhook(tenantId)).SetAsync($"http://127.0.0.1:{TestPorts.Free()}/hook", null);
        Assert.Null(webhook.Error);
        Assert.Equal(201, (await grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, GrainKeys.NewResourceId())).CreateAsync(
            ResourceNormalizer.Normalize(new JsonObject { ["userName"] = $"late@{tenantId}.test" }, ScimSchemas.UserResource).ToJsonString())).Status);
        return tenantId;
    }

    private static async Task<string> CreateGroupAsync(IGrainFactory grains, string tenantId, string displayName, params string[] members)
    {
        var id = GrainKeys.NewResourceId();
        var body = new JsonObject { ["displayName"] = displayName, ["members"] = new JsonArray([.. members.Select(m => (JsonNode)new JsonObject { ["value"] = m })]) };
        Assert.Equal(201, (await grains.GetGrain<IGroupGrain>(GrainKeys.Group(tenantId, id)).CreateAsync(ResourceNormalizer.Normalize(body, ScimSchemas.GroupResource).ToJsonString())).Status);
        return id;
    }

    // Polls the deletion's progress (as an operator's GET does; a call also revives an activation a killed silo took) until
    // the tenant is gone; returns the last progress seen.
    private static async Task<string> WaitUntilGoneAsync(ITenantGrain tenant, TimeSpan limit, GrainCallRetry? retry = null)
    {
        var clock = Stopwatch.StartNew();
        var last = "";
        while (true)
        {
            TenantSummary? summary;
            try
            {
                summary = retry is null ? await tenant.GetSummaryAsync() : await retry.ExecuteAsync(CallSafety.Read, tenant.GetSummaryAsync);
            }
            catch (Exception e) when (GrainCallRetry.IsTransient(e))
            {
                summary = null;
                last = e.GetType().Name;
                await Task.Delay(500);
                continue;
            }

            if (summary is null)
            {
                return last;
            }

            last = summary.Deletion?.ToString() ?? "not deleting";
            Assert.True(clock.Elapsed < limit, $"The tenant was not erased within {limit}: {last}");
            await Task.Delay(250);
        }
    }

    private static string StateOf(TableEntity row) => row.RowKey.Split('-')[0];

    /// <summary>A cluster on Azurite with its own grain state table and service id (so its reminder rows are its own).</summary>
    private sealed class StorageRun : IAsyncDisposable
    {
        private StorageRun(InProcessTestCluster cluster, string connectionString, string tableName, string serviceId) =>
            (Cluster, ConnectionString, TableName, ServiceId) = (cluster, connectionString, tableName, serviceId);

        public InProcessTestCluster Cluster { get; }

        public string ConnectionString { get; }

        public string TableName { get; }

        public string ServiceId { get; }

        public static async Task<StorageRun> StartAsync(int silos, double graceSeconds)
        {
            var connectionString = AzuriteStorage.ConnectionString;
            await AzuriteProbe.EnsureReachableAsync(connectionString);
            var run = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
            var tableName = "ScimOffboard" + run;
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Storage:Provider"] = "AzureTable",
                ["Storage:ConnectionString"] = connectionString,
                ["Storage:TableName"] = tableName,
            }).AddInMemoryCollection(TestExtension.Settings).AddInMemoryCollection(TestEvents.Settings).AddInMemoryCollection(TestTenants.Settings)
              .AddInMemoryCollection(new Dictionary<string, string?> { [$"{TenantsOptions.SectionName}:{nameof(TenantsOptions.OffboardingGraceSeconds)}"] = graceSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) })
              .Build();
            var builder = new InProcessTestClusterBuilder(initialSilosCount: (short)silos);
            builder.Options.ServiceId = "scim-offboard-" + run;
            builder.ConfigureSilo((_, silo) =>
            {
                silo.AddScimGrains(configuration);
                silo.Configure<ClusterMembershipOptions>(o =>
                {
                    o.ProbeTimeout = TimeSpan.FromSeconds(1);
                    o.NumMissedProbesLimit = 2;
                });
            });
            var cluster = builder.Build();
            await cluster.DeployAsync();
            return new StorageRun(cluster, connectionString, tableName, builder.Options.ServiceId);
        }

        /// <summary>Every row of the grain state table that names the tenant (a tenant id is 128 random bits: no other row holds it).</summary>
        public async Task<List<TableEntity>> RowsAsync(string tenantId)
        {
            var rows = new List<TableEntity>();
            await foreach (var row in new TableServiceClient(ConnectionString).GetTableClient(TableName).QueryAsync<TableEntity>(select: ["PartitionKey", "RowKey"]))
            {
                if (row.PartitionKey.Contains(tenantId, StringComparison.Ordinal) || row.RowKey.Contains(tenantId, StringComparison.Ordinal))
                {
                    rows.Add(row);
                }
            }

            return [.. rows.OrderBy(r => r.PartitionKey, StringComparer.Ordinal).ThenBy(r => r.RowKey, StringComparer.Ordinal)];
        }

        /// <summary>This service's reminder rows that name the tenant.</summary>
        public async Task<int> RemindersAsync(string tenantId) =>
            (await AzuriteStorage.RemindersAsync(ServiceId)).Count(row => row.RowKey.Contains(tenantId, StringComparison.Ordinal));

        public async ValueTask DisposeAsync()
        {
            await Cluster.StopAllSilosAsync();
            await Cluster.DisposeAsync();
            await new TableServiceClient(ConnectionString).GetTableClient(TableName).DeleteAsync();
        }
    }
}
