using Cluster.Abstractions;
using Cluster.Grains.Groups;
using Cluster.Grains.State;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests.Tenants;

/// <summary>
/// Invariant 13 at the grain level (two-silo cluster, memory storage through <see cref="StorageProbe"/>): a delete stops the
/// tenant's credentials at once, answers its progress until the tenant is gone, is idempotent, resumes when its activation is
/// lost, stops background work (webhook delivery, a large group change) through the grains before the sweep, and leaves no
/// row and no reminder of the tenant — while another tenant keeps every row.
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed class TenantOffboardingTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task ADeleteStopsCredentialsAtOnceThenErasesEveryRowAndReminderOfTheTenantAndNothingElse()
    {
        var (deleted, kept) = (await SeedAsync("Offboarded"), await SeedAsync("Kept"));
        var keptRows = StorageProbe.Holding(k => Owns(k, kept));
        Assert.NotEmpty(StorageProbe.Holding(k => Owns(k, deleted)));
        Assert.Contains(await fixture.ReminderKeysAsync(), k => GrainKeys.IsOfTenant(k, deleted)); // the failing webhook holds one

        var tenant = Tenant(deleted);
        var deletion = (await tenant.DeleteAsync())!;
        Assert.Equal(TenantDeletionPhases.Draining, deletion.Phase);

        // From the answer on, the tenant does not exist for anything but its progress.
        Assert.False((await tenant.GetCredentialsAsync()).Exists);
        Assert.Null(await tenant.GetInfoAsync());
        Assert.Null(await tenant.UpdateAsync("Back", false));
        Assert.Null(await tenant.IssueTokenAsync());
        var summary = (await tenant.GetSummaryAsync())!;
        Assert.Equal(("Offboarded", deletion.StartedAt), (summary.Name, summary.Deletion!.StartedAt));
        Assert.Equal(deletion.StartedAt, (await tenant.DeleteAsync())!.StartedAt); // idempotent: the same deletion

        var phases = await WaitUntilGoneAsync(tenant);
        Assert.NotEmpty(phases);
        Assert.Subset(new HashSet<string> { TenantDeletionPhases.Draining, TenantDeletionPhases.Stopping, TenantDeletionPhases.Erasing, TenantDeletionPhases.Verifying, TenantDeletionPhases.Finishing }, phases);
        Assert.Null(await tenant.DeleteAsync());

        Assert.Empty(StorageProbe.Holding(k => Owns(k, deleted)));
        Assert.DoesNotContain(await fixture.ReminderKeysAsync(), k => Owns(k, deleted));
        Assert.Equal(keptRows, StorageProbe.Holding(k => Owns(k, kept)));
        Assert.NotNull(await Grains.GetGrain<IWebhookGrain>(GrainKeys.Webhook(kept)).GetAsync());
        Assert.True((await Tenant(kept).GetCredentialsAsync()).Exists);
    }

    [Fact]
    public async Task ADeletionWhoseActivationIsLostResumesWhenTheTenantIsNextCalled()
    {
        var tenantId = await SeedAsync("Interrupted");
        var tenant = Tenant(tenantId);
        await tenant.DeleteAsync();

        // The next step's write fails, as a crash would lose it: the activation is dropped with its timer.
        var writes = StorageProbe.WritesOf(GrainKeys.Tenant(tenantId));
        StorageProbe.FailNextWrites(GrainKeys.Tenant(tenantId));
        await Eventually.TrueAsync(() => Task.FromResult(StorageProbe.WritesOf(GrainKeys.Tenant(tenantId)) > writes), what: "the failed step");
        await Eventually.TrueAsync(() => Task.FromResult(!fixture.Cluster.TryGetGrainContext(tenant.GetGrainId(), out _)), what: "the activation dropped");

        // Any call brings it back (in production the reminder does, within a minute), and it goes on from its stored progress.
        await WaitUntilGoneAsync(tenant);
        Assert.Empty(StorageProbe.Holding(k => Owns(k, tenantId)));
        Assert.DoesNotContain(await fixture.ReminderKeysAsync(), k => Owns(k, tenantId));
    }

    [Fact]
    public async Task AGroupChangeStillRunningInTheBackgroundIsHaltedThroughTheGroupBeforeTheSweep()
    {
        var tenantId = GrainKeys.NewTenantId();
        await Tenant(tenantId).CreateAsync("Busy");
        var users = await Task.WhenAll(Enumerable.Range(0, GroupGrain.StepSize + 20).Select(i => Grains.CreateUserAsync(tenantId, $"busy{i}@contoso.com")));
        var group = await Grains.CreateGroupAsync(tenantId, "Busy");

        // The change is applied in two steps; the second's write of a partition only it touches is held, so the group's background
        // work is under way (timer and reminder) when the tenant is deleted.
        var ordered = users.OrderBy(GrainKeys.GroupMemberPartitionOf).ThenBy(id => id, StringComparer.Ordinal).ToArray();
        var firstStep = ordered[..GroupGrain.StepSize].Select(GrainKeys.GroupMemberPartitionOf).ToHashSet();
        var held = StorageProbe.HoldNextWrite(GrainKeys.GroupMembers(tenantId, group, ordered[GroupGrain.StepSize..].Select(GrainKeys.GroupMemberPartitionOf).First(p => !firstStep.Contains(p))));
        Assert.Equal(200, (await Grains.Group(tenantId, group).PatchAsync(Groups.AddMembers(users))).Status);
        await held.Started.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains(await fixture.ReminderKeysAsync(), k => k == GrainKeys.Group(tenantId, group));

        await Tenant(tenantId).DeleteAsync();

        // Past the grace period the offboarding asks the group to halt (its next step, a tick later), which waits for the
        // group's step in flight: released only once the tenant has stored that it is stopping, and its step has had time to ask.
        await Eventually.TrueAsync(
            () => Task.FromResult(StorageProbe.LastWrittenState(GrainKeys.Tenant(tenantId), "lifecycle") is TenantLifecycleState { Deletion.Phase: TenantDeletionPhases.Stopping }),
            what: "the offboarding reached its stopping phase");
        await Task.Delay(TimeSpan.FromSeconds(1));
        held.Release();
        await WaitUntilGoneAsync(Tenant(tenantId));

        Assert.Empty(StorageProbe.Holding(k => Owns(k, tenantId)));
        Assert.DoesNotContain(await fixture.ReminderKeysAsync(), k => Owns(k, tenantId));
        Assert.Equal(404, (await Grains.Group(tenantId, group).GetAsync()).Status);
    }

    [Fact]
    public async Task AUserWhoseDeleteWasInterruptedIsHaltedAndWritesNothingAfterTheSweep()
    {
        // The user's delete failed after its tombstone (its events' confirmation failed): it holds the reminder that would
        // finish it. Offboarding stops it through the user (its timer would otherwise tick until the reminder service next
        // reads its table), and a tick that still came would find its row erased and write nothing.
        var tenantId = GrainKeys.NewTenantId();
        await Tenant(tenantId).CreateAsync("Interrupted delete");
        var user = await Grains.CreateUserAsync(tenantId, "tombstoned@contoso.com");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Deletes.FailAfterTombstoneAsync(tenantId, GrainKeys.User(tenantId, user), () => Grains.User(tenantId, user).DeleteAsync());
        Assert.Contains(await fixture.ReminderKeysAsync(), k => k == GrainKeys.User(tenantId, user));

        await Tenant(tenantId).DeleteAsync();
        await WaitUntilGoneAsync(Tenant(tenantId));
        Assert.DoesNotContain(await fixture.ReminderKeysAsync(), k => Owns(k, tenantId));
        if (clock.Elapsed < global::Cluster.Grains.Users.UserGrain.FinishDeleteDue - TimeSpan.FromSeconds(10))
        {
            // Halted: its activation goes at once, long before the reminder's tick could have replaced it.
            await Eventually.TrueAsync(() => Task.FromResult(!fixture.Cluster.TryGetGrainContext(Grains.User(tenantId, user).GetGrainId(), out _)), 5, "the user halted");
        }

        // Past the reminder's first tick, the user wrote nothing more, nor did the tenant's event log.
        int Writes() => StorageProbe.WritesOf(GrainKeys.User(tenantId, user)) + StorageProbe.WritesOf(GrainKeys.EventLog(tenantId));
        var writes = Writes();
        var untilTick = global::Cluster.Grains.Users.UserGrain.FinishDeleteDue + TimeSpan.FromSeconds(10) - clock.Elapsed;
        if (untilTick > TimeSpan.Zero)
        {
            await Task.Delay(untilTick);
        }

        Assert.Equal(writes, Writes());
        Assert.Empty(StorageProbe.Holding(k => Owns(k, tenantId)));
    }

    [Fact]
    public async Task ADropCountThatAGatewayCarriesPastTheOffboardingStartsNoLog()
    {
        // A gateway that could not reach the log carries the count of entries it dropped to its next flush that lands: here,
        // one after the tenant is gone. Until 2026-12-08 that count wrote the log's head again, a row no pass would erase.
        var tenantId = await SeedAsync("Carried");
        var tenant = Tenant(tenantId);
        await tenant.DeleteAsync();
        await WaitUntilGoneAsync(tenant);
        Assert.Empty(StorageProbe.Holding(k => Owns(k, tenantId)));

        var log = Grains.GetGrain<IRequestLogGrain>(GrainKeys.RequestLog(tenantId));
        await fixture.Cluster.DeactivateAsync(log);
        await log.AppendAsync([], 3);

        Assert.Empty(StorageProbe.Holding(k => Owns(k, tenantId)));
        Assert.DoesNotContain(await fixture.ReminderKeysAsync(), k => Owns(k, tenantId));
        Assert.Empty((await log.ReadAsync(new RequestLogQuery(null, 10, null, null))).Entries);
    }

    // A tenant with what tenants have: users (indexed by userName, externalId and work email), groups with members and a nested
    // group, events, a provisioning log, and a webhook whose receiver never answers (so it retries, holding a reminder).
    private async Task<string> SeedAsync(string name)
    {
        var tenantId = GrainKeys.NewTenantId();
        Assert.NotNull(await Tenant(tenantId).CreateAsync(name));
        var users = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Grains.CreateUserAsync(tenantId, $"u{i}@{name}.test", $"ext-{i}", $"u{i}@{name}.test")));
        var inner = await Grains.CreateGroupAsync(tenantId, "Inner", users[0], users[1]);
        await Grains.CreateGroupAsync(tenantId, "Outer", users[2], inner);
        Assert.Equal(204, (await Grains.User(tenantId, users[5]).DeleteAsync()).Status);
        var webhook = await Grains.GetGrain<IWebhookGrain>(GrainKeys.Webhook(tenantId)).SetAsync($"http://127.0.0.1:{TestPorts.Free()}/hook", null);
        Assert.Null(webhook.Error);
        await Grains.CreateUserAsync(tenantId, $"late@{name}.test");

        // A provisioning log of more than one page (page rows, the head, a retention reminder).
        var log = Grains.GetGrain<IRequestLogGrain>(GrainKeys.RequestLog(tenantId));
        var at = DateTimeOffset.UtcNow;
        await log.AppendAsync([.. Enumerable.Range(0, 150).Select(i => new RequestLogEntry(0, at.AddMilliseconds(i), "GET", RequestLogOperations.Lookup, "User", users[0], null, i % 9 == 0 ? 404 : 200, null, null, 1.5, false, null))], 0);
        Assert.NotEmpty((await log.ReadAsync(new RequestLogQuery(null, 10, null, null))).Entries);
        await Eventually.TrueAsync(async () => (await fixture.ReminderKeysAsync()).Contains(GrainKeys.Webhook(tenantId)), what: "the webhook retrying");
        return tenantId;
    }

    // Polls the progress until the tenant is gone; returns the phases seen.
    private static async Task<HashSet<string>> WaitUntilGoneAsync(ITenantGrain tenant)
    {
        var phases = new HashSet<string>(StringComparer.Ordinal);
        await Eventually.TrueAsync(
            async () =>
            {
                var summary = await tenant.GetSummaryAsync();
                if (summary?.Deletion is { } deletion)
                {
                    phases.Add(deletion.Phase);
                }

                return summary is null;
            },
            seconds: 60,
            what: "the tenant erased");
        return phases;
    }

    private ITenantGrain Tenant(string tenantId) => Grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenantId));

    private static bool Owns(string key, string tenantId) => key == tenantId || GrainKeys.IsOfTenant(key, tenantId);
}
