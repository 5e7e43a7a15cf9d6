namespace Cluster.Abstractions;

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
    /// <summary>No answer within <c>Events:WebhookTimeoutSeconds</c> (a hanging receiver, a slow connect).</summary>
    public const string Timeout = "timeout";

    /// <summary>The connection could not be made or was dropped (refused, reset, closed before an answer).</summary>
    public const string Connection = "connection";

    /// <summary>The host name did not resolve.</summary>
    public const string Dns = "dns";

    /// <summary>The TLS handshake failed (untrusted or mismatched certificate, no common protocol).</summary>
    public const string Tls = "tls";

    /// <summary>The receiver answered something that is not valid HTTP, or exceeded a response limit.</summary>
    public const string Protocol = "protocol";

    /// <summary>Every address of the host is non-public and <c>Events:AllowInsecureWebhooks</c> is off; nothing was connected to.</summary>
    public const string RefusedAddress = "refused-address";

    /// <summary>The URL is not allowed any more (plain http with <c>Events:AllowInsecureWebhooks</c> off); nothing was sent.</summary>
    public const string RefusedUrl = "refused-url";

    /// <summary>
    /// The stored secret cannot be decrypted (<c>Events:SecretKey</c> changed or lost, or differs between silos); nothing was
    /// sent. Setting the webhook again with a new secret (<c>PUT …/webhook</c>) mends it.
    /// </summary>
    public const string SecretUnreadable = "secret-unreadable";
}

/// <summary>
/// A tenant's webhook (issue 12): where its events are POSTed, signed, one at a time in sequence order, each retried with
/// backoff until delivered or parked (docs/architecture.md, "Events"). Delivery runs in this grain, never on a SCIM
/// request's path. Key: <see cref="GrainKeys.Webhook"/>.
/// </summary>
[Alias("scim.IWebhookGrain")]
public interface IWebhookGrain : IGrainWithStringKey
{
    /// <summary>
    /// Sets the webhook (replacing any): its URL, and its secret (generated when null, and then returned once). A new webhook
    /// starts with the events that become readable from now on; a replaced one keeps its cursor, so its undelivered events go
    /// to the new URL, signed with the new secret. An invalid URL or secret changes nothing.
    /// </summary>
    [Alias("Set")]
    Task<WebhookSetResult> SetAsync(string url, string? secret);

    /// <summary>The webhook without its secret, or null.</summary>
    [Alias("Get"), AlwaysInterleave]
    Task<WebhookInfo?> GetAsync();

    /// <summary>Removes the webhook (and its delivery state). False when there was none.</summary>
    [Alias("Delete")]
    Task<bool> DeleteAsync();

    /// <summary>Sends a <c>ping</c> event now (not part of the feed, not retried). Null when there is no webhook.</summary>
    [Alias("Test")]
    Task<DeliveryAttempt?> TestAsync();

    /// <summary>The most recent delivery attempts, newest first.</summary>
    [Alias("Deliveries"), AlwaysInterleave]
    Task<DeliveryAttempt[]> GetDeliveriesAsync();

    /// <summary>Delivers again every event after sequence <paramref name="after"/> (parked ones too), in order.</summary>
    [Alias("Redeliver")]
    Task<RedeliverResult> RedeliverAsync(long after);

    /// <summary>
    /// Told by the tenant's event log that events up to <paramref name="readable"/> can be read: the webhook makes sure it
    /// will deliver them (a reminder survives a crash) before it answers. Interleaves with a delivery in flight.
    /// </summary>
    [Alias("Notify"), AlwaysInterleave]
    Task NotifyAsync(long readable);
}

/// <summary>The outcome of <see cref="IWebhookGrain.SetAsync"/>: the webhook, or why the request was refused.</summary>
[GenerateSerializer, Immutable, Alias("scim.WebhookSetResult")]
public sealed record WebhookSetResult(
    [property: Id(0)] WebhookInfo? Webhook,
    [property: Id(1)] string? GeneratedSecret,
    [property: Id(2)] string? Error);

/// <summary>A webhook as shown to operators: never its secret.</summary>
/// <param name="Url">Where events are POSTed.</param>
/// <param name="CreatedAt">When it was set.</param>
/// <param name="Cursor">Every event up to this sequence was delivered (or parked).</param>
/// <param name="Parked">Events given up on after the retry window (delivered again by a redelivery).</param>
/// <param name="Retrying">The event being retried, when its last attempt failed.</param>
/// <param name="NextAttemptAt">When that event is tried again.</param>
/// <param name="Expired">Events retention erased before they were delivered (a receiver down for longer than <c>Events:RetentionDays</c>).</param>
[GenerateSerializer, Immutable, Alias("scim.WebhookInfo")]
public sealed record WebhookInfo(
    [property: Id(0)] string Url,
    [property: Id(1)] DateTimeOffset CreatedAt,
    [property: Id(2)] long Cursor,
    [property: Id(3)] IReadOnlyList<ParkedEvent> Parked,
    [property: Id(4)] string? Retrying,
    [property: Id(5)] DateTimeOffset? NextAttemptAt,
    [property: Id(6)] IReadOnlyList<ExpiredEvents> Expired);

/// <summary>
/// Events a webhook never delivered because retention erased them first: every sequence after <paramref name="After"/>
/// up to <paramref name="Through"/>, skipped at <paramref name="At"/>. The vendor's copy of those changes must be mended
/// from the current state (a full read of the tenant), as after a 410 of the pull API.
/// </summary>
[GenerateSerializer, Immutable, Alias("scim.ExpiredEvents")]
public sealed record ExpiredEvents(
    [property: Id(0)] long After,
    [property: Id(1)] long Through,
    [property: Id(2)] DateTimeOffset At);

/// <summary>An event the webhook gave up on (after <c>Events:WebhookRetryDays</c> of failed attempts).</summary>
[GenerateSerializer, Immutable, Alias("scim.ParkedEvent")]
public sealed record ParkedEvent(
    [property: Id(0)] string EventId,
    [property: Id(1)] long Sequence,
    [property: Id(2)] DateTimeOffset ParkedAt);

/// <summary>The outcome of <see cref="IWebhookGrain.RedeliverAsync"/>.</summary>
[GenerateSerializer, Alias("scim.RedeliverResult")]
public enum RedeliverResult
{
    Started = 0,
    NoWebhook = 1,

    /// <summary>The cursor is older than the feed's retention window.</summary>
    Expired = 2,

    /// <summary>The cursor is past every sequence the feed has assigned (<see cref="EventPage.Beyond"/>).</summary>
    Beyond = 3,
}
