using System.Diagnostics.Metrics;
using Cluster.ServiceDefaults.Telemetry;

namespace Cluster.Gateway.RequestLog;

/// <summary>
/// Metrics of the gateway's side of the provisioning log, on the product's meter <see cref="ScimInstruments.MeterName"/>
/// (already exported by every process). Labels are a fixed list; no tenant, name or content.
/// </summary>
public sealed class RequestLogInstruments
{
    /// <summary>Values of the <c>reason</c> label of <c>scim.requestlog.dropped</c>.</summary>
    public static class Reasons
    {
        /// <summary>The gateway's buffer was full when the request ended (the entry was never kept).</summary>
        public const string BufferFull = "buffer-full";

        /// <summary>The grain call that should have written the entry failed or timed out (at-most-once delivery).</summary>
        public const string FlushFailed = "flush-failed";
    }

    // Behind observable counters: exported at 0 from the start, so an alert on an increase sees the first one.
    private long _written;
    private long _bufferFull;
    private long _flushFailed;

    public RequestLogInstruments(IMeterFactory meterFactory, RequestLogBuffer buffer)
    {
        var meter = meterFactory.Create(ScimInstruments.MeterName);
        meter.CreateObservableCounter("scim.requestlog.written", () => Interlocked.Read(ref _written), "{entry}", "Provisioning log entries written to the tenants' logs.");
        meter.CreateObservableCounter(
            "scim.requestlog.dropped",
            DroppedTotals,
            "{entry}",
            "Provisioning log entries lost: the gateway's buffer was full (buffer-full) or their write failed (flush-failed).");
        meter.CreateObservableGauge("scim.requestlog.buffered", () => buffer.Count, "{entry}", "Provisioning log entries waiting in this gateway's buffer.");
        buffer.Dropped += n => Interlocked.Add(ref _bufferFull, n);
    }

    public void Written(int entries) => Interlocked.Add(ref _written, entries);

    public void FlushFailed(int entries) => Interlocked.Add(ref _flushFailed, entries);

    private IEnumerable<Measurement<long>> DroppedTotals() =>
    [
        new(Interlocked.Read(ref _bufferFull), new KeyValuePair<string, object?>(ScimInstruments.Tags.Reason, Reasons.BufferFull)),
        new(Interlocked.Read(ref _flushFailed), new KeyValuePair<string, object?>(ScimInstruments.Tags.Reason, Reasons.FlushFailed)),
    ];
}
