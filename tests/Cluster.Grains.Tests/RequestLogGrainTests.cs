using Cluster.Abstractions;
using Cluster.Grains.RequestLog;
using Cluster.Grains.State;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Cluster.Grains.Tests;

/// <summary>
/// Issue 14's provisioning log at the grain level: bounded page rows, newest-first reads by cursor with a bounded scan for
/// filtered reads, the status in the head, erasing in bounded steps for offboarding, and the disabled-user count the event log
/// keeps for the status.
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed class RequestLogGrainTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task EntriesGoToBoundedPageRowsAndAreReadNewestFirstByCursor()
    {
        var tenantId = GrainKeys.NewTenantId();
        var log = Grains.GetGrain<IRequestLogGrain>(GrainKeys.RequestLog(tenantId));
        var start = DateTimeOffset.UtcNow;
        for (var batch = 0; batch < 6; batch++)
        {
            await log.AppendAsync([.. Enumerable.Range(batch * 50, 50).Select(i => Entry(start.AddMilliseconds(i), i % 7 == 0 ? 404 : 200, $"r{i % 5}"))], 0);
        }

        // 300 entries: four full page rows of 64, each written once, after a write of the head that holds its entries. The
        // head records the pages written after its last write at its next one: it still holds the fourth page and 44 more.
        var head = Assert.IsType<RequestLogState>(StorageProbe.LastWrittenState(GrainKeys.RequestLog(tenantId), "requests"));
        Assert.Equal((301L, 192L, 108), (head.Next, head.SealedThrough, head.Tail.Count));
        for (var page = 0; page < 4; page++)
        {
            var row = Assert.IsType<RequestLogPageState>(StorageProbe.LastWrittenState(GrainKeys.RequestLogPage(tenantId, page), "page"));
            Assert.Equal(Enumerable.Range((page * 64) + 1, 64).Select(i => (long)i), row.Entries.Select(e => e.Sequence));
            Assert.Equal(1, StorageProbe.WritesOf(GrainKeys.RequestLogPage(tenantId, page)));
        }

        Assert.Null(StorageProbe.LastWrittenState(GrainKeys.RequestLogPage(tenantId, 4), "page"));

        var first = await log.ReadAsync(new RequestLogQuery(null, 200, null, null));
        Assert.Equal(Enumerable.Range(101, 200).Reverse().Select(i => (long)i), first.Entries.Select(e => e.Sequence));
        Assert.Equal((101L, true), (first.NextCursor, first.HasMore));
        var second = await log.ReadAsync(new RequestLogQuery(first.NextCursor, 200, null, null));
        Assert.Equal(Enumerable.Range(1, 100).Reverse().Select(i => (long)i), second.Entries.Select(e => e.Sequence));
        Assert.Equal(((long?)null, false), (second.NextCursor, second.HasMore));

        // Entries keep what was appended (times, codes, the name); the sequence is the log's.
        Assert.Equal(Entry(start.AddMilliseconds(0), 404, "r0") with { Sequence = 1 }, second.Entries[^1]);

        // Filters: by outcome, by resource; the status comes from the head.
        var errors = await log.ReadAsync(new RequestLogQuery(null, 200, RequestLogOutcomes.Error, null));
        Assert.Equal(Enumerable.Range(0, 300).Where(i => i % 7 == 0).Reverse().Select(i => (long)i + 1), errors.Entries.Select(e => e.Sequence));
        Assert.False(errors.HasMore);
        var r3 = await log.ReadAsync(new RequestLogQuery(null, 10, null, "r3"));
        Assert.All(r3.Entries, e => Assert.Equal("r3", e.ResourceId));
        Assert.Equal(10, r3.Entries.Length);
        var status = await log.GetStatusAsync();
        Assert.Equal((start.AddMilliseconds(299), start.AddMilliseconds(294), 295L), (status.LastRequestAt, status.LastError!.At, status.LastError.Sequence));
    }

    /// <summary>
    /// The head is the commit point, the pages follow it: a page write that fails loses nothing (the head holds the page's
    /// entries), is written again (by the retention pass the append scheduled, or before the next write of the head), and
    /// fails that append if it fails again, so the head never holds more than an open page and one append's pages.
    /// </summary>
    [Fact]
    public async Task APageThatFailsToWriteIsWrittenAgainBeforeTheNextAppendAndNothingIsLost()
    {
        var tenantId = GrainKeys.NewTenantId();
        var log = Grains.GetGrain<IRequestLogGrain>(GrainKeys.RequestLog(tenantId));
        var start = DateTimeOffset.UtcNow;
        RequestLogEntry At(int i, string? resourceId = null) => Entry(start.AddMilliseconds(i), 200, resourceId);
        var (first, second) = (GrainKeys.RequestLogPage(tenantId, 0), GrainKeys.RequestLogPage(tenantId, 1));

        // The first page's write fails once: its 64 entries stay in the head, and the retention pass writes the page.
        StorageProbe.FailNextWrites(first);
        await log.AppendAsync([.. Enumerable.Range(0, 70).Select(i => At(i))], 0);
        Assert.Equal(70, (await log.ReadAsync(new RequestLogQuery(null, 200, null, null))).Entries.Length);
        await Eventually.TrueAsync(
            () => Task.FromResult(StorageProbe.LastWrittenState(first, "page") is RequestLogPageState { Entries.Count: 64 }), what: "the first page written");

        // The second page's write fails twice: after its append, and again before the next one, which fails.
        StorageProbe.FailNextWrites(second, times: 2);
        await log.AppendAsync([.. Enumerable.Range(70, 60).Select(i => At(i))], 0);
        await Assert.ThrowsAnyAsync<Exception>(() => log.AppendAsync([At(130, "refused")], 0));
        var head = Assert.IsType<RequestLogState>(StorageProbe.LastWrittenState(GrainKeys.RequestLog(tenantId), "requests"));
        Assert.Equal((131L, 64L, 66), (head.Next, head.SealedThrough, head.Tail.Count));

        await log.AppendAsync([At(131, "stored")], 0);
        Assert.Equal(64, Assert.IsType<RequestLogPageState>(StorageProbe.LastWrittenState(second, "page")).Entries.Count);
        head = Assert.IsType<RequestLogState>(StorageProbe.LastWrittenState(GrainKeys.RequestLog(tenantId), "requests"));
        Assert.Equal((132L, 128L, 3), (head.Next, head.SealedThrough, head.Tail.Count));
        var all = (await log.ReadAsync(new RequestLogQuery(null, 200, null, null))).Entries;
        Assert.Equal(Enumerable.Range(1, 131).Reverse().Select(i => (long)i), all.Select(e => e.Sequence));
        Assert.DoesNotContain(all, e => e.ResourceId == "refused");
    }

    [Fact]
    public async Task AFilteredReadExaminesABoundedNumberOfPagesAndGoesOnFromItsCursor()
    {
        var tenantId = GrainKeys.NewTenantId();
        var log = Grains.GetGrain<IRequestLogGrain>(GrainKeys.RequestLog(tenantId));
        var start = DateTimeOffset.UtcNow;

        // 2,000 entries; only the oldest ten are errors.
        for (var batch = 0; batch < 2; batch++)
        {
            await log.AppendAsync([.. Enumerable.Range(batch * 1000, 1000).Select(i => Entry(start.AddMilliseconds(i), i < 10 ? 500 : 201, "r"))], 0);
        }

        var cursor = (long?)null;
        var reads = 0;
        var found = new List<RequestLogEntry>();
        do
        {
            var page = await log.ReadAsync(new RequestLogQuery(cursor, 50, RequestLogOutcomes.Error, null));
            found.AddRange(page.Entries);
            if (page.HasMore)
            {
                // Each read examines at most the head (an open page, and the pages of its last append until its next write
                // records them as written) and MaxPagesPerRead page rows, then hands back where it stopped.
                var head = RequestLogGrain.PageSize + IRequestLogGrain.MaxEntriesPerAppend;
                Assert.True((cursor ?? 2001) - page.NextCursor <= (RequestLogGrain.MaxPagesPerRead * RequestLogGrain.PageSize) + head);
            }

            cursor = page.NextCursor;
            reads++;
        }
        while (cursor is not null && reads < 10);

        Assert.Equal(Enumerable.Range(1, 10).Reverse().Select(i => (long)i), found.Select(e => e.Sequence));
        Assert.Equal(2, reads);
    }

    [Fact]
    public async Task EraseRemovesEveryRowInBoundedStepsAndIgnoresAppendsMeanwhile()
    {
        var tenantId = GrainKeys.NewTenantId();
        var log = Grains.GetGrain<IRequestLogGrain>(GrainKeys.RequestLog(tenantId));
        var start = DateTimeOffset.UtcNow;
        var pages = RequestLogGrain.ErasePagesPerCall + 10;
        for (var batch = 0; batch < pages * RequestLogGrain.PageSize / 1000 + 1; batch++)
        {
            await log.AppendAsync([.. Enumerable.Range(batch * 1000, 1000).Select(i => Entry(start.AddMilliseconds(i), 200, null))], 3);
        }

        Assert.NotNull(StorageProbe.LastWrittenState(GrainKeys.RequestLogPage(tenantId, pages - 1), "page"));
        Assert.Equal(3 * ((pages * RequestLogGrain.PageSize / 1000) + 1), (await log.GetStatusAsync()).DroppedEntries);

        Assert.False(await log.EraseAsync());
        await log.AppendAsync([Entry(start, 200, "late")], 0);
        Assert.DoesNotContain((await log.ReadAsync(new RequestLogQuery(null, 200, null, null))).Entries, e => e.ResourceId == "late");
        Assert.True(await log.EraseAsync());

        for (var page = 0; page < pages; page++)
        {
            Assert.Null(StorageProbe.LastWrittenState(GrainKeys.RequestLogPage(tenantId, page), "page"));
        }

        Assert.Null(StorageProbe.LastWrittenState(GrainKeys.RequestLog(tenantId), "requests"));
        Assert.Empty((await log.ReadAsync(new RequestLogQuery(null, 200, null, null))).Entries);
        Assert.Equal(new RequestLogStatus(null, null, null, null, 0), await log.GetStatusAsync());
    }

    [Fact]
    public async Task TheEventLogCountsDisabledUsersFromCommittedChanges()
    {
        var tenantId = GrainKeys.NewTenantId();
        var count = Grains.GetGrain<IDisabledUserCount>(GrainKeys.EventLog(tenantId));
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add(await Grains.CreateUserAsync(tenantId, $"d{i}@contoso.com"));
        }

        async Task Active(string id, string value) =>
            Assert.Equal(200, (await Grains.User(tenantId, id).PatchAsync(
                $$"""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":{{value}}}]}""", null)).Status);

        await Active(ids[0], "\"False\"");
        await Active(ids[1], "false");
        await Active(ids[1], "false"); // no change, no event
        await Active(ids[2], "\"False\"");
        await Active(ids[2], "\"True\"");
        Assert.Equal(2, await count.GetDisabledUsersAsync());

        // A user created disabled counts; deleting a disabled user uncounts it; deleting an active one changes nothing.
        var disabled = GrainKeys.NewResourceId();
        var resource = System.Text.Json.Nodes.JsonNode.Parse(Users.Resource("created.off@contoso.com"))!.AsObject();
        resource["active"] = false;
        Assert.Equal(201, (await Grains.User(tenantId, disabled).CreateAsync(resource.ToJsonString())).Status);
        Assert.Equal(3, await count.GetDisabledUsersAsync());
        Assert.Equal(204, (await Grains.User(tenantId, ids[0]).DeleteAsync(null)).Status);
        Assert.Equal(204, (await Grains.User(tenantId, ids[3]).DeleteAsync(null)).Status);
        Assert.Equal(2, await count.GetDisabledUsersAsync());

        // The count is stored with the feed's head: it survives the log's deactivation.
        var head = Assert.IsType<EventLogState>(StorageProbe.LastWrittenState(GrainKeys.EventLog(tenantId), "events"));
        Assert.InRange(head.DisabledUsers, 1, 2);
    }

    private static RequestLogEntry Entry(DateTimeOffset at, int status, string? resourceId) =>
        new(0, at, "GET", RequestLogOperations.Lookup, "User", resourceId, resourceId is null ? null : "name-" + resourceId, status, status >= 400 ? "invalidValue" : null, status >= 400 ? "detail" : null, 1.5, false, "req");
}

