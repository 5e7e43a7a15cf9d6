namespace Cluster.Gateway.Telemetry;

/// <summary>
/// What the SCIM response said beyond its status code, noted by <see cref="Http.ScimHttp"/> when it writes the
/// body, read by <see cref="ScimTelemetryMiddleware"/> when the request ends. A per-request HTTP feature.
/// </summary>
public sealed class ScimResponseOutcome
{
    /// <summary>The <c>scimType</c> of an error response.</summary>
    public string? ScimType { get; set; }

    /// <summary>The <c>active</c> attribute of a returned resource (null when absent).</summary>
    public bool? Active { get; set; }

    /// <summary>What the provisioning log notes of this response (null when the log is off: nothing is noted).</summary>
    public RequestLog.RequestLogFacts? Log { get; set; }

    /// <summary>Records on the current request, if it is being measured.</summary>
    public static void Note(HttpContext context, string? scimType, bool? active)
    {
        if (context.Features.Get<ScimResponseOutcome>() is { } outcome)
        {
            outcome.ScimType = scimType;
            outcome.Active = active;
        }
    }
}
