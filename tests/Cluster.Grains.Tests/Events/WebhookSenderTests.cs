using Cluster.Abstractions;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Cluster.Grains.Events.Webhooks;
using Cluster.Operations.Tests;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Cluster.Grains.Tests.Events;

/// <summary>
/// <see cref="WebhookSender"/> as registered by <c>AddScimEvents</c>, against a real receiver on loopback (so with
/// <c>Events:AllowInsecureWebhooks</c>, except where the point is that it is off). Attempts may take 30 s, except
/// against the hanging receiver (1 s of a fake clock, advanced once the receiver has the request): a loaded machine must
/// not turn an answer into a timeout.
/// </summary>
public sealed class WebhookSenderTests
{
    private const string Secret = "whsec_sender-test-secret-0123456789abcdef";
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"id":"evt_1","type":"user.created","data":{"id":"u1"}}""");

    [Fact]
    public async Task A200IsDeliveredWithTheHeadersAndASignatureTheReceiverCanVerify()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var logs = new CapturingLoggerProvider();
        await using var services = Services(allowInsecure: true, logs);

        var attempt = await Send(services, receiver.Url);

        Assert.Null(attempt.Error);
        Assert.True(attempt.Delivered);
        Assert.Equal(200, attempt.StatusCode);
        Assert.Equal("evt_1", attempt.EventId);
        Assert.True(attempt.Duration >= TimeSpan.Zero);
        var request = Assert.Single(receiver.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/webhook", request.PathAndQuery);
        Assert.Equal("application/json", request.Header("Content-Type"));
        Assert.Equal("evt_1", request.EventId);
        Assert.Equal("user.created", request.EventType);
        Assert.Equal(WebhookSender.UserAgent, request.Header("User-Agent"));
        Assert.Equal(Body, request.Body);
        Assert.True(request.HasValidSignature(Secret));
        Assert.False(request.HasValidSignature(Secret + "-other"));
        var t = long.Parse(request.Header(WebhookSignature.HeaderName)!.Split(',')[0][2..], CultureInfo.InvariantCulture);
        Assert.Equal(attempt.At.ToUnixTimeSeconds(), t);

        // The secret goes nowhere but into the HMAC: not into a header, not into a log entry.
        Assert.All(request.Headers.Values, v => Assert.DoesNotContain(Secret, v, StringComparison.Ordinal));
        var entry = Assert.Single(logs.Entries, e => e.Category == typeof(WebhookSender).FullName);
        Assert.Contains("evt_1", entry.Message, StringComparison.Ordinal);
        Assert.All(logs.Entries.SelectMany(e => e.Texts()), text => Assert.DoesNotContain(Secret, text, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    [InlineData(404)]
    [InlineData(410)]
    public async Task ANon2xxAnswerIsNotDeliveredAndKeepsItsStatus(int status)
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.RespondWith(new WebhookResponse { StatusCode = status, Body = "a body that is never kept" });
        await using var services = Services(allowInsecure: true);

        var attempt = await Send(services, receiver.Url);

        Assert.Null(attempt.Error);
        Assert.False(attempt.Delivered);
        Assert.Equal(status, attempt.StatusCode);
    }

    [Fact]
    public async Task AnyOther2xxIsDeliveredAndALargeBodyIsNotReadWhole()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.RespondWith(new WebhookResponse { StatusCode = 202, Body = new string('x', 1_000_000) });
        await using var services = Services(allowInsecure: true);

        var attempt = await Send(services, receiver.Url);

        Assert.Null(attempt.Error);
        Assert.True(attempt.Delivered);
        Assert.Equal(202, attempt.StatusCode);
    }

    [Fact]
    public async Task AHangingReceiverIsATimeout()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.RespondWith(WebhookResponse.Hanging);
        var clock = new FakeTimeProvider();
        await using var services = Services(allowInsecure: true, timeoutSeconds: 1, clock: clock);

        // The receiver has the request (however long a loaded machine took to get it there), then the attempt's time runs out.
        var sending = Send(services, receiver.Url);
        await receiver.WaitForAsync(1, TimeSpan.FromSeconds(30));
        Assert.False(sending.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(1));
        var attempt = await sending.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(attempt.Delivered);
        Assert.Null(attempt.StatusCode);
        Assert.Equal(DeliveryErrors.Timeout, attempt.Error);
        Assert.Single(receiver.Requests);
    }

    [Fact]
    public async Task AClosedPortIsAConnectionError()
    {
        await using var services = Services(allowInsecure: true);

        var attempt = await Send(services, new Uri($"http://127.0.0.1:{TestPorts.Free()}/webhook"));

        Assert.False(attempt.Delivered);
        Assert.Null(attempt.StatusCode);
        Assert.Equal(DeliveryErrors.Connection, attempt.Error);
    }

    [Fact]
    public async Task AConnectionClosedWithoutAnAnswerIsAConnectionError()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.RespondWith(WebhookResponse.Closed);
        await using var services = Services(allowInsecure: true);

        var attempt = await Send(services, receiver.Url);

        Assert.Null(attempt.StatusCode);
        Assert.Equal(DeliveryErrors.Connection, attempt.Error);
    }

    [Fact]
    public async Task AnUnresolvableHostIsADnsError()
    {
        await using var services = Services(allowInsecure: true);

        // .invalid never resolves (RFC 6761).
        var attempt = await Send(services, new Uri("https://webhook.example.invalid/"));

        Assert.Equal(DeliveryErrors.Dns, attempt.Error);
    }

    [Fact]
    public void FailuresMapToFixedErrorStrings()
    {
        Assert.Equal(DeliveryErrors.Dns, WebhookSender.Classify(new HttpRequestException("x", new SocketException((int)SocketError.HostNotFound))));
        Assert.Equal(DeliveryErrors.Dns, WebhookSender.Classify(new HttpRequestException("x", new SocketException((int)SocketError.TryAgain))));
        Assert.Equal(DeliveryErrors.Dns, WebhookSender.Classify(new HttpRequestException(HttpRequestError.NameResolutionError)));
        Assert.Equal(DeliveryErrors.Connection, WebhookSender.Classify(new HttpRequestException("x", new SocketException((int)SocketError.ConnectionRefused))));
        Assert.Equal(DeliveryErrors.Connection, WebhookSender.Classify(new HttpRequestException(HttpRequestError.ResponseEnded)));
        Assert.Equal(DeliveryErrors.Tls, WebhookSender.Classify(new HttpRequestException("x", new AuthenticationException("untrusted root"))));
        Assert.Equal(DeliveryErrors.Tls, WebhookSender.Classify(new HttpRequestException(HttpRequestError.SecureConnectionError)));
        Assert.Equal(DeliveryErrors.Protocol, WebhookSender.Classify(new HttpRequestException(HttpRequestError.InvalidResponse)));
        Assert.Equal(DeliveryErrors.Protocol, WebhookSender.Classify(new HttpRequestException(HttpRequestError.ConfigurationLimitExceeded)));
        Assert.Equal(DeliveryErrors.RefusedAddress, WebhookSender.Classify(new HttpRequestException("x", new WebhookAddressRefusedException())));
    }

    [Fact]
    public async Task ARedirectIsNotFollowed()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.RespondWith(WebhookResponse.Redirect(new Uri(receiver.BaseUrl, "elsewhere")), WebhookResponse.Ok);
        await using var services = Services(allowInsecure: true);

        var attempt = await Send(services, receiver.Url);

        Assert.Null(attempt.Error);
        Assert.False(attempt.Delivered);
        Assert.Equal(302, attempt.StatusCode);
        Assert.Equal("/webhook", Assert.Single(receiver.Requests).PathAndQuery);
    }

    [Theory]
    [InlineData("https://127.0.0.1:{port}/webhook")]
    [InlineData("https://localhost:{port}/webhook")]
    [InlineData("https://[::ffff:127.0.0.1]:{port}/webhook")]
    public async Task ALoopbackTargetWithoutTheInsecureSettingIsRefusedBeforeAnyConnection(string url)
    {
        using var listener = TestPorts.Listening(out var port);
        await using var services = Services(allowInsecure: false);

        var attempt = await Send(services, new Uri(url.Replace("{port}", port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)));

        Assert.False(attempt.Delivered);
        Assert.Null(attempt.StatusCode);
        Assert.Equal(DeliveryErrors.RefusedAddress, attempt.Error);
        Assert.False(listener.Pending());
    }

    [Fact]
    public async Task PlainHttpWithoutTheInsecureSettingIsRefusedBeforeAnyConnection()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var services = Services(allowInsecure: false);

        var attempt = await Send(services, receiver.Url);

        Assert.Equal(DeliveryErrors.RefusedUrl, attempt.Error);
        Assert.Empty(receiver.Requests);
    }

    [Fact]
    public async Task TheCallersCancellationThrows()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.RespondWith(WebhookResponse.Hanging);
        await using var services = Services(allowInsecure: true);
        using var cancel = new CancellationTokenSource();

        var send = Send(services, receiver.Url, cancel.Token);
        await receiver.WaitForAsync(1, TimeSpan.FromSeconds(30));
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send);
    }

    [Fact]
    public async Task TheReceiverAnswersInSequenceAndReleasesHangingRequests()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.RespondWith(WebhookResponse.Status(500), WebhookResponse.Hanging with { StatusCode = 204 });
        await using var services = Services(allowInsecure: true);

        Assert.Equal(500, (await Send(services, receiver.Url)).StatusCode);
        var held = Send(services, receiver.Url);
        await receiver.WaitForAsync(2, TimeSpan.FromSeconds(30));
        Assert.False(held.IsCompleted);
        receiver.ReleaseHanging();
        Assert.Equal(204, (await held).StatusCode);
        Assert.Equal([0, 1], receiver.Requests.Select(r => r.Index));
    }

    private static Task<DeliveryAttempt> Send(IServiceProvider services, Uri url, CancellationToken cancellationToken = default) =>
        services.GetRequiredService<WebhookSender>().SendAsync(url, Secret, "evt_1", "user.created", Body, cancellationToken);

    private static ServiceProvider Services(bool allowInsecure, CapturingLoggerProvider? logs = null, int timeoutSeconds = 30, TimeProvider? clock = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Events:SecretKey"] = TestEvents.SecretKey,
            ["Events:AllowInsecureWebhooks"] = allowInsecure ? "true" : "false",
            ["Events:WebhookTimeoutSeconds"] = timeoutSeconds.ToString(CultureInfo.InvariantCulture),
        }).Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging(logging =>
            {
                logging.SetMinimumLevel(LogLevel.Debug);
                if (logs is not null)
                {
                    logging.AddProvider(logs);
                }
            });
        if (clock is not null)
        {
            services.AddSingleton(clock);
        }

        services.AddScimEvents();
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }
}
