using System.ComponentModel.DataAnnotations;

namespace Cluster.Abstractions;

/// <summary>
/// The provisioning log (issue 14; docs/architecture.md, "Provisioning log"). Section <c>Portal</c>, shared with the customer
/// portal's own settings: silos read <see cref="LogRetentionDays"/>; gateways read the rest. Validated at start-up on both.
/// </summary>
public sealed class RequestLogOptions
{
    public const string SectionName = "Portal";

    /// <summary>
    /// How many days entries stay in a tenant's provisioning log. Default 30; fractions are allowed (at least 0.0001 day, about
    /// 9 s, for tests), as for <c>Events:RetentionDays</c>.
    /// </summary>
    [Range(0.0001, 365)]
    public double LogRetentionDays { get; set; } = 30;

    /// <summary>
    /// Whether gateways record SCIM requests in the tenants' provisioning logs. Default <c>true</c>; <c>false</c> records nothing
    /// (the benchmark compares both).
    /// </summary>
    public bool RequestLog { get; set; } = true;

    /// <summary>
    /// Most entries a gateway holds before it writes them (default 10,000, at most ~1 KB each). When the buffer is full,
    /// further entries are dropped and counted (<c>scim.requestlog.dropped</c>), never waited for.
    /// </summary>
    [Range(100, 1_000_000)]
    public int RequestLogBufferSize { get; set; } = 10_000;

    /// <summary>How often a gateway writes its buffered entries, one grain call per tenant. Default 1 s (0.05–60).</summary>
    [Range(0.05, 60)]
    public double RequestLogFlushSeconds { get; set; } = 1;
}
