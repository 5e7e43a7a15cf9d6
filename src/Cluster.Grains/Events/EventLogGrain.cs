using System.Text;
using Cluster.Grains.State;

namespace Cluster.Grains.Events;

/// <summary>
/// A tenant's event feed (docs/architecture.md, "Events"). Resources hand their events over in two phases around their own
/// storage write: <see cref="PrepareAsync"/> before it stores them durably under new sequence numbers, not yet readable;
/// <see cref="ConfirmAsync"/> after it makes them readable. A prepared commit that is never confirmed — its resource's process
/// died, or the log's did and forgot the confirmation — is resolved by asking the resource whether its write reached
/// storage (<see cref="IEventSourceGrain.ResolveEventsAsync"/>): committed, its events stay; not, they are discarded and
/// readers skip their numbers. Readers see everything before the first unresolved commit, so no reader ever passes an
/// event that could still appear: the feed only grows at its end.
/// </summary>
/// <remarks>
/// Storage: the head (this grain's row) holds the counter, the prepared commits and the events of the open page; every full
/// page of <see cref="PageSize"/> sequence numbers is written to its own row (<see cref="IEventPageGrain"/>), so reading
/// a page costs one row whatever the feed's length, and retention drops whole pages.
/// <para>
/// The head is the commit point: events reach storage in a head write first, and a page is written only from a head that
/// storage has accepted (<see cref="WritePagesAsync"/>); the next head write records it and drops its events from the head.
/// So an activation working on an outdated head — two activations of this grain while a silo that was declared dead still
/// runs — never writes a page: storage refuses its head write (ETag) first, and the activation is replaced.
/// </para>
/// <para>
/// Group commit: prepares interleave, and those that arrive while the head is being written are stored together by the next
/// write, in the order they arrived — one head write per batch instead of one per change, so a tenant's write rate is not
/// capped by one storage round trip per change. Every head write, a batch or any other, goes through <see cref="_writer"/>,
/// one at a time; a prepare is answered as soon as the head holding it is stored, and the full pages it filled are written
/// beside the next batch (<see cref="WritePagesSoon"/>), never on a SCIM write's path.
/// </para>
/// </remarks>
public sealed partial class EventLogGrain(
    [PersistentState("events", StorageNames.Default)] IPersistentState<EventLogState> state,
    Microsoft.Extensions.Options.IOptions<EventsOptions> options,
    EventInstruments instruments,
    TimeProvider time,
    ILogger<EventLogGrain> logger) : Grain, IEventLogGrain, IRemindable, IDisposable
{
    /// <summary>Sequence numbers per page row.</summary>
    public const int PageSize = 16;

    /// <summary>Most events one read returns.</summary>
    public const int MaxReadLimit = 1000;

    // Most bytes of events one head write takes from the queue (at least one prepare, whatever its size), as stored
    // (QueuedPrepare.Bytes), so that the head row, which also holds the open page's events (at most 15, each at most twice
    // ScimResource.MaxStoredBytes), stays inside what Orleans' table storage writes (960 KiB): 15 × 32 KiB + 256 KiB + one
    // prepare beyond the bound. Full pages whose rows are still being written (beside the next batch) take from the bound
    // (UnpagedBytes), and once they alone reach it the next batch waits for their rows (WriteQueuedAsync).
    private const int MaxBatchBytes = 256 * 1024;

    // A prepared commit is asked about once it is this old (its confirmation normally follows within milliseconds).
    private static readonly TimeSpan ResolveAfter = TimeSpan.FromSeconds(3);

    // When every prepared commit the head lists is confirmed (in memory) and none is newer than this, the head is written
    // once without them, so the resolver can stop and an idle tenant's log be collected (it was kept alive by the
    // resolver's timer until the tenant's next write).
    private static readonly TimeSpan SettleAfter = TimeSpan.FromSeconds(10);

    // Retention is checked on activation and then at most this often (a tenth of the window when that is shorter).
    private static readonly TimeSpan RetentionCheckPeriod = TimeSpan.FromHours(1);

    // Most pages one retention pass erases while it holds the writer (each a read and a clear, with every prepare of the
    // tenant waiting): a backlog of expired pages — a month after a tenant's first sync of 100,000 users, thousands — is
    // erased in passes a second apart, so no SCIM write waits on more than one pass.
    private const int MaxPagesPerRetentionPass = 16;

    private readonly CommittedState<EventLogState> _state = new(state);

    // One head write at a time: prepares interleave with each other and with every other call.
    private readonly SemaphoreSlim _writer = new(1, 1);

    // Prepares waiting for the next head write (the batch the next writer takes).
    private List<QueuedPrepare> _queued = [];

    // Prepared commits confirmed since the head was last written: readable now, dropped from the head by its next write.
    private readonly HashSet<string> _confirmed = new(StringComparer.Ordinal);

    // Commits this activation confirmed durably (stored as committed by the write that confirmation made), the newest
    // StoredKept: a durable confirmation of one of them again needs no write (ConfirmAsync).
    private const int StoredKept = 256;
    private readonly HashSet<string> _stored = new(StringComparer.Ordinal);
    private readonly Queue<string> _storedOrder = new();

    // Pages written from the committed head that it does not record yet: the next head write records them (SealedThrough).
    private long _pagesWrittenThrough;

    // Every page up to here has its row: recorded by the committed head, or written since (the next head write records it).
    private long PagedThrough => Math.Max(_state.Value.SealedThrough, _pagesWrittenThrough);

    // The pass of page writes under way (WritePagesSoon), and whether a head written meanwhile asks for another.
    private Task _paging = Task.CompletedTask;
    private bool _pagesDue;

    private string _tenantId = "";
    private IGrainTimer? _resolver;
    private IGrainTimer? _retention;

    // The webhook has been told that events up to here are readable (this activation only: a new one tells it again).
    private long _notified;
    private bool _notifying;
    private IGrainTimer? _notifier;
    private DateTimeOffset _retentionCheckedAt = DateTimeOffset.MinValue;

    // Set by HaltAsync (the tenant is being erased): no timer is started any more, also not by a batch in flight then.
    private bool _halted;

    private const string WakeReminderName = "event-log-wake";
    private HeldReminder? _wake;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _tenantId = GrainKeys.TenantOfKey(this.GetPrimaryKeyString());
        ScheduleRetention(TimeSpan.Zero);
        if (_state.Value.Prepared.Count > 0)
        {
            // Confirmations held only in memory by the previous activation are gone: ask the resources.
            StartResolver();
        }

        NotifyWebhook();
        return Task.CompletedTask;
    }

    public void Dispose() => _writer.Dispose();

    public async Task<long> PrepareAsync(EventSource source, ScimEvent[] events)
    {
        var queued = new QueuedPrepare(source, events);
        _queued.Add(queued);
        using var answered = new CancellationTokenSource();
        var writer = _writer.WaitAsync(answered.Token);
        if (await Task.WhenAny(writer, queued.First.Task) != writer)
        {
            // Another prepare's write took this one along: answered as soon as the head is stored, not when that writer is done.
            await answered.CancelAsync();
            try
            {
                await writer;
                _writer.Release(); // taken in the same moment after all
            }
            catch (OperationCanceledException)
            {
            }

            return await queued.First.Task;
        }

        try
        {
            // Unless a write that finished took this prepare along, this one writes the prepares queued so far, a batch at a
            // time, until its own is stored (or failed).
            while (!queued.First.Task.IsCompleted)
            {
                await WriteQueuedAsync();
            }
        }
        finally
        {
            _writer.Release();
        }

        return await queued.First.Task;
    }

    // Under _writer: stores the queued prepares (up to MaxBatchBytes of events, in arrival order) with one write of the head;
    // each learns its first sequence number, or the failure. Then writes the pages that head filled.
    private async Task WriteQueuedAsync()
    {
        var unpaged = UnpagedBytes();
        if (unpaged >= MaxBatchBytes && !_paging.IsCompleted)
        {
            // The row would outgrow its bound (a full page of the largest events alone is twice a batch's bytes): this batch
            // waits for the pass writing the page rows. A slow page row then slows the tenant's writes, as it always did. A
            // pass that fails (a row refused, or stalled beyond the grain call's timeout) leaves the pages unwritten: the
            // batch then takes one prepare, and the row grows by one prepare per pass until they are written.
            await _paging;
            unpaged = UnpagedBytes();
        }

        var batch = TakeBatch(MaxBatchBytes - unpaged);
        var now = time.GetUtcNow();
        long[] firsts;
        try
        {
            var next = Working();
            firsts = [.. batch.Select(q => Append(next, q.Source, q.Events, now))];
            await WriteAsync(next);
        }
        catch (Exception e)
        {
            foreach (var q in batch)
            {
                q.First.TrySetException(e);
            }

            return;
        }

        // Stored: every prepare of the batch learns so first, whatever the bookkeeping below does.
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].First.TrySetResult(firsts[i]);
        }

        foreach (var queued in batch)
        {
            instruments.Appended(queued.Events);
        }

        WritePagesSoon();
        StartResolver();
        NotifyWebhook();
        if (now - _retentionCheckedAt >= RetentionPeriod)
        {
            // Off this request's path: the next turn of the grain.
            ScheduleRetention(TimeSpan.Zero);
        }
    }

    private void ScheduleRetention(TimeSpan due)
    {
        if (_retention is not null || _halted)
        {
            return;
        }

        _retention = this.RegisterGrainTimer(async _ =>
        {
            _retention?.Dispose();
            _retention = null;
            await ApplyRetentionAsync();
        }, due, Timeout.InfiniteTimeSpan);
    }

    private List<QueuedPrepare> TakeBatch(long budget)
    {
        var (taken, bytes) = (0, 0L);
        while (taken < _queued.Count && (taken == 0 || bytes + _queued[taken].Bytes <= budget))
        {
            bytes += _queued[taken++].Bytes;
        }

        var batch = _queued[..taken];
        _queued.RemoveRange(0, taken);
        return batch;
    }

    // What the head holds beyond its open page: the events of full pages whose rows are not written yet (a page pass under
    // way beside this batch, or one that failed), counted as QueuedPrepare.Bytes counts them. A batch takes its bytes from
    // its budget, so the head stays inside the row's limit although pages are written beside the next batch.
    private long UnpagedBytes()
    {
        var head = _state.Value;
        var paged = PagedThrough;
        var full = (head.Next - 1) / PageSize * PageSize;
        return full <= paged ? 0 : head.Tail.Where(e => e.Sequence > paged && e.Sequence <= full)
            .Sum(e => QueuedPrepare.EventBytes(e.Data, e.Changed));
    }

    // Adds one prepared commit to the next head, resolving the resource's earlier attempts by what its prepare says it has
    // stored (IEventLogGrain.PrepareAsync); returns the sequence number of its first event.
    private static long Append(EventLogState next, EventSource source, ScimEvent[] events, DateTimeOffset now)
    {
        foreach (var earlier in next.Prepared.Where(p => KeyOf(p) == source.ResourceKey).ToArray())
        {
            switch (FateOf(earlier, source))
            {
                case EventResolution.Committed:
                    next.Prepared.Remove(earlier);
                    (next.Users, next.Groups) = (next.Users + earlier.Users, next.Groups + earlier.Groups);
                    break;
                case EventResolution.Aborted:
                    Discard(next, earlier);
                    break;
            }
        }

        var from = next.Next;
        for (var i = 0; i < events.Length; i++)
        {
            next.Tail.Add(Store(events[i] with { Sequence = from + i }));
        }

        next.Next += events.Length;
        next.Prepared.Add(new PreparedCommit
        {
            ResourceType = source.ResourceType,
            ResourceId = source.ResourceId,
            Version = source.Version,
            Step = source.Step,
            From = from,
            Count = events.Length,
            PreparedAt = now,
            Users = Delta(events, ScimEventTypes.UserCreated, ScimEventTypes.UserDeleted),
            Groups = Delta(events, ScimEventTypes.GroupCreated, ScimEventTypes.GroupDeleted),
            DisabledUsers = DisabledUsersDelta(events),
        });
        return from;
    }

    // What a resource's new prepare says of one of its earlier attempts. With the resource's last commit with events as stored
    // (source.Committed): that attempt landed; any other at or before that commit did not (one attempt of a commit lands, and
    // the prepare after a landed attempt names it); one after it is another activation's, still unknown (Pending: it stays).
    // Without (a record stored before attempts were): the resource moved on from an earlier commit, so it landed; the same
    // commit prepared again means its earlier write never did.
    private static EventResolution FateOf(PreparedCommit earlier, EventSource source)
    {
        if (source.Committed is { IsKnown: true } committed)
        {
            return committed == AttemptOf(earlier) ? EventResolution.Committed
                : committed.IsAtOrAfter(earlier.Version, earlier.Step) ? EventResolution.Aborted
                : EventResolution.Pending;
        }

        return source.IsAfter(SourceOf(earlier)) ? EventResolution.Committed : EventResolution.Aborted;
    }

    private TimeSpan Retention => TimeSpan.FromDays(options.Value.RetentionDays);

    private TimeSpan RetentionPeriod => Retention / 10 < RetentionCheckPeriod ? Retention / 10 : RetentionCheckPeriod;

    public async Task ConfirmAsync(EventSource source, long? first, bool durable)
    {
        if (PreparedOf(_state.Value, source, first) is not { } prepared)
        {
            // Already resolved (a later prepare of the resource, or a resolution that asked first), or an earlier attempt's;
            // or this activation is outdated: a second activation of the log (its silo declared dead while it runs) took
            // the prepare, and this one's head predates it. A durable confirmation lets its caller erase what a resolution
            // would ask about (a deleted resource's row), so unless this activation confirmed the commit durably itself (a
            // group's delete step confirming again what its DELETE confirmed), it is answered only by a head that storage
            // has not moved past: the write is ETag-checked, an outdated activation's fails and goes, and the caller's retry
            // reaches the head that holds its prepare.
            if (durable && !_stored.Contains(CommitKey(source.ResourceKey, source.Version, source.Step)))
            {
                await ChangeAsync(_ => true);
            }

            return;
        }

        _confirmed.Add(ConfirmationKey(prepared));
        if (durable)
        {
            await ChangeAsync(_ => true);
            RememberStored(CommitKey(KeyOf(prepared), prepared.Version, prepared.Step));
        }

        NotifyWebhook();
    }

    public async Task AbortAsync(EventSource source, long first)
    {
        var discarded = await ChangeAsync(next =>
        {
            if (PreparedOf(next, source, first) is not { } prepared || _confirmed.Contains(ConfirmationKey(prepared)))
            {
                return false;
            }

            Discard(next, prepared);
            return true;
        });
        if (discarded)
        {
            LogDiscarded(logger, _tenantId, source.ResourceType, source.ResourceId, source.Version);
        }
    }

    public async Task SubscribeAsync(bool subscribed)
    {
        await ChangeAsync(next =>
        {
            var changed = next.Subscribed != subscribed;
            next.Subscribed = subscribed;
            return changed;
        });

        _notified = 0;
        NotifyWebhook();
    }

    public async Task<EventPage> ReadAsync(long? after, int limit)
    {
        limit = Math.Clamp(limit, 1, MaxReadLimit);
        var head = _state.Value;
        if (after is { } beyond && beyond >= head.Next)
        {
            return new EventPage([], beyond, false, Expired: false, Beyond: true);
        }

        if (after is { } cursor && cursor + 1 < head.First)
        {
            return new EventPage([], cursor, false, Expired: true);
        }

        var readable = Frontier(head) - 1;
        var seq = Math.Max(after.HasValue ? after.Value + 1 : head.First, head.First);
        var events = new List<ScimEvent>(Math.Min(limit, 64));
        var examined = after ?? head.First - 1;
        while (seq <= readable && events.Count < limit)
        {
            var page = (seq - 1) / PageSize;
            var pageEnd = (page + 1) * PageSize;
            var stored = pageEnd <= head.SealedThrough
                ? await GrainFactory.Grain<IEventPageGrain>(GrainKeys.EventPage(_tenantId, page)).ReadAsync()
                : [.. head.Tail.Select(Load)];
            if (stored.Length == 0 && pageEnd <= head.SealedThrough && !AllDiscarded(head, pageEnd - PageSize + 1, pageEnd))
            {
                // A sealed page holds its events (only a page whose every event was discarded is written empty): retention
                // erased this one since the head was read (a pass erases pages before it records the feed's new start; a
                // crash between leaves the old start). Erased pages are the oldest, so the events read so far end the
                // answer; a cursor into the erased ones has expired; a read from the start goes on past them.
                // The feed's start is behind: record it now (the pass that erased the page may have failed to), off this read.
                _retentionCheckedAt = DateTimeOffset.MinValue;
                ScheduleRetention(TimeSpan.Zero);
                if (events.Count > 0)
                {
                    return new EventPage([.. events], examined, true, Expired: false);
                }

                if (after is { } erased)
                {
                    return new EventPage([], erased, false, Expired: true);
                }

                examined = pageEnd;
                seq = pageEnd + 1;
                continue;
            }

            foreach (var e in stored.Where(e => e.Sequence >= seq && e.Sequence <= Math.Min(pageEnd, readable)).OrderBy(e => e.Sequence))
            {
                if (events.Count == limit)
                {
                    break;
                }

                examined = e.Sequence;
                if (!IsDiscarded(head, e.Sequence))
                {
                    events.Add(e);
                }
            }

            if (events.Count < limit)
            {
                examined = Math.Min(pageEnd, readable);
            }

            seq = pageEnd + 1;
        }

        return new EventPage([.. events], Math.Max(examined, after ?? 0), examined < readable, Expired: false);
    }

    public Task<ResourceCounts> GetCountsAsync()
    {
        var (users, groups) = Counts(_state.Value);
        return Task.FromResult(new ResourceCounts(users, groups));
    }

    public Task HaltAsync()
    {
        _halted = true;
        // The head and its pages stay for the sweep (the memory sweep reaches the pages through the head); only nothing may
        // write them on its own any more.
        foreach (var timer in new[] { _resolver, _retention, _notifier })
        {
            timer?.Dispose();
        }

        (_resolver, _retention, _notifier) = (null, null, null);
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public Task<EventLogInfo> GetInfoAsync()
    {
        var head = _state.Value;
        var unresolved = Unresolved(head).Select(p => (DateTimeOffset?)p.PreparedAt).Min();
        return Task.FromResult(new EventLogInfo(head.First, Frontier(head) - 1, head.Next, unresolved, _queued.Count));
    }

    /// <summary>Asks the resources about commits prepared a while ago and never confirmed.</summary>
    private async Task ResolveAsync()
    {
        var now = time.GetUtcNow();
        var due = Unresolved(_state.Value).Where(p => now - p.PreparedAt >= ResolveAfter).ToArray();
        var discarded = new List<PreparedCommit>();
        foreach (var prepared in due)
        {
            EventResolution answer;
            try
            {
                answer = await ResourceKind.OfName(prepared.ResourceType)
                    .Grain(GrainFactory, _tenantId, prepared.ResourceId)
                    .ResolveEventsAsync(prepared.Version, prepared.Step, prepared.From);
            }
            catch (Exception e)
            {
                // One resource that cannot answer (its row unreadable, its activation failing) is asked again next time; the
                // answers of the others are kept: a resource that answered "aborted" has fenced its row, and would fence it
                // again at every pass that failed before its discard was stored.
                LogResolveFailed(logger, e, _tenantId, prepared.ResourceType, prepared.ResourceId);
                continue;
            }

            if (answer == EventResolution.Committed)
            {
                _confirmed.Add(ConfirmationKey(prepared));
            }
            else if (answer == EventResolution.Aborted)
            {
                discarded.Add(prepared);
            }
        }

        if (discarded.Count > 0 || (_confirmed.Count > 0 && due.Length > 0))
        {
            await ChangeAsync(next =>
            {
                // A prepare of the same resource may have passed or replaced it while the resources were asked: then it is gone.
                foreach (var prepared in discarded)
                {
                    if (PreparedOf(next, SourceOf(prepared), prepared.From) is { } still)
                    {
                        LogDiscarded(logger, _tenantId, prepared.ResourceType, prepared.ResourceId, prepared.Version);
                        Discard(next, still);
                    }
                }

                return true;
            });
        }

        NotifyWebhook();
        if (Unresolved(_state.Value).Length == 0 && _state.Value.Prepared.Count > 0 && _state.Value.Prepared.All(p => now - p.PreparedAt >= SettleAfter))
        {
            // Only confirmed commits are left, and the tenant has been quiet: store that, rather than ride on a next write
            // that may not come for hours.
            await ChangeAsync(_ => true);
        }

        if (Unresolved(_state.Value).Length == 0 && _state.Value.Prepared.Count == 0)
        {
            _resolver?.Dispose();
            _resolver = null;
        }
    }

    /// <summary>
    /// The wake-up reminder, held while a webhook is subscribed and the log has work that only this activation would do:
    /// commits to resolve (their confirmations may be in its memory only), or a webhook to tell. Without it, a silo dying
    /// right after a change was acknowledged left that change unread and untold until something activated the log again
    /// (the tenant's next change, a feed read): possibly days. Its tick activates the log, whose activation resolves and
    /// tells (<see cref="OnActivateAsync"/>), and releases it once there is nothing left: only ticks release it, so a busy
    /// tenant does not register it again with every burst. Tenants without a webhook hold none: a reader of their feed
    /// activates the log.
    /// </summary>
    private HeldReminder Wake => _wake ??= new HeldReminder(this, WakeReminderName, TimeSpan.FromMinutes(1));

    // Nothing left that a crash would lose: no prepare queued or listed, and the webhook told of every event.
    private bool Idle => _queued.Count == 0 && _state.Value.Prepared.Count == 0 && !_notifying && _notified >= _state.Value.Next - 1;

    // A failed registration does not fail the batch's prepares (their changes would then fail while the reminder service is
    // down, though nothing of them is lost: only their delivery would wait for a crash's next activation); the next head
    // that lists a prepare tries again.
    private async Task HoldWakeAsync()
    {
        try
        {
            await Wake.HoldAsync();
        }
        catch (Exception e)
        {
            LogWakeFailed(logger, e, _tenantId);
        }
    }

    // Under the writer, so no batch (which holds the reminder beside its write) runs meanwhile.
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != WakeReminderName)
        {
            return;
        }

        await _writer.WaitAsync();
        try
        {
            await Wake.TickAsync(working: !_halted && _state.Value.Subscribed && !Idle);
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>Drops whole pages whose events are all older than the retention window.</summary>
    private async Task ApplyRetentionAsync()
    {
        var now = time.GetUtcNow();
        if (now - _retentionCheckedAt < RetentionPeriod)
        {
            return;
        }

        _retentionCheckedAt = now;
        var cutoff = now - Retention;
        bool more;
        await _writer.WaitAsync();
        try
        {
            more = await DropExpiredPagesAsync(cutoff);
        }
        finally
        {
            _writer.Release();
        }

        if (more)
        {
            _retentionCheckedAt = DateTimeOffset.MinValue;
            ScheduleRetention(TimeSpan.FromSeconds(1));
        }
    }

    // Under _writer. True when it stopped at MaxPagesPerRetentionPass with more pages to examine.
    private async Task<bool> DropExpiredPagesAsync(DateTimeOffset cutoff)
    {
        var next = Working();
        var dropped = 0;
        while (next.First <= next.SealedThrough)
        {
            if (dropped == MaxPagesPerRetentionPass)
            {
                await WriteAsync(next);
                return true;
            }

            var page = (next.First - 1) / PageSize;
            var grain = GrainFactory.Grain<IEventPageGrain>(GrainKeys.EventPage(_tenantId, page));
            var events = await grain.ReadAsync();
            if (events.Length > 0 && events.Max(e => e.OccurredAt) >= cutoff)
            {
                break;
            }

            await grain.ClearAsync();
            next.First = ((page + 1) * PageSize) + 1;
            next.Discarded.RemoveAll(r => r.To < next.First);
            dropped++;
        }

        if (dropped > 0)
        {
            await WriteAsync(next);
        }

        return false;
    }

    /// <summary>
    /// After a head write: starts <see cref="WritePagesAsync"/> unless a pass is running, which then makes one more. Outside
    /// <see cref="_writer"/>, so neither the batch's prepares nor the next batch wait for page rows (they did until
    /// 2026-12-07: a page write per batch on every SCIM write's path, and a slow page row slowed the tenant's every write).
    /// </summary>
    private void WritePagesSoon()
    {
        if (_halted)
        {
            return;
        }

        if (_paging.IsCompleted)
        {
            _paging = PageAsync();
        }
        else
        {
            _pagesDue = true;
        }
    }

    private async Task PageAsync()
    {
        do
        {
            _pagesDue = false;
            await WritePagesAsync();
        }
        while (_pagesDue && !_halted);
    }

    /// <summary>
    /// One pass at a time (<see cref="WritePagesSoon"/>), beside head writes: writes every page that the committed head has filled to its own row,
    /// from that head's events; the next head write records them and drops their events from the head. Only a head storage
    /// accepted is ever paged, so every write of a page holds the events the feed holds in its range (less any discarded
    /// since, which readers skip by the head's discarded ranges): writing it again, after a crash before the head recorded
    /// it, changes nothing a reader sees. A failure leaves the events in the head; the next batch writes the pages again.
    /// </summary>
    private async Task WritePagesAsync()
    {
        var head = _state.Value;
        var through = PagedThrough;
        var writes = new List<Task>();
        for (; through + PageSize < head.Next; through += PageSize)
        {
            var (from, to) = (through + 1, through + PageSize);
            var page = head.Tail.Where(e => e.Sequence >= from && e.Sequence <= to).Select(Load).ToArray();
            writes.Add(GrainFactory.Grain<IEventPageGrain>(GrainKeys.EventPage(_tenantId, (from - 1) / PageSize)).WriteAsync(page));
        }

        try
        {
            await Task.WhenAll(writes);
            _pagesWrittenThrough = Math.Max(_pagesWrittenThrough, through);
        }
        catch (Exception e)
        {
            LogPagesFailed(logger, e, _tenantId);
        }
    }

    // Under _writer: replaces the head. Confirmations of commits the written head no longer lists are done with (Working
    // folded them in); one that arrived during the write is kept for the next.
    private async Task WriteAsync(EventLogState next)
    {
        CountDisabledUsers(_state.Value, next);
        if (next.Subscribed && next.Prepared.Count > 0 && !_halted)
        {
            // The webhook's wake-up is held beside the first head that lists a commit, before its prepare is answered.
            var hold = HoldWakeAsync();
            await _state.CommitAsync(next, this);
            await hold;
        }
        else
        {
            await _state.CommitAsync(next, this);
        }

        var listed = next.Prepared.Select(ConfirmationKey).ToHashSet(StringComparer.Ordinal);
        _confirmed.RemoveWhere(key => !listed.Contains(key));
    }

    /// <summary>
    /// Every head write other than a batch of prepares: builds the next head from the committed one under
    /// <see cref="_writer"/> (so no batch is written meanwhile), and writes it when <paramref name="change"/> says it changed
    /// anything. Returns whether it wrote.
    /// </summary>
    private async Task<bool> ChangeAsync(Func<EventLogState, bool> change)
    {
        await _writer.WaitAsync();
        try
        {
            var next = Working();
            if (!change(next))
            {
                return false;
            }

            await WriteAsync(next);
            return true;
        }
        finally
        {
            _writer.Release();
        }
    }

    // A copy of the head to change: the confirmed commits are dropped from it and their counts added, and the pages written
    // since are recorded and their events dropped (the next write persists that).
    private EventLogState Working()
    {
        var head = _state.Value;
        var (users, groups) = Counts(head);
        var sealedThrough = PagedThrough;
        return new EventLogState
        {
            Next = head.Next,
            First = head.First,
            SealedThrough = sealedThrough,
            Tail = [.. head.Tail.Where(e => e.Sequence > sealedThrough)],
            Prepared = [.. head.Prepared.Where(p => !_confirmed.Contains(ConfirmationKey(p)))],
            Discarded = [.. head.Discarded],
            Subscribed = head.Subscribed,
            Users = users,
            Groups = groups,
        };
    }

    // The counts with the commits confirmed since the head was last written: each commit counts once, when it leaves Prepared
    // as committed (confirmed, resolved as committed, or passed by its resource's next commit); a discarded one never does.
    private (long Users, long Groups) Counts(EventLogState head)
    {
        var (users, groups) = (head.Users, head.Groups);
        foreach (var prepared in head.Prepared.Where(p => _confirmed.Contains(ConfirmationKey(p))))
        {
            (users, groups) = (users + prepared.Users, groups + prepared.Groups);
        }

        return (users, groups);
    }

    private static int Delta(ScimEvent[] events, string created, string deleted) =>
        events.Count(e => e.Type == created) - events.Count(e => e.Type == deleted);

    /// <summary>
    /// Tells the webhook (when there is one) how far the feed is readable, whenever that has moved: from a timer, so never on
    /// a SCIM request's path, and again until the webhook answered (it then holds a reminder of its own).
    /// </summary>
    private void NotifyWebhook()
    {
        if (_halted || _notifying || !_state.Value.Subscribed || Frontier(_state.Value) - 1 <= _notified)
        {
            return;
        }

        _notifying = true;
        _notifier ??= this.RegisterGrainTimer(_ => TellWebhookAsync(), Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _notifier.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    private async Task TellWebhookAsync()
    {
        var readable = Frontier(_state.Value) - 1;
        try
        {
            await GrainFactory.Grain<IWebhookGrain>(GrainKeys.Webhook(_tenantId)).NotifyAsync(readable);
            _notified = Math.Max(_notified, readable);
        }
        catch (Exception e)
        {
            LogNotifyFailed(logger, e, _tenantId);
            await Task.Delay(TimeSpan.FromSeconds(1), time);
        }
        finally
        {
            _notifying = false;
        }

        NotifyWebhook();
    }

    private void StartResolver()
    {
        if (!_halted)
        {
            _resolver ??= this.RegisterGrainTimer(_ => ResolveAsync(), new GrainTimerCreationOptions(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)) { KeepAlive = true });
        }
    }

    private PreparedCommit[] Unresolved(EventLogState head) => [.. head.Prepared.Where(p => !_confirmed.Contains(ConfirmationKey(p)))];

    private long Frontier(EventLogState head) => Unresolved(head).Select(p => (long?)p.From).Min() ?? head.Next;

    private static void Discard(EventLogState head, PreparedCommit prepared)
    {
        head.Prepared.Remove(prepared);
        if (prepared.Count > 0)
        {
            var (from, to) = (prepared.From, prepared.From + prepared.Count - 1);
            head.Discarded.Add(new SequenceRange { From = from, To = to });
            head.Tail.RemoveAll(e => e.Sequence >= from && e.Sequence <= to);
        }
    }

    private static bool IsDiscarded(EventLogState head, long sequence) => head.Discarded.Any(r => sequence >= r.From && sequence <= r.To);

    private static bool AllDiscarded(EventLogState head, long from, long to)
    {
        for (var sequence = from; sequence <= to; sequence++)
        {
            if (!IsDiscarded(head, sequence))
            {
                return false;
            }
        }

        return true;
    }

    private static string KeyOf(PreparedCommit p) => p.ResourceType + "/" + p.ResourceId;

    // The prepared attempt of the source's commit numbered from first (null: the only one there is, or the first).
    private static PreparedCommit? PreparedOf(EventLogState state, EventSource source, long? first) =>
        state.Prepared.FirstOrDefault(p => KeyOf(p) == source.ResourceKey && p.Version == source.Version && p.Step == source.Step && (first is null || p.From == first));

    private static EventAttempt AttemptOf(PreparedCommit p) => new(p.Version, p.Step, p.From);

    // One attempt of one commit: a commit prepared again (new numbers) is not confirmed by the earlier attempt's confirmation.
    private static string ConfirmationKey(PreparedCommit p) => string.Create(
        System.Globalization.CultureInfo.InvariantCulture, $"{CommitKey(KeyOf(p), p.Version, p.Step)}#{p.From}");

    // One commit of a resource, whichever attempt.
    private static string CommitKey(string resourceKey, long version, int step) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{resourceKey}@{version}.{step}");

    private void RememberStored(string commit)
    {
        if (_stored.Add(commit))
        {
            _storedOrder.Enqueue(commit);
            if (_storedOrder.Count > StoredKept)
            {
                _stored.Remove(_storedOrder.Dequeue());
            }
        }
    }

    private static EventSource SourceOf(PreparedCommit p) => new(p.ResourceType, p.ResourceId, p.Version, p.Step);

    internal static StoredEvent Store(ScimEvent e) => new()
    {
        Id = e.Id,
        Sequence = e.Sequence,
        Type = e.Type,
        OccurredAt = e.OccurredAt,
        ResourceType = e.ResourceType,
        ResourceId = e.ResourceId,
        Data = e.Data,
        Changed = e.Changed,
    };

    internal static ScimEvent Load(StoredEvent e) => new(e.Id, e.Sequence, e.Type, e.OccurredAt, e.ResourceType, e.ResourceId, e.Data, e.Changed);

    [LoggerMessage(1303, LogLevel.Warning, "Tenant {TenantId}: writing full pages of the event feed failed; their events stay in the head and are written again with the next change.")]
    private static partial void LogPagesFailed(ILogger logger, Exception exception, string tenantId);

    [LoggerMessage(1302, LogLevel.Warning, "Tenant {TenantId}: telling the webhook about new events failed; retrying.")]
    private static partial void LogNotifyFailed(ILogger logger, Exception exception, string tenantId);

    [LoggerMessage(1305, LogLevel.Warning, "Tenant {TenantId}: registering the event log's wake-up reminder failed; its next change tries again (until then a crash of its silo delays the webhook's delivery until the tenant's next change).")]
    private static partial void LogWakeFailed(ILogger logger, Exception exception, string tenantId);

    [LoggerMessage(1304, LogLevel.Warning, "Tenant {TenantId}: asking {ResourceType} {ResourceId} whether a prepared commit reached storage failed; asking again in a second.")]
    private static partial void LogResolveFailed(ILogger logger, Exception exception, string tenantId, string resourceType, string resourceId);

    [LoggerMessage(1301, LogLevel.Warning, "Tenant {TenantId}: discarded the prepared events of {ResourceType} {ResourceId} version {Version}: its write never reached storage.")]
    private static partial void LogDiscarded(ILogger logger, string tenantId, string resourceType, string resourceId, long version);
}

/// <summary>One page of a tenant's feed (see <see cref="EventLogGrain"/>).</summary>
public sealed class EventPageGrain(
    [PersistentState("page", StorageNames.Default)] IPersistentState<EventPageState> state) : Grain, IEventPageGrain
{
    private readonly CommittedState<EventPageState> _state = new(state);

    // A page row is written once and read seldom (a reader behind the log's row, retention): its activation goes when idle
    // instead of holding its events, resources' JSON, for the collection age. Until 2026-12-07 a sync of 100,000 users kept
    // 6,250 of them active for 15 minutes (webhooks review).
    public async Task WriteAsync(ScimEvent[] events)
    {
        await _state.CommitAsync(new EventPageState { Events = [.. events.Select(EventLogGrain.Store)] }, this);
        DeactivateOnIdle();
    }

    public Task<ScimEvent[]> ReadAsync()
    {
        DeactivateOnIdle();
        return Task.FromResult(_state.Value.Events.Select(EventLogGrain.Load).ToArray());
    }

    public async Task ClearAsync()
    {
        if (_state.Exists)
        {
            await _state.CommitAsync(new EventPageState(), this, clear: true);
        }

        DeactivateOnIdle();
    }
}

/// <summary>A prepare waiting for the head write that stores it (<see cref="EventLogGrain"/>, group commit).</summary>
internal sealed class QueuedPrepare(EventSource source, ScimEvent[] events)
{
    public EventSource Source => source;

    public ScimEvent[] Events => events;

    /// <summary>
    /// At most what it takes in the head row: its prepared commit's entry, and its events, each string stored escaped inside
    /// the row's JSON, at most twice its UTF-8 bytes (quotes and backslashes; the storage serializer writes other characters
    /// as they are).
    /// </summary>
    public long Bytes { get; } = 512L + events.Sum(e => EventBytes(e.Data, e.Changed));

    /// <summary>At most what one event takes in the head row.</summary>
    public static long EventBytes(string data, string[]? changed) =>
        256L + 2L * (Encoding.UTF8.GetByteCount(data) + (changed?.Sum(c => Encoding.UTF8.GetByteCount(c) + 3) ?? 0));

    /// <summary>The sequence number of its first event, once stored; the write's failure otherwise.</summary>
    public TaskCompletionSource<long> First { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
