namespace Cluster.Grains.Events.Webhooks;

/// <summary>
/// One webhook delivery attempt, as listed by <c>GET …/webhook/deliveries</c>. The response body is never kept.
/// </summary>
/// <param name="EventId">The event that was sent.</param>
/// <param name="At">When the attempt started.</param>
/// <param name="StatusCode">The receiver's HTTP status, when it answered.</param>
/// <param name="Error">Why there is no usable answer: one of the fixed <see cref="DeliveryErrors"/> strings, never exception text.</param>
/// <param name="Duration">From the start of the attempt until its status was known (or it failed).</param>
/// <param name="Delivered"><c>true</c> for a 2xx answer.</param>
[GenerateSerializer, Immutable, Alias("scim.webhooks.DeliveryAttempt")]
public sealed record DeliveryAttempt(
    [property: Id(0)] string EventId,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] int? StatusCode,
    [property: Id(3)] string? Error,
    [property: Id(4)] TimeSpan Duration,
    [property: Id(5)] bool Delivered);

/// <summary>
/// The <see cref="DeliveryAttempt.Error"/> values: short, fixed, safe to show to a tenant's admin and to log (they
/// never carry exception text, which could hold a URL's query or other details).
/// </summary>
public static class DeliveryErrors
{
    /// <summary>No answer within <see cref="EventsOptions.WebhookTimeoutSeconds"/> (a hanging receiver, a slow connect).</summary>
    public const string Timeout = "timeout";

    /// <summary>The connection could not be made or was dropped (refused, reset, closed before an answer).</summary>
    public const string Connection = "connection";

    /// <summary>The host name did not resolve.</summary>
    public const string Dns = "dns";

    /// <summary>The TLS handshake failed (untrusted or mismatched certificate, no common protocol).</summary>
    public const string Tls = "tls";

    /// <summary>The receiver answered something that is not valid HTTP, or exceeded a response limit.</summary>
    public const string Protocol = "protocol";

    /// <summary>Every address of the host is non-public and <see cref="EventsOptions.AllowInsecureWebhooks"/> is off; nothing was connected to.</summary>
    public const string RefusedAddress = "refused-address";

    /// <summary>The URL is not allowed any more (plain http with <see cref="EventsOptions.AllowInsecureWebhooks"/> off); nothing was sent.</summary>
    public const string RefusedUrl = "refused-url";
}
