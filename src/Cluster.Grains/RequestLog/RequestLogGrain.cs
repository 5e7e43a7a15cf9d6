using Cluster.Grains.State;
using Microsoft.Extensions.Options;

namespace Cluster.Grains.RequestLog;

/// <summary>
/// A tenant's provisioning log (issue 14; docs/architecture.md, "Provisioning log"): its recent SCIM requests, appended by the
/// gateways in batches (one call per tenant per flush, never on a request's path), read newest first by cursor.
/// </summary>
/// <remarks>
/// <para>Storage, as the event log's: the head (this grain's row) holds the counter, the entries of the open page and the
/// status; every full page of <see cref="PageSize"/> entries is written to its own row (<see cref="IRequestLogPageGrain"/>)
/// after the head that holds them, from it, and the head's next write records it; so a read costs the head and a few page
/// rows however long the log is, retention drops whole pages, and an outdated activation's refused head write never
/// reaches a page row.</para>
/// <para>Retention (<c>Portal:LogRetentionDays</c>): entries older than the window are never returned; pages whose newest entry
/// is older are erased, and so are old entries of the open page and an old last error. It runs on activation, at most every
/// tenth of the window (an hour at most) while the log is active, and from a reminder while the log holds anything, so an idle
/// tenant's entries are erased too.</para>
/// <para>Reads and the status interleave with appends: they see only what storage acknowledged (<see cref="CommittedState{T}"/>),
/// and a page erased under a read just reads as empty.</para>
/// </remarks>
public sealed partial class RequestLogGrain(
    [PersistentState("requests", StorageNames.Default)] IPersistentState<RequestLogState> state,
    IOptions<RequestLogOptions> options,
    TimeProvider time,
    ILogger<RequestLogGrain> logger) : Grain, IRequestLogGrain, IRemindable
{
    /// <summary>Entries per page row (an entry is at most ~1 KB: name and detail are capped).</summary>
    public const int PageSize = 64;

    // Most pages one retention pass erases (each a read and a clear) while appends wait: a month after a large tenant's first
    // sync (200,000 requests, ~3,100 pages) the backlog is erased in passes a second apart, and no gateway's flush waits on
    // more than one pass (it was one turn of thousands of storage operations, past the flush's 10 s timeout).
    private const int MaxPagesPerRetentionPass = 16;

    /// <summary>Most page rows one read examines (a filtered read may then return fewer entries than asked, with a cursor).</summary>
    public const int MaxPagesPerRead = 16;

    /// <summary>Most page rows one <see cref="EraseAsync"/> call erases.</summary>
    public const int ErasePagesPerCall = 256;

    private const string ReminderName = "request-log-retention";

    // Retention is checked at most this often while the log is active (a tenth of the window when that is shorter).
    private static readonly TimeSpan RetentionCheckPeriod = TimeSpan.FromHours(1);

    private readonly CommittedState<RequestLogState> _state = new(state);
    private string _tenantId = "";
    private bool _erasing;

    // Dropped entries told before the log exists, not stored until its first entries are (AppendAsync).
    private long _unstoredDropped;
    private IGrainTimer? _retention;
    private DateTimeOffset _retentionCheckedAt = DateTimeOffset.MinValue;

    // The pages this activation has written from the committed head beyond what the head records: its next write records them.
    private long _pagesWrittenThrough;

    private TimeSpan Retention => TimeSpan.FromDays(options.Value.LogRetentionDays);

    private TimeSpan RetentionPeriod => Retention / 10 < RetentionCheckPeriod ? Retention / 10 : RetentionCheckPeriod;

    private DateTimeOffset Cutoff => time.GetUtcNow() - Retention;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _tenantId = GrainKeys.TenantOfKey(this.GetPrimaryKeyString());
        if (_state.Exists)
        {
            ScheduleRetention();
        }

        return Task.CompletedTask;
    }

    public async Task AppendAsync(RequestLogEntry[] entries, long dropped)
    {
        if (_erasing || (entries.Length == 0 && dropped <= 0))
        {
            return;
        }

        // The head is the commit point: the entries are stored once it is written. The pages it fills are written after
        // it, from it (WritePagesAsync), so an outdated activation (a silo declared dead while still running), whose head
        // storage refuses, never replaces a page row with entries nobody stored. A batch larger than a head write takes
        // (gateways send none) is stored in several.
        var cutoff = Cutoff;
        var kept = entries.Where(e => e.At >= cutoff).OrderBy(e => e.At).ToArray();
        if (kept.Length == 0 && !_state.Exists)
        {
            // A count of dropped entries alone does not start a log: a gateway carries its count from flush to flush until
            // one lands, which can be after the tenant's offboarding has erased and verified everything (a row then left
            // for ever). The activation keeps it (the status shows it) and stores it with the first entries.
            _unstoredDropped += Math.Max(0, dropped);
            return;
        }

        RequestLogEntry[][] chunks = kept.Length > 0 ? [.. kept.Chunk(IRequestLogGrain.MaxEntriesPerAppend)] : [[]];
        for (var i = 0; i < chunks.Length; i++)
        {
            // Pages that a failed write (or a crash) left unwritten go first, or the append fails: the head never holds
            // more than an open page and one append's pages.
            await WritePagesAsync(orFail: true);
            var next = Working();
            Add(next, chunks[i]);
            if (i == 0)
            {
                next.Dropped += Math.Max(0, dropped) + _unstoredDropped;
            }

            if (!next.Reminder)
            {
                // Registered before the head says so: a crash in between leaves a reminder that finds the log and keeps it.
                await this.RegisterOrUpdateReminder(ReminderName, ReminderPeriod, ReminderPeriod);
                next.Reminder = true;
            }

            await _state.CommitAsync(next, this);
            if (i == 0)
            {
                _unstoredDropped = 0;
            }

            await WritePagesAsync();
        }

        ScheduleRetention();
    }

    // Appends entries to the head's open page, with the log's sequence numbers, and updates the status they change.
    private static void Add(RequestLogState next, RequestLogEntry[] entries)
    {
        foreach (var entry in entries)
        {
            var record = ToRecord(entry, next.Next++);
            next.Tail.Add(record);
            if (record.Status == 401)
            {
                // A refused credential: nobody proved to be the tenant, so it is an error to show, not a sign of connection.
                next.LastError = next.LastError is { } previous && previous.At > record.At ? previous : record;
                continue;
            }

            next.LastRequestAt = Latest(next.LastRequestAt, record.At);
            if (record.TestConnection)
            {
                next.LastTestConnectionAt = Latest(next.LastTestConnectionAt, record.At);
            }

            if (record.Status >= 400)
            {
                next.LastError = next.LastError is { } last && last.At > record.At ? last : record;
            }
            else
            {
                next.LastSuccessAt = Latest(next.LastSuccessAt, record.At);
            }
        }
    }

    public async Task<RequestLogPage> ReadAsync(RequestLogQuery query)
    {
        var limit = Math.Clamp(query.Limit, 1, RequestLogQuery.MaxLimit);
        var head = _state.Value;
        var cutoff = Cutoff;
        var seq = Math.Min(query.Before ?? head.Next, head.Next) - 1;
        var found = new List<RequestLogEntry>(Math.Min(limit, PageSize));
        var lowestExamined = seq + 1;
        var pagesRead = 0;
        while (seq >= head.First && found.Count < limit)
        {
            var pageStart = (((seq - 1) / PageSize) * PageSize) + 1;
            IEnumerable<RequestLogRecord> records;
            if (seq > head.SealedThrough)
            {
                records = head.Tail;
            }
            else if (pagesRead++ < MaxPagesPerRead)
            {
                records = (await Page((seq - 1) / PageSize).ReadAsync()).Select(e => ToRecord(e, e.Sequence));
            }
            else
            {
                break;
            }

            var from = Math.Max(pageStart, head.First);
            foreach (var record in records.Where(r => r.Sequence >= from && r.Sequence <= seq).OrderByDescending(r => r.Sequence))
            {
                if (found.Count == limit)
                {
                    break;
                }

                lowestExamined = record.Sequence;
                if (record.At >= cutoff && RequestLogOutcomes.Matches(query.Outcome, record.Status)
                    && (query.ResourceId is null || string.Equals(record.ResourceId, query.ResourceId, StringComparison.Ordinal)))
                {
                    found.Add(ToEntry(record));
                }
            }

            if (found.Count < limit)
            {
                lowestExamined = from;
            }

            seq = pageStart - 1;
        }

        var hasMore = lowestExamined > head.First;
        return new RequestLogPage([.. found], hasMore ? lowestExamined : null, hasMore);
    }

    public Task<RequestLogStatus> GetStatusAsync()
    {
        var head = _state.Value;
        var lastError = head.LastError is { } error && error.At >= Cutoff ? ToEntry(error) : null;
        return Task.FromResult(new RequestLogStatus(head.LastRequestAt, head.LastTestConnectionAt, head.LastSuccessAt, lastError, head.Dropped + _unstoredDropped));
    }

    public async Task<bool> EraseAsync()
    {
        if (!_erasing)
        {
            _erasing = true;
            _unstoredDropped = 0;
            _retention?.Dispose();
            _retention = null;
            LogErasing(logger, _tenantId);
        }

        // Every page the head has filled may have a row (written, not yet recorded by the head).
        var next = Working();
        var filled = next.SealedThrough + ((next.Next - 1 - next.SealedThrough) / PageSize * PageSize);
        var last = Math.Min(filled, next.First - 1 + ((long)ErasePagesPerCall * PageSize));
        var pages = new List<long>();
        for (var seq = next.First; seq <= last; seq += PageSize)
        {
            pages.Add((seq - 1) / PageSize);
        }

        foreach (var chunk in pages.Chunk(32))
        {
            await Task.WhenAll(chunk.Select(p => Page(p).ClearAsync()));
        }

        if (last < filled)
        {
            next.First = last + 1;
            await _state.CommitAsync(next, this);
            return false;
        }

        if (await this.GetReminder(ReminderName) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }

        if (_state.Exists)
        {
            await _state.CommitAsync(new RequestLogState(), this, clear: true);
        }

        DeactivateOnIdle();
        return true;
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == ReminderName && !_erasing)
        {
            _retentionCheckedAt = DateTimeOffset.MinValue;
            await ApplyRetentionAsync();
            if (!_state.Value.Reminder)
            {
                await UnregisterReminderAsync(); // left by a crash between the head's write and the unregistering
            }
        }
    }

    // Between one minute (Orleans' smallest reminder period) and a day; a quarter of the window when that is shorter.
    private TimeSpan ReminderPeriod => TimeSpan.FromTicks(Math.Clamp(Retention.Ticks / 4, TimeSpan.FromMinutes(1).Ticks, TimeSpan.FromDays(1).Ticks));

    /// <summary>Runs retention off the caller's turn, once it is due (after <paramref name="due"/>).</summary>
    private void ScheduleRetention(TimeSpan due = default)
    {
        if (_retention is null && time.GetUtcNow() - _retentionCheckedAt >= RetentionPeriod)
        {
            _retention = this.RegisterGrainTimer(async _ =>
            {
                _retention?.Dispose();
                _retention = null;
                await ApplyRetentionAsync();
            }, due, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Erases expired pages, expired entries of the open page and an expired last error; ends the reminder when nothing is left.</summary>
    private async Task ApplyRetentionAsync()
    {
        var now = time.GetUtcNow();
        if (_erasing || now - _retentionCheckedAt < RetentionPeriod)
        {
            return;
        }

        _retentionCheckedAt = now;
        var cutoff = now - Retention;
        await WritePagesAsync(); // every full page a row (a crash may have left some unwritten), so expired ones are erased as rows
        var next = Working();
        var changed = false;
        var erased = 0;
        while (next.First <= next.SealedThrough)
        {
            if (erased == MaxPagesPerRetentionPass)
            {
                // More may have expired: the next pass, a second from now, goes on (appends take their turns between).
                _retentionCheckedAt = DateTimeOffset.MinValue;
                ScheduleRetention(TimeSpan.FromSeconds(1));
                break;
            }

            var page = (next.First - 1) / PageSize;
            var entries = await Page(page).ReadAsync();
            if (entries.Length > 0 && entries.Max(e => e.At) >= cutoff)
            {
                break;
            }

            await Page(page).ClearAsync();
            next.First = ((page + 1) * PageSize) + 1;
            changed = true;
            erased++;
        }

        if (next.First > next.SealedThrough && next.Tail.RemoveAll(r => r.At < cutoff) > 0)
        {
            next.First = next.Tail.Count > 0 ? next.Tail.Min(r => r.Sequence) : next.Next;
            changed = true;
        }

        if (next.LastError is { } error && error.At < cutoff)
        {
            next.LastError = null;
            changed = true;
        }

        // Nothing left to expire: the head says so first, then the reminder goes (the order appends register it in, reversed):
        // a crash in between leaves a reminder whose next tick finds the flag down and unregisters it. Until 2026-12-07 the
        // reminder went first, and a crash before the head's write left a head saying "registered" with no reminder: the
        // next entries then never expired while the tenant stayed idle.
        var release = next.Reminder && next.Tail.Count == 0 && next.First > next.SealedThrough && next.LastError is null;
        if (release)
        {
            next.Reminder = false;
            changed = true;
        }

        if (changed)
        {
            await _state.CommitAsync(next, this);
        }

        if (release)
        {
            await UnregisterReminderAsync();
        }
    }

    private async Task UnregisterReminderAsync()
    {
        if (await this.GetReminder(ReminderName) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    /// <summary>
    /// Writes the full pages of the committed head that it does not record as written, from the committed head: any page row
    /// then holds only stored entries, whichever activation writes it. The head's next write records them
    /// (<see cref="Working"/>). A failure is logged, unless <paramref name="orFail"/>, and the pages are written again before
    /// the next write of the head, which holds their entries meanwhile.
    /// </summary>
    private async Task WritePagesAsync(bool orFail = false)
    {
        var head = _state.Value;
        var through = Math.Max(head.SealedThrough, _pagesWrittenThrough);
        var writes = new List<Task>();
        for (; through + PageSize < head.Next; through += PageSize)
        {
            var (from, to) = (through + 1, through + PageSize);
            writes.Add(Page((from - 1) / PageSize).WriteAsync([.. head.Tail.Where(r => r.Sequence >= from && r.Sequence <= to).Select(ToEntry)]));
        }

        if (writes.Count == 0)
        {
            return;
        }

        try
        {
            await Task.WhenAll(writes);
            _pagesWrittenThrough = through;
        }
        catch (Exception e) when (!orFail)
        {
            LogPagesNotWritten(logger, e, _tenantId);
        }
    }

    // The committed head as the next write starts from: the pages written since its last write recorded, their entries dropped.
    private RequestLogState Working()
    {
        var next = Copy(_state.Value);
        if (_pagesWrittenThrough > next.SealedThrough)
        {
            next.SealedThrough = _pagesWrittenThrough;
            next.Tail.RemoveAll(r => r.Sequence <= next.SealedThrough);
        }

        return next;
    }

    private IRequestLogPageGrain Page(long page) => GrainFactory.Grain<IRequestLogPageGrain>(GrainKeys.RequestLogPage(_tenantId, page));

    private static DateTimeOffset Latest(DateTimeOffset? current, DateTimeOffset at) => current is { } c && c > at ? c : at;

    private static RequestLogState Copy(RequestLogState head) => new()
    {
        Next = head.Next,
        First = head.First,
        SealedThrough = head.SealedThrough,
        Tail = [.. head.Tail],
        LastRequestAt = head.LastRequestAt,
        LastTestConnectionAt = head.LastTestConnectionAt,
        LastSuccessAt = head.LastSuccessAt,
        LastError = head.LastError,
        Dropped = head.Dropped,
        Reminder = head.Reminder,
    };

    /// <summary>The stored form of an entry, with its sequence number; the name and detail capped.</summary>
    internal static RequestLogRecord ToRecord(RequestLogEntry entry, long sequence)
    {
        var e = entry.Capped();
        return new()
        {
            Sequence = sequence,
            At = e.At,
            Method = e.Method,
            Operation = e.Operation,
            ResourceType = e.ResourceType,
            ResourceId = e.ResourceId,
            Name = e.Name,
            Status = e.Status,
            ScimType = e.ScimType,
            Detail = e.Detail,
            DurationMs = e.DurationMs,
            TestConnection = e.TestConnection,
            RequestId = e.RequestId,
        };
    }

    internal static RequestLogEntry ToEntry(RequestLogRecord r) =>
        new(r.Sequence, r.At, r.Method, r.Operation, r.ResourceType, r.ResourceId, r.Name, r.Status, r.ScimType, r.Detail, r.DurationMs, r.TestConnection, r.RequestId);

    [LoggerMessage(1501, LogLevel.Information, "Tenant {TenantId}: erasing its provisioning log.")]
    private static partial void LogErasing(ILogger logger, string tenantId);

    [LoggerMessage(1502, LogLevel.Warning, "Tenant {TenantId}: writing full pages of the provisioning log failed; the head keeps their entries and they are written again before its next write.")]
    private static partial void LogPagesNotWritten(ILogger logger, Exception exception, string tenantId);
}

/// <summary>One page row of a tenant's provisioning log (see <see cref="RequestLogGrain"/>).</summary>
public sealed class RequestLogPageGrain(
    [PersistentState("page", StorageNames.Default)] IPersistentState<RequestLogPageState> state) : Grain, IRequestLogPageGrain
{
    private readonly CommittedState<RequestLogPageState> _state = new(state);

    // Written once, read seldom (the portal's older entries, retention): no activation kept for the collection age (as
    // EventPageGrain).
    public async Task WriteAsync(RequestLogEntry[] entries)
    {
        await _state.CommitAsync(new RequestLogPageState { Entries = [.. entries.Select(e => RequestLogGrain.ToRecord(e, e.Sequence))] }, this);
        DeactivateOnIdle();
    }

    public Task<RequestLogEntry[]> ReadAsync()
    {
        DeactivateOnIdle();
        return Task.FromResult(_state.Value.Entries.Select(RequestLogGrain.ToEntry).ToArray());
    }

    public async Task ClearAsync()
    {
        if (_state.Exists)
        {
            await _state.CommitAsync(new RequestLogPageState(), this, clear: true);
        }

        DeactivateOnIdle();
    }
}
