using Cluster.Grains.State;

namespace Cluster.Grains.Events;

/// <summary>
/// The one commit path for events, shared by users and groups: a resource's write that makes a change is wrapped as
/// prepare (the tenant's log stores the events durably, not yet readable) → the resource's own storage write (the commit
/// point, after which the client is answered) → confirm (the events become readable). The resource answers the log's
/// questions about commits it prepared and never confirmed (<see cref="ResolveAsync"/>), from its record
/// (<c>state</c>), which says which attempt of its last commit with events landed. See docs/architecture.md,
/// "Events".
/// </summary>
/// <remarks>
/// Why the events are prepared before the write and not written into the resource's row as an outbox: the log then never has
/// to recognise a re-sent outbox (it would need to remember every commit of every resource to do so), and a deleted
/// resource needs no row to carry its events — only a tombstone until its delete is confirmed durably.
/// </remarks>
/// <typeparam name="T">The resource's record.</typeparam>
internal sealed class EventCommits<T>(
    IGrainBase owner,
    IGrainFactory grains,
    TimeProvider time,
    string tenantId,
    string resourceType,
    string resourceId,
    CommittedState<T> state,
    Action<Exception> confirmFailed)
    where T : class, IRecordsEvents, new()
{
    // The commit whose write is under way (the log may ask while the resource waits on it).
    private EventSource? _inFlight;

    /// <summary>The events of a commit of this resource at (<paramref name="version"/>, <paramref name="step"/>), to fill with <see cref="EventContext.Event"/>.</summary>
    public EventContext Context(long version, int step = 0) =>
        new(tenantId, resourceType, resourceId, new EventSource(resourceType, resourceId, version, step), time.GetUtcNow());

    /// <summary>
    /// Runs <paramref name="write"/> — the commit point — between the events' prepare and their confirmation. Without events,
    /// just the write. A failed prepare fails the commit before anything is written; a failed confirmation does not (the log
    /// resolves the commit by asking, <see cref="ResolveAsync"/>) unless <paramref name="durable"/> asks for it to be stored
    /// before this returns (a delete, whose tombstone goes once the log has its events for good). <paramref name="write"/> is
    /// given the last commit with events as the state it writes must record it: this attempt, or without events the one
    /// recorded so far. Its last step is the write of the record (<c>state</c>), so a failure before that step stored nothing
    /// of the commit: its events are dropped at once. A failure of the record's write itself, a refusal included, may have
    /// landed: its events are left to resolution (<see cref="ResolveAsync"/>, asked of the next activation).
    /// </summary>
    public async Task CommitAsync(EventContext context, IReadOnlyCollection<ScimEvent> events, Func<EventAttempt, Task> write, bool durable = false)
    {
        if (events.Count == 0)
        {
            await write(Committed());
            return;
        }

        var log = grains.Grain<IEventLogGrain>(GrainKeys.EventLog(tenantId));
        _inFlight = context.Source;
        try
        {
            var known = Committed();
            var first = await log.PrepareAsync(context.Source with { Committed = known.IsKnown ? known : null }, [.. events]);
            try
            {
                await write(new EventAttempt(context.Source.Version, context.Source.Step, first));
            }
            catch when (!state.Failed)
            {
                // It did not land: it failed before the record's write, the last step of every write (a delete's leaving its
                // groups, a refused index claim). Otherwise the record's write failed and may have landed — even when storage
                // refused it (CommittedState.Failed) — and its activation is replaced: the log asks the next one.
                await AbortAsync(log, context.Source, first);
                throw;
            }

            try
            {
                await log.ConfirmAsync(context.Source, first, durable);
            }
            catch (Exception e) when (!durable)
            {
                confirmFailed(e);
            }
        }
        finally
        {
            _inFlight = null;
        }
    }

    private async Task AbortAsync(IEventLogGrain log, EventSource source, long first)
    {
        try
        {
            await log.AbortAsync(source, first);
        }
        catch (Exception e)
        {
            // The log resolves the commit by asking, as after any failed write; the caller sees the failure.
            confirmFailed(e);
        }
    }

    /// <summary>
    /// Stores for good the confirmation of this resource's last commit with events, whose write succeeded but whose
    /// confirmation failed (a retried delete finishing its first attempt). Nothing when the log already resolved it.
    /// </summary>
    public Task ConfirmLastAsync()
    {
        var last = Committed();
        return grains.Grain<IEventLogGrain>(GrainKeys.EventLog(tenantId))
            .ConfirmAsync(new EventSource(resourceType, resourceId, last.Version, last.Step), last.From > 0 ? last.From : null, durable: true);
    }

    /// <summary>
    /// The answer to the log about a prepared attempt: pending while its write is under way (or after any failed write of the
    /// record — its outcome is unknown, a refusal's too — until this activation is replaced); else what the resource's last
    /// commit with events says (<see cref="Answer"/>), as this activation knows it, and where that does not tell, as storage
    /// holds it now: this activation may be an older one beside a newer one (a silo declared dead while still running) that
    /// wrote since. Where storage does not tell either, the attempt's write has not landed — but it may still be on its way,
    /// from another activation that has not learnt it is replaced. So before answering "aborted" the row is <em>fenced</em>:
    /// written again as read (a fence row when there is none, <see cref="StoredRow{T}"/>), checked against that read, so that
    /// storage refuses such a write from then on. A fence that storage refuses (a write came between) answers pending: the
    /// log asks again, and the row then tells.
    /// </summary>
    public async Task<EventResolution> ResolveAsync(long version, int step, long from)
    {
        if (state.Failed || (_inFlight is { } inFlight && inFlight.Version == version && inFlight.Step == step))
        {
            return EventResolution.Pending;
        }

        var asked = new EventAttempt(version, step, from);
        if (Answer(Committed(), asked) is { } known)
        {
            return known;
        }

        // A fence row is no record: it answers only for the attempt it fenced (no record answers nothing of a commit).
        var row = await state.ReadRowAsync();
        if (row.FencedAttempt == asked)
        {
            return EventResolution.Aborted;
        }

        if (Answer(row.Record?.EventsAttempt ?? EventAttempt.None, asked) is { } answer)
        {
            return answer;
        }

        if (!await row.TryWriteAsync(row.Record ?? new T { EventsAttempt = asked }))
        {
            return EventResolution.Pending;
        }

        // This activation's own writes would now be refused (the row's ETag moved): the next call reads the row afresh.
        owner.DeactivateOnIdle();
        return EventResolution.Aborted;
    }

    // The last commit with events as this activation knows it.
    private EventAttempt Committed() => state.Exists ? state.Value.EventsAttempt : EventAttempt.None;

    /// <summary>
    /// What the last commit with events (<paramref name="last"/>) says of the attempt <paramref name="asked"/>: committed
    /// when it is that attempt; aborted when it is another attempt at or after that commit (storage lets one attempt of a
    /// commit land, and a later commit's prepare names the one before it, which resolves it); null when it comes before.
    /// Records without attempts (stored before they were recorded) answer by version alone, as before.
    /// </summary>
    private static EventResolution? Answer(EventAttempt last, EventAttempt asked)
    {
        if (!last.IsKnown)
        {
            return last.IsAtOrAfter(asked.Version, asked.Step) ? EventResolution.Committed : null;
        }

        return last == asked ? EventResolution.Committed
            : last.IsAtOrAfter(asked.Version, asked.Step) ? EventResolution.Aborted
            : null;
    }
}