/// <summary>
/// Retention (<c>Portal:LogRetentionDays</c>) on a silo of its own whose clock the test moves: expired page rows, expired
/// entries of the open page and an expired last error are erased; the reminder ends once nothing is left.
/// </summary>
public sealed class RequestLogRetentionTests
{
    [Fact]
    public async Task ExpiredPagesEntriesAndTheLastErrorAreErased()
    {
        var clock = new MovableTime();
        var cluster = await StartAsync(clock);
        try
        {
            var tenantId = GrainKeys.NewTenantId();
            var log = cluster.Client.GetGrain<IRequestLogGrain>(GrainKeys.RequestLog(tenantId));
            RequestLogEntry Entry(int i, int status) => new(0, clock.GetUtcNow().AddMilliseconds(i), "PATCH", RequestLogOperations.Update, "User", "u", "n", status, null, null, 2, false, null);

            // Day 0: 200 entries (three page rows and 8 in the head), the last one an error.
            await log.AppendAsync([.. Enumerable.Range(0, 200).Select(i => Entry(i, i == 199 ? 409 : 200))], 0);

            // Day 0.6: 100 more; day 1.2: the first 200 have expired.
            clock.Advance(TimeSpan.FromDays(0.6));
            await log.AppendAsync([.. Enumerable.Range(0, 100).Select(i => Entry(i, 200))], 0);
            clock.Advance(TimeSpan.FromDays(0.6));
            Assert.Equal(100, (await log.ReadAsync(new RequestLogQuery(null, 200, null, null))).Entries.Length);
            Assert.Null((await log.GetStatusAsync()).LastError);

            // The next append lets retention run (off its turn); the first three page rows go, the head moves on.
            await log.AppendAsync([Entry(0, 200)], 0);
            await WaitUntilAsync(() => StorageProbe.LastWrittenState(GrainKeys.RequestLogPage(tenantId, 2), "page") is null);
            for (var page = 0; page < 3; page++)
            {
                Assert.Null(StorageProbe.LastWrittenState(GrainKeys.RequestLogPage(tenantId, page), "page"));
            }

            await WaitUntilAsync(() => StorageProbe.LastWrittenState(GrainKeys.RequestLog(tenantId), "requests") is RequestLogState { First: 193, LastError: null });
            var left = await log.ReadAsync(new RequestLogQuery(null, 200, null, null));
            Assert.Equal(101, left.Entries.Length);
            Assert.False(left.HasMore);

            // Day 3: everything has expired; a retention pass leaves an empty head and ends the reminder.
            clock.Advance(TimeSpan.FromDays(1.8));
            await log.AppendAsync([], dropped: 1);
            await WaitUntilAsync(() => StorageProbe.LastWrittenState(GrainKeys.RequestLog(tenantId), "requests") is RequestLogState { Tail.Count: 0, Reminder: false });
            var head = (RequestLogState)StorageProbe.LastWrittenState(GrainKeys.RequestLog(tenantId), "requests")!;
            Assert.Equal((302L, 302L), (head.First, head.Next));
            Assert.Empty((await log.ReadAsync(new RequestLogQuery(null, 200, null, null))).Entries);
            for (var page = 0; page < 5; page++)
            {
                Assert.Null(StorageProbe.LastWrittenState(GrainKeys.RequestLogPage(tenantId, page), "page"));
            }

            // The status keeps the times (no personal data), not the expired error.
            var status = await log.GetStatusAsync();
            Assert.NotNull(status.LastRequestAt);
            Assert.Null(status.LastError);
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task ABacklogOfExpiredPagesIsErasedInPassesOfAtMostSixteenPages()
    {
        var clock = new MovableTime();
        var cluster = await StartAsync(clock);
        try
        {
            var tenantId = GrainKeys.NewTenantId();
            var log = cluster.Client.GetGrain<IRequestLogGrain>(GrainKeys.RequestLog(tenantId));
            RequestLogEntry Entry(int i) => new(0, clock.GetUtcNow().AddMilliseconds(i), "GET", RequestLogOperations.Lookup, "User", null, null, 200, null, null, 1, false, null);

            // 40 pages of entries, then a day and more: all of them have expired.
            for (var batch = 0; batch < 10; batch++)
            {
                await log.AppendAsync([.. Enumerable.Range(0, 4 * RequestLogGrain.PageSize).Select(Entry)], 0);
            }

            await WaitUntilAsync(() => StorageProbe.LastWrittenState(GrainKeys.RequestLogPage(tenantId, 39), "page") is not null);
            clock.Advance(TimeSpan.FromDays(1.2));
            var headWrites = StorageProbe.WritesOf(GrainKeys.RequestLog(tenantId));
            await log.AppendAsync([Entry(0)], 0);

            // Every page goes, in passes of at most 16: the head is written by the append, then by each of three passes
            // (16, 16 and 8 pages; it was one pass of all 40).
            await WaitUntilAsync(() => StorageProbe.LastWrittenState(GrainKeys.RequestLog(tenantId), "requests") is RequestLogState { First: (40 * RequestLogGrain.PageSize) + 1 });
            Assert.True(StorageProbe.WritesOf(GrainKeys.RequestLog(tenantId)) - headWrites >= 4, $"{StorageProbe.WritesOf(GrainKeys.RequestLog(tenantId)) - headWrites} head writes");
            Assert.All(Enumerable.Range(0, 40), page => Assert.Null(StorageProbe.LastWrittenState(GrainKeys.RequestLogPage(tenantId, page), "page")));
            Assert.Single((await log.ReadAsync(new RequestLogQuery(null, 200, null, null))).Entries);
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    // A silo whose clock the test moves, with a retention window of one day and its storage probed.
    private static async Task<InProcessTestCluster> StartAsync(MovableTime clock)
    {
        var builder = new InProcessTestClusterBuilder(initialSilosCount: 1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton<TimeProvider>(clock);
            silo.AddScimGrains(new ConfigurationBuilder()
                .AddConfiguration(ClusterFixture.MemoryStorage())
                .AddInMemoryCollection(new Dictionary<string, string?> { ["Portal:LogRetentionDays"] = "1" })
                .Build());
            StorageProbe.Install(silo.Services);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        await Eventually.TrueAsync(() => Task.FromResult(condition()), what: "retention ran");
        Assert.True(condition(), "retention did not run");
    }

    /// <summary>The system clock plus an offset the test moves forward (timers still run on real time).</summary>
    private sealed class MovableTime : TimeProvider
    {
        private long _offsetTicks;

        public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
    }
}
