using System.Security.Cryptography;
using System.Text;
using Cluster.Grains.Events.Webhooks;
using Cluster.Grains.State;
using Cluster.Scim;
using Microsoft.Extensions.Options;

namespace Cluster.Grains.Events;

/// <summary>
/// A tenant's webhook (docs/architecture.md, "Events"): reads the tenant's feed after its cursor and POSTs each event alone,
/// signed, in sequence order; an event that fails is retried with backoff and jitter (<see cref="WebhookRetrySchedule"/>)
/// and nothing after it is sent until it is delivered or, after <see cref="EventsOptions.WebhookRetryDays"/>, parked.
/// Delivery runs here, on a timer, never on a SCIM request's path; a slow or hanging receiver holds up only this tenant's
/// deliveries. A reminder is held while events wait, so delivery resumes after any crash; delivery is at least once
/// (the cursor is stored every <see cref="CursorWriteEvery"/> deliveries, so a crash may repeat a few).
/// </summary>
public sealed partial class WebhookGrain(
    [PersistentState("webhook", StorageNames.Default)] IPersistentState<WebhookState> state,
    WebhookSender sender,
    WebhookSecretProtector protector,
    EventInstruments instruments,
    IOptions<EventsOptions> options,
    TimeProvider time,
    ILogger<WebhookGrain> logger) : Grain, IWebhookGrain, IRemindable
{
    /// <summary>Events read from the feed at a time.</summary>
    public const int BatchSize = 32;

    /// <summary>The cursor is stored after this many deliveries (and whenever delivery stops or fails).</summary>
    public const int CursorWriteEvery = 32;

    /// <summary>Attempts kept for <see cref="GetDeliveriesAsync"/>.</summary>
    public const int RecentAttempts = 100;

    /// <summary>Parked events kept (the oldest are forgotten beyond this; a redelivery from an earlier cursor still sends them).</summary>
    public const int ParkedKept = 1000;

    /// <summary>Ranges of expired events kept (the oldest are forgotten beyond this).</summary>
    public const int ExpiredKept = 100;

    private const string ReminderName = "webhook-delivery";

    // How long one round sends before it lets the calls waiting on the grain run (it finishes the send under way): a
    // receiver that takes seconds to answer 2xx would otherwise hold them for a batch of timeouts (32 × 10 s).
    private static readonly TimeSpan RoundBudget = TimeSpan.FromSeconds(2);

    private readonly CommittedState<WebhookState> _state = new(state);
    private readonly Random _jitter = new();

    private string _tenantId = "";
    private IGrainTimer? _loop;
    private HeldReminder? _reminder;
    private bool _backlogShown;

    // Set when the log tells of events after the cursor; a delivery round clears it before it reads the feed. A round that
    // found the feed empty stops only if no such news came while it was saving (NotifyAsync interleaves with it).
    private bool _told;

    // Delivery's own view, ahead of what is stored: the cursor and attempts since the last write.
    private long _cursor;
    private int _unsaved;
    private List<DeliveryRecord> _recent = [];
    private string? _secret;

    private IEventLogGrain Log => GrainFactory.Grain<IEventLogGrain>(GrainKeys.EventLog(_tenantId));

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _tenantId = GrainKeys.TenantOfKey(this.GetPrimaryKeyString());
        _cursor = _state.Value.Cursor;
        _recent = [.. _state.Value.Recent];
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        ShowBacklog(null);
        if (_state.Exists && _unsaved > 0)
        {
            await SaveAsync(_state.Value.Attempts, _state.Value.FirstAttemptAt, _state.Value.NextAttemptAt, _state.Value.RetryingEventId);
        }
    }

    public async Task<WebhookSetResult> SetAsync(string url, string? secret)
    {
        if (!WebhookUrlPolicy.TryValidate(url, options.Value.AllowInsecureWebhooks, out var uri, out var urlError))
        {
            return new WebhookSetResult(null, null, urlError);
        }

        var generated = secret is null ? WebhookSecret.New() : null;
        if (secret is not null && WebhookSecret.Validate(secret) is { } secretError)
        {
            return new WebhookSetResult(null, null, secretError);
        }

        // A new webhook starts with what becomes readable from now on. A webhook that is replaced (a new URL or secret:
        // often because its receiver moved or failed) keeps its place: what it has not delivered yet goes to the new
        // address, signed with the new secret, and a retry under way is tried there at once.
        var existing = _state.Exists ? _state.Value : null;
        var info = await Log.GetInfoAsync();
        var value = new WebhookState
        {
            Url = uri.AbsoluteUri,
            ProtectedSecret = protector.Protect(secret ?? generated!, _tenantId),
            CreatedAt = existing?.CreatedAt ?? time.GetUtcNow(),
            Cursor = existing is null ? info.Readable : _cursor,
            Parked = existing?.Parked ?? [],
            Recent = existing is null ? [] : [.. _recent],
            Expired = existing?.Expired ?? [],
        };
        // The log is told first: a webhook stored without the log's subscription would never hear of a change (nothing
        // subscribes it again), while a subscription without a stored webhook only costs notices it ignores.
        await Log.SubscribeAsync(true);
        await _state.CommitAsync(value, this);
        (_cursor, _unsaved, _recent, _secret) = (value.Cursor, 0, [.. value.Recent], null);

        // The log's notices until the webhook was stored found none and were dropped: what became readable meanwhile is
        // looked for now, not left until the tenant's next change.
        if (_cursor < (await Log.GetInfoAsync()).Readable)
        {
            await Reminder.HoldAsync();
            DeliverNow();
        }

        LogSet(logger, _tenantId);
        return new WebhookSetResult(Info(), generated, null);
    }

    public Task<WebhookInfo?> GetAsync() => Task.FromResult(_state.Exists ? Info() : null);

    public async Task<bool> DeleteAsync()
    {
        if (!_state.Exists)
        {
            return false;
        }

        // Removed first, then the log is told (the reverse of a set, for the same reason): a failure in between leaves a
        // subscription whose notices a webhook without state ignores, never a webhook that hears nothing.
        await _state.CommitAsync(new WebhookState(), this, clear: true);
        (_cursor, _unsaved, _recent, _secret) = (0, 0, [], null);
        await Log.SubscribeAsync(false);
        StopLoop();
        ShowBacklog(null); // no webhook, no backlog: not until the activation is collected
        await Reminder.ReleaseAsync();
        LogDeleted(logger, _tenantId);
        return true;
    }

    public async Task<DeliveryAttempt?> TestAsync()
    {
        if (!_state.Exists)
        {
            return null;
        }

        var ping = new ScimEvent("ping_" + Guid.NewGuid().ToString("N"), 0, ScimEventTypes.Ping, time.GetUtcNow(), "", "", "{}", null);
        var attempt = await SendAsync(ping, CancellationToken.None);
        Remember(attempt);
        await SaveAsync(_state.Value.Attempts, _state.Value.FirstAttemptAt, _state.Value.NextAttemptAt, _state.Value.RetryingEventId);
        return attempt;
    }

    public Task<DeliveryAttempt[]> GetDeliveriesAsync() =>
        Task.FromResult(_recent.AsEnumerable().Reverse().Select(Load).ToArray());

    public async Task<RedeliverResult> RedeliverAsync(long after)
    {
        if (!_state.Exists)
        {
            return RedeliverResult.NoWebhook;
        }

        var feed = await Log.GetInfoAsync();
        if (after == 0)
        {
            // "Every retained event", as the API, the CLI and the portal say: also once retention has erased the oldest.
            after = feed.First - 1;
        }

        if (after >= feed.Next)
        {
            return RedeliverResult.Beyond;
        }

        if (after + 1 < feed.First)
        {
            return RedeliverResult.Expired;
        }

        // Delivery only ever goes back: a cursor past what was delivered (a stuck webhook told to go on from the feed's end)
        // would skip the events in between without trace. Those are delivered from where delivery is, then the rest.
        _cursor = Math.Max(0, Math.Min(after, _cursor));
        await SaveAsync(0, null, null, null, parked: [.. _state.Value.Parked.Where(p => p.Sequence <= _cursor)]);
        await Reminder.HoldAsync();
        DeliverNow();
        return RedeliverResult.Started;
    }

    public async Task NotifyAsync(long readable)
    {
        if (_state.Exists && readable > _cursor)
        {
            _told = true;
            await Reminder.HoldAsync();
            StartLoop();
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        // Held by this activation from here (registered again if another held it), and released once delivery has caught
        // up; without a webhook, released at once.
        if (_state.Exists)
        {
            StartLoop();
        }

        await Reminder.TickAsync(working: _state.Exists);
    }

    /// <summary>One round of delivery: the events after the cursor, in order, until one fails or none is left.</summary>
    private async Task DeliverAsync(CancellationToken cancellation)
    {
        if (!_state.Exists)
        {
            StopLoop();
            ShowBacklog(null);
            return;
        }

        var stored = _state.Value;
        var now = time.GetUtcNow();
        if (stored.NextAttemptAt is { } next && next > now)
        {
            // A new activation waiting out a retry's backoff (up to an hour) still shows how old the waiting event is.
            if (!_backlogShown && (await Log.ReadAsync(_cursor, 1)).Events is [var waiting, ..])
            {
                ShowBacklog(waiting.OccurredAt);
            }

            _loop?.Change(next - now, TimeSpan.FromSeconds(1));
            return;
        }

        _told = false;
        var page = await Log.ReadAsync(_cursor, BatchSize);
        if (page.Expired)
        {
            // The webhook fell behind the retention window: what is gone cannot be sent; go on from the oldest retained.
            var first = (await Log.GetInfoAsync()).First;
            if (first - 1 <= _cursor)
            {
                // Pages erased before the log recorded its new start (a retention pass under way, or one whose last write
                // failed: the read just asked it to run again). Never move back; read again in a moment.
                _loop?.Change(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
                return;
            }

            // Told where the admin looks (GET …/webhook, the CLI, the console) and in the metrics, not only in the silo's log:
            // the vendor must mend its copy of what these events changed.
            LogSkippedExpired(logger, _tenantId, _cursor, first - 1);
            instruments.Expired(first - 1 - _cursor);
            List<ExpiredEventsRecord> expired = [.. _state.Value.Expired.TakeLast(ExpiredKept - 1), new() { After = _cursor, Through = first - 1, At = time.GetUtcNow() }];
            _cursor = first - 1;
            await SaveAsync(0, null, null, null, expired: expired);
            return;
        }

        if (page.Events.Length == 0)
        {
            _cursor = Math.Max(_cursor, page.Cursor);
            await SaveAsync(0, null, null, null);
            if (_told)
            {
                // The log told of more while the cursor was being saved: read again rather than sleep through it.
                _loop?.Change(TimeSpan.Zero, TimeSpan.FromSeconds(1));
                return;
            }

            ShowBacklog(null);
            StopLoop();
            await Reminder.ReleaseAsync();
            if (_told)
            {
                // Told while the reminder was being released: that call started a new loop; it needs the reminder back.
                await Reminder.HoldAsync();
            }

            return;
        }

        ShowBacklog(page.Events[0].OccurredAt);
        var round = time.GetTimestamp();
        foreach (var e in page.Events)
        {
            if (time.GetElapsedTime(round) >= RoundBudget)
            {
                // A slow receiver that still answers: the calls waiting on this grain (set, delete, test, redeliver, and
                // offboarding's delete) take their turn before the next round reads on from the cursor.
                break;
            }

            var attempt = await SendAsync(e, cancellation);
            Remember(attempt);
            if (attempt.Delivered)
            {
                instruments.Attempted(attempt, parked: false, e.OccurredAt);
                _cursor = e.Sequence;
                if (++_unsaved >= CursorWriteEvery || _state.Value.Attempts > 0)
                {
                    await SaveAsync(0, null, null, null);
                }

                continue;
            }

            var attempts = _state.Value.Attempts + 1;
            var firstAt = _state.Value.FirstAttemptAt ?? attempt.At;
            var retryAt = time.GetUtcNow() + WebhookRetrySchedule.DelayBefore(attempts + 1, _jitter);
            if (WebhookRetrySchedule.ShouldPark(firstAt, retryAt, options.Value.WebhookRetryDays))
            {
                instruments.Attempted(attempt, parked: true, e.OccurredAt);
                LogParked(logger, _tenantId, e.Id, attempts);
                _cursor = e.Sequence;
                List<ParkedEventRecord> parked = [.. _state.Value.Parked.TakeLast(ParkedKept - 1), new() { EventId = e.Id, Sequence = e.Sequence, ParkedAt = attempt.At }];
                await SaveAsync(0, null, null, null, parked);
                continue;
            }

            instruments.Attempted(attempt, parked: false, e.OccurredAt);
            await SaveAsync(attempts, firstAt, retryAt, e.Id);
            _loop?.Change(retryAt - time.GetUtcNow(), TimeSpan.FromSeconds(1));
            return;
        }

        // More may be waiting: the next tick reads on.
        _loop?.Change(TimeSpan.Zero, TimeSpan.FromSeconds(1));
    }

    private async Task<DeliveryAttempt> SendAsync(ScimEvent e, CancellationToken cancellation)
    {
        try
        {
            _secret ??= protector.Unprotect(_state.Value.ProtectedSecret, _tenantId);
        }
        catch (CryptographicException)
        {
            // An attempt that failed like any other (recorded, retried with backoff, parked in the end, shown to the admin),
            // not an error every second that nobody sees in the deliveries.
            LogSecretUnreadable(logger, _tenantId);
            return new DeliveryAttempt(e.Id, time.GetUtcNow(), null, DeliveryErrors.SecretUnreadable, TimeSpan.Zero, Delivered: false);
        }

        var body = Encoding.UTF8.GetBytes(ScimSerializer.Serialize(ScimEventJson.ToJson(_tenantId, e)));
        return await sender.SendAsync(new Uri(_state.Value.Url), _secret, e.Id, e.Type, body, cancellation);
    }

    private void Remember(DeliveryAttempt attempt)
    {
        _recent.Add(new DeliveryRecord
        {
            EventId = attempt.EventId,
            At = attempt.At,
            StatusCode = attempt.StatusCode,
            Error = attempt.Error,
            DurationMilliseconds = attempt.Duration.TotalMilliseconds,
            Delivered = attempt.Delivered,
        });
        if (_recent.Count > RecentAttempts)
        {
            _recent.RemoveRange(0, _recent.Count - RecentAttempts);
        }
    }

    private async Task SaveAsync(int attempts, DateTimeOffset? firstAttemptAt, DateTimeOffset? nextAttemptAt, string? retrying, List<ParkedEventRecord>? parked = null, List<ExpiredEventsRecord>? expired = null)
    {
        var stored = _state.Value;
        await _state.CommitAsync(
            new WebhookState
            {
                Url = stored.Url,
                ProtectedSecret = stored.ProtectedSecret,
                CreatedAt = stored.CreatedAt,
                Cursor = _cursor,
                Attempts = attempts,
                FirstAttemptAt = firstAttemptAt,
                NextAttemptAt = nextAttemptAt,
                RetryingEventId = retrying,
                Parked = parked ?? stored.Parked,
                Recent = [.. _recent],
                Expired = expired ?? stored.Expired,
            },
            this);
        _unsaved = 0;
    }

    private WebhookInfo Info()
    {
        var stored = _state.Value;
        return new WebhookInfo(
            stored.Url,
            stored.CreatedAt,
            _cursor,
            [.. stored.Parked.Select(p => new ParkedEvent(p.EventId, p.Sequence, p.ParkedAt))],
            stored.RetryingEventId,
            stored.NextAttemptAt,
            [.. stored.Expired.Select(x => new ExpiredEvents(x.After, x.Through, x.At))]);
    }

    private void StartLoop() =>
        _loop ??= this.RegisterGrainTimer(DeliverAsync, new GrainTimerCreationOptions(TimeSpan.Zero, TimeSpan.FromSeconds(1)) { KeepAlive = true });

    // Starts a round at once, also when a retry's backoff has the loop waiting (up to an hour): after a redelivery or a new
    // address, the operator expects deliveries now, not at the old address's retry time.
    private void DeliverNow()
    {
        StartLoop();
        _loop!.Change(TimeSpan.Zero, TimeSpan.FromSeconds(1));
    }

    private void StopLoop()
    {
        _loop?.Dispose();
        _loop = null;
    }

    private void ShowBacklog(DateTimeOffset? oldestUndelivered)
    {
        instruments.Backlog(_tenantId, oldestUndelivered);
        _backlogShown = oldestUndelivered is not null;
    }

    // Held while delivery is behind the feed: a new activation, on any silo, goes on after this one's died.
    private HeldReminder Reminder => _reminder ??= new HeldReminder(this, ReminderName, TimeSpan.FromMinutes(1));

    private static DeliveryAttempt Load(DeliveryRecord r) =>
        new(r.EventId, r.At, r.StatusCode, r.Error, TimeSpan.FromMilliseconds(r.DurationMilliseconds), r.Delivered);

    [LoggerMessage(3101, LogLevel.Information, "Tenant {TenantId}: webhook set.")]
    private static partial void LogSet(ILogger logger, string tenantId);

    [LoggerMessage(3102, LogLevel.Information, "Tenant {TenantId}: webhook removed.")]
    private static partial void LogDeleted(ILogger logger, string tenantId);

    [LoggerMessage(3103, LogLevel.Warning, "Tenant {TenantId}: webhook event {EventId} parked after {Attempts} failed attempts.")]
    private static partial void LogParked(ILogger logger, string tenantId, string eventId, int attempts);

    [LoggerMessage(3105, LogLevel.Warning, "Tenant {TenantId}: the webhook's stored secret cannot be decrypted with Events:SecretKey (changed or lost?); nothing is sent until the webhook is set again with a new secret.")]
    private static partial void LogSecretUnreadable(ILogger logger, string tenantId);

    [LoggerMessage(3104, LogLevel.Warning, "Tenant {TenantId}: webhook cursor {Cursor} is older than the feed's retention; events up to {First} were never delivered.")]
    private static partial void LogSkippedExpired(ILogger logger, string tenantId, long cursor, long first);
}
