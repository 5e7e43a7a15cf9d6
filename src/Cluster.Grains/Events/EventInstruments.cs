using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Cluster.Grains.Events;

/// <summary>
/// Metrics of the event feed and webhooks, on the meter <see cref="MeterName"/> (exported by the silos next to
/// <c>Cluster.Scim</c>). Labels are bounded: event types and delivery outcomes are fixed lists; no tenant id, URL or
/// event content is ever a label.
/// </summary>
public sealed class EventInstruments
{
    public const string MeterName = "Cluster.Scim.Events";

    /// <summary>Delivery outcomes (label <c>outcome</c>).</summary>
    public static class Outcomes
    {
        public const string Delivered = "delivered";
        public const string Failed = "failed";
        public const string Parked = "parked";
    }

    // The oldest undelivered event of each tenant whose webhook is behind, on this silo.
    private readonly ConcurrentDictionary<string, DateTimeOffset> _backlog = new(StringComparer.Ordinal);
    private readonly Counter<long> _appended;

    // Totals behind observable counters: exported from the process's start, at 0 until the first occurrence, so an alert on
    // their increase sees the first one (a counter's series would appear at its first value, which increase() reads as none).
    private readonly long[] _deliveries = new long[DeliveryOutcomes.Length];
    private long _expired;
    private readonly Histogram<double> _attemptDuration;
    private readonly Histogram<double> _lag;
    private readonly TimeProvider _time;

    // An attempt: a receiver's answer, up to its 10 s timeout. The lag: a fraction of a second when caught up, up to hours
    // while a receiver is down and its events wait for retries.
    private static readonly double[] AttemptBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly double[] LagBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400];

    private static readonly string[] DeliveryOutcomes = [Outcomes.Delivered, Outcomes.Failed, Outcomes.Parked];

    public EventInstruments(IMeterFactory meterFactory, TimeProvider time)
    {
        _time = time;
        var meter = meterFactory.Create(MeterName);
        _appended = meter.CreateCounter<long>("scim.events.appended", "{event}", "Events added to tenants' feeds, by type (counted when prepared).");
        meter.CreateObservableCounter("scim.webhook.deliveries", DeliveryTotals, "{attempt}", "Webhook delivery attempts, by outcome (delivered, failed, parked).");
        meter.CreateObservableCounter("scim.webhook.expired", () => Interlocked.Read(ref _expired), "{event}", "Events retention erased before their webhook delivered them (never sent).");
        // In seconds, with boundaries for seconds: without advice the SDK's default boundaries (0, 5, 10, 25, … 10,000) are
        // made for milliseconds, and every delivery under 5 s would fall in one bucket.
        _attemptDuration = meter.CreateHistogram<double>("scim.webhook.attempt.duration", "s", "How long one webhook delivery attempt took.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = AttemptBuckets });
        _lag = meter.CreateHistogram<double>("scim.webhook.delivery.lag", "s", "From an event's change to its delivery to the webhook.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LagBuckets });
        meter.CreateObservableGauge("scim.webhook.oldest_undelivered.age", OldestUndeliveredAge, "s", "Age of the oldest event not yet delivered to its webhook, the maximum over this silo's tenants.");
    }

    public void Appended(IEnumerable<ScimEvent> events)
    {
        foreach (var type in events.GroupBy(e => e.Type))
        {
            _appended.Add(type.Count(), new KeyValuePair<string, object?>("type", type.Key));
        }
    }

    public void Attempted(DeliveryAttempt attempt, bool parked, DateTimeOffset occurredAt)
    {
        var outcome = attempt.Delivered ? Outcomes.Delivered : parked ? Outcomes.Parked : Outcomes.Failed;
        Interlocked.Increment(ref _deliveries[Array.IndexOf(DeliveryOutcomes, outcome)]);
        if (attempt.Error is not (DeliveryErrors.SecretUnreadable or DeliveryErrors.RefusedUrl or DeliveryErrors.RefusedAddress))
        {
            // Only attempts that went to the network: one refused before any connection would pull the latency down.
            _attemptDuration.Record(attempt.Duration.TotalSeconds);
        }
        if (attempt.Delivered)
        {
            _lag.Record(Math.Max(0, (_time.GetUtcNow() - occurredAt).TotalSeconds));
        }
    }

    /// <summary>A webhook skipped <paramref name="count"/> events that retention erased before it delivered them.</summary>
    public void Expired(long count) => Interlocked.Add(ref _expired, count);

    /// <summary>A tenant's webhook is behind since <paramref name="oldest"/> (null: caught up).</summary>
    public void Backlog(string tenantId, DateTimeOffset? oldest)
    {
        if (oldest is { } since)
        {
            _backlog[tenantId] = since;
        }
        else
        {
            _backlog.TryRemove(tenantId, out _);
        }
    }

    private IEnumerable<Measurement<long>> DeliveryTotals() =>
        DeliveryOutcomes.Select((outcome, i) => new Measurement<long>(Interlocked.Read(ref _deliveries[i]), new KeyValuePair<string, object?>("outcome", outcome)));

    // Called on the exporter's thread while grains add and remove backlogs: one pass over the dictionary's enumerator,
    // which never throws on concurrent change (an emptiness check followed by Max could see the last entry go and throw,
    // and the exporter then drops the whole gauge from that scrape).
    private double OldestUndeliveredAge()
    {
        var now = _time.GetUtcNow();
        var age = 0.0;
        foreach (var (_, since) in _backlog)
        {
            age = Math.Max(age, (now - since).TotalSeconds);
        }

        return age;
    }
}
