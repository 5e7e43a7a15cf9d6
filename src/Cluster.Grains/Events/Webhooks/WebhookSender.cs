using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Options;

namespace Cluster.Grains.Events.Webhooks;

/// <summary>
/// Sends one event to one webhook: a <c>POST</c> of the event's JSON with <c>Scim-Event-Id</c>,
/// <c>Scim-Event-Type</c>, <c>Scim-Signature</c> (<see cref="WebhookSignature"/>, signed at send time) and a
/// <c>User-Agent</c>, through the <see cref="HttpClientName"/> client (whose handler enforces
/// <see cref="WebhookUrlPolicy"/>). The whole attempt — connect, send, response headers, reading at most 4 KiB of the
/// body, which is then dropped — is bounded by <see cref="EventsOptions.WebhookTimeoutSeconds"/>. Every outcome is a
/// <see cref="DeliveryAttempt"/>; only the caller's own cancellation throws. Retrying is the caller's business
/// (<see cref="WebhookRetrySchedule"/>). The secret is used to sign and nothing else: never logged, never in an error.
/// </summary>
public sealed partial class WebhookSender(IHttpClientFactory clients, IOptions<EventsOptions> options, TimeProvider time, ILogger<WebhookSender> logger)
{
    /// <summary>The named <see cref="HttpClient"/> registered by <c>AddScimEvents</c>.</summary>
    public const string HttpClientName = "Cluster.Webhooks";

    /// <summary>Header carrying the event's id (receivers de-duplicate on it: delivery is at least once).</summary>
    public const string EventIdHeader = "Scim-Event-Id";

    /// <summary>Header carrying the event's type.</summary>
    public const string EventTypeHeader = "Scim-Event-Type";

    /// <summary>The <c>User-Agent</c> of webhook requests.</summary>
    public const string UserAgent = "scim-cluster-webhooks/1.0";

    /// <summary>At most this much of a response body is read (then dropped), so a small answer leaves the connection reusable.</summary>
    internal const int MaxResponseBytesRead = 4096;

    /// <summary>Sends <paramref name="body"/> (the event's JSON, signed as it is) to <paramref name="url"/>.</summary>
    public async Task<DeliveryAttempt> SendAsync(Uri url, string secret, string eventId, string eventType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentException.ThrowIfNullOrEmpty(secret);
        ArgumentException.ThrowIfNullOrEmpty(eventId);
        ArgumentException.ThrowIfNullOrEmpty(eventType);
        if (!url.IsAbsoluteUri)
        {
            throw new ArgumentException("The webhook URL must be absolute.", nameof(url));
        }

        var settings = options.Value;
        var at = time.GetUtcNow();
        var started = time.GetTimestamp();
        int? status = null;
        string? error = null;
        if (url.Scheme != Uri.UriSchemeHttps && !(settings.AllowInsecureWebhooks && url.Scheme == Uri.UriSchemeHttp))
        {
            error = DeliveryErrors.RefusedUrl;
        }
        else
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(settings.WebhookTimeoutSeconds), time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ReadOnlyMemoryContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                request.Headers.UserAgent.ParseAdd(UserAgent);
                request.Headers.Add(EventIdHeader, eventId);
                request.Headers.Add(EventTypeHeader, eventType);
                request.Headers.Add(WebhookSignature.HeaderName, WebhookSignature.Create(secret, at.ToUnixTimeSeconds(), body.Span));
                using var response = await clients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
                status = (int)response.StatusCode;
                await DrainAsync(response, linked.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                error = DeliveryErrors.Timeout;
            }
            catch (HttpRequestException e)
            {
                error = Classify(e);
            }
        }

        var attempt = new DeliveryAttempt(eventId, at, status, error, time.GetElapsedTime(started), status is >= 200 and <= 299);
        LogAttempt(logger, eventId, url.Host, status, error ?? "", (long)attempt.Duration.TotalMilliseconds, attempt.Delivered);
        return attempt;
    }

    /// <summary>Maps a failed request to a fixed <see cref="DeliveryErrors"/> string.</summary>
    internal static string Classify(HttpRequestException exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case WebhookAddressRefusedException:
                    return DeliveryErrors.RefusedAddress;
                case AuthenticationException:
                    return DeliveryErrors.Tls;
                case SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain }:
                    return DeliveryErrors.Dns;
            }
        }

        return exception.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => DeliveryErrors.Dns,
            HttpRequestError.SecureConnectionError => DeliveryErrors.Tls,
            HttpRequestError.HttpProtocolError or HttpRequestError.InvalidResponse or HttpRequestError.ConfigurationLimitExceeded
                or HttpRequestError.VersionNegotiationError => DeliveryErrors.Protocol,
            _ => DeliveryErrors.Connection,
        };
    }

    /// <summary>Reads at most <see cref="MaxResponseBytesRead"/> bytes of the body and drops them; the status alone decides.</summary>
    private static async Task DrainAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[MaxResponseBytesRead];
            var total = 0;
            while (total < buffer.Length)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
        {
            // The answer's status is already known; a body that is slow, broken or cut off changes nothing.
        }
    }

    [LoggerMessage(3001, LogLevel.Debug, "Webhook event {EventId} to {Host}: status {StatusCode} {Error} in {DurationMs} ms (delivered: {Delivered}).")]
    private static partial void LogAttempt(ILogger logger, string eventId, string host, int? statusCode, string error, long durationMs, bool delivered);
}
