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

    private readonly Counter<long> _written;
    private readonly Counter<long> _dropped;

    public RequestLogInstruments(IMeterFactory meterFactory, RequestLogBuffer buffer)
    {
        var meter = meterFactory.Create(ScimInstruments.MeterName);
        _written = meter.CreateCounter<long>("scim.requestlog.written", "{entry}", "Provisioning log entries written to the tenants' logs.");
        _dropped = meter.CreateCounter<long>("scim.requestlog.dropped", "{entry}", "Provisioning log entries lost: the gateway's buffer was full (buffer-full) or their write failed (flush-failed).");
        meter.CreateObservableGauge("scim.requestlog.buffered", () => buffer.Count, "{entry}", "Provisioning log entries waiting in this gateway's buffer.");
        buffer.Dropped += n => _dropped.Add(n, new KeyValuePair<string, object?>(ScimInstruments.Tags.Reason, Reasons.BufferFull));
    }

    public void Written(int entries) => _written.Add(entries);

    public void FlushFailed(int entries) => _dropped.Add(entries, new KeyValuePair<string, object?>(ScimInstruments.Tags.Reason, Reasons.FlushFailed));
}
