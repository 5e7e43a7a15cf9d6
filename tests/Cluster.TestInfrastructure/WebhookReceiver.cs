using System.Net;
using System.Text;
using Cluster.Grains.Events.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.TestInfrastructure;

/// <summary>
/// A real webhook receiver for tests: Kestrel on 127.0.0.1, on a port the OS picks when it binds (no race for a
/// "free" port), plain HTTP. It records every request (method, path, headers, raw body, arrival time) before answering,
/// and answers as told by <see cref="RespondWith(WebhookResponse[])"/>: a status, after a delay, a redirect, hanging
/// until <see cref="ReleaseHanging"/> (or the client gives up), or closing the connection without an answer.
/// The default answer is 200. Webhook URLs pointing here need <c>Events:AllowInsecureWebhooks=true</c>
/// (<see cref="TestEvents.Settings"/>).
/// <code>
/// await using var receiver = await WebhookReceiver.StartAsync();
/// receiver.RespondWith(WebhookResponse.Status(500), WebhookResponse.Status(500), WebhookResponse.Ok); // fail twice, then succeed
/// ... (url: receiver.Url)
/// var requests = await receiver.WaitForAsync(3, TimeSpan.FromSeconds(30));
/// Assert.True(requests[2].HasValidSignature(secret));
/// </code>
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly List<ReceivedWebhook> _requests = [];
    private WebApplication _app = null!;
    private Func<ReceivedWebhook, WebhookResponse> _behaviour = _ => WebhookResponse.Ok;
    private TaskCompletionSource _arrived = NewSignal();
    private TaskCompletionSource _release = NewSignal();

    private WebhookReceiver()
    {
    }

    /// <summary>The receiver's base address, <c>http://127.0.0.1:{port}/</c>.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The webhook URL to configure: <c>http://127.0.0.1:{port}/webhook</c> (every path is accepted and recorded).</summary>
    public Uri Url => new(BaseUrl, "webhook");

    /// <summary>The port Kestrel bound.</summary>
    public int Port => BaseUrl.Port;

    /// <summary>Every request so far, in arrival order (a snapshot).</summary>
    public IReadOnlyList<ReceivedWebhook> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Starts a receiver. Dispose it to stop it (hanging requests are released first).</summary>
    public static async Task<WebhookReceiver> StartAsync()
    {
        var receiver = new WebhookReceiver();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        receiver._app = app;
        receiver.BaseUrl = new Uri(address.TrimEnd('/') + "/");
        return receiver;
    }

    /// <summary>
    /// How to answer from now on: one response for every request, or several in turn (the last one repeats), e.g.
    /// <c>RespondWith(WebhookResponse.Status(503), WebhookResponse.Ok)</c>. The count starts at the next request.
    /// </summary>
    public void RespondWith(params WebhookResponse[] responses)
    {
        ArgumentOutOfRangeException.ThrowIfZero(responses.Length);
        lock (_lock)
        {
            var first = _requests.Count;
            _behaviour = request => responses[Math.Min(request.Index - first, responses.Length - 1)];
        }
    }

    /// <summary>How to answer from now on, decided per request (it sees the recorded request, <see cref="ReceivedWebhook.Index"/> included).</summary>
    public void RespondWith(Func<ReceivedWebhook, WebhookResponse> behaviour)
    {
        ArgumentNullException.ThrowIfNull(behaviour);
        lock (_lock)
        {
            _behaviour = behaviour;
        }
    }

    /// <summary>Lets every request held by <see cref="WebhookResponse.Hanging"/> answer (with its status code); later ones hang again.</summary>
    public void ReleaseHanging()
    {
        TaskCompletionSource release;
        lock (_lock)
        {
            release = _release;
            _release = NewSignal();
        }

        release.TrySetResult();
    }

    /// <summary>Waits until at least <paramref name="count"/> requests have arrived and returns them; throws <see cref="TimeoutException"/> (saying how many came) after <paramref name="timeout"/>.</summary>
    public async Task<IReadOnlyList<ReceivedWebhook>> WaitForAsync(int count, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            Task arrived;
            lock (_lock)
            {
                if (_requests.Count >= count)
                {
                    return [.. _requests];
                }

                arrived = _arrived.Task;
            }

            try
            {
                await arrived.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"The webhook receiver got {Requests.Count} request(s) within {timeout}, expected {count}.");
            }
        }
    }

    /// <summary>Releases hanging requests and stops the server.</summary>
    public async ValueTask DisposeAsync()
    {
        ReleaseHanging();
        if (_app is not null)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _app.StopAsync(stop.Token);
            await _app.DisposeAsync();
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);

        ReceivedWebhook request;
        Func<ReceivedWebhook, WebhookResponse> behaviour;
        Task release;
        TaskCompletionSource arrived;
        lock (_lock)
        {
            request = new ReceivedWebhook(_requests.Count, context.Request.Method, context.Request.Path + context.Request.QueryString, headers, body.ToArray(), DateTimeOffset.UtcNow);
            _requests.Add(request);
            behaviour = _behaviour;
            release = _release.Task;
            arrived = _arrived;
            _arrived = NewSignal();
        }

        arrived.TrySetResult();
        var response = behaviour(request);
        try
        {
            if (response.Delay > TimeSpan.Zero)
            {
                await Task.Delay(response.Delay, context.RequestAborted);
            }

            if (response.Hang)
            {
                await release.WaitAsync(context.RequestAborted);
            }
        }
        catch (OperationCanceledException)
        {
            return; // the client gave up
        }

        if (response.CloseConnection)
        {
            context.Abort();
            return;
        }

        context.Response.StatusCode = response.StatusCode;
        if (response.Location is not null)
        {
            context.Response.Headers.Location = response.Location.ToString();
        }

        if (response.Body is not null)
        {
            await context.Response.WriteAsync(response.Body, context.RequestAborted);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>A request the <see cref="WebhookReceiver"/> recorded.</summary>
/// <param name="Index">Its position in arrival order, from 0.</param>
/// <param name="Method">HTTP method.</param>
/// <param name="PathAndQuery">Path and query string, e.g. <c>/webhook</c>.</param>
/// <param name="Headers">Request and content headers (names case-insensitive; several values joined with <c>,</c>).</param>
/// <param name="Body">The raw body, exactly as received (what the signature covers).</param>
/// <param name="At">When it arrived (the receiver's clock).</param>
public sealed record ReceivedWebhook(int Index, string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, byte[] Body, DateTimeOffset At)
{
    /// <summary>A header's value, or <c>null</c>.</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    /// <summary>The <c>Scim-Event-Id</c> header.</summary>
    public string? EventId => Header(WebhookSender.EventIdHeader);

    /// <summary>The <c>Scim-Event-Type</c> header.</summary>
    public string? EventType => Header(WebhookSender.EventTypeHeader);

    /// <summary>The body as UTF-8 text.</summary>
    public string BodyText => Encoding.UTF8.GetString(Body);

    /// <summary>Verifies <c>Scim-Signature</c> as a receiver would (<see cref="WebhookSignature.Verify"/>, 5 minutes' tolerance, the receiver's clock).</summary>
    public bool HasValidSignature(string secret) =>
        WebhookSignature.Verify(Header(WebhookSignature.HeaderName), secret, Body, DateTimeOffset.UtcNow, WebhookSignature.DefaultTolerance);
}

/// <summary>How the <see cref="WebhookReceiver"/> answers one request.</summary>
public sealed record WebhookResponse
{
    /// <summary>The status code (default 200).</summary>
    public int StatusCode { get; init; } = 200;

    /// <summary>Wait this long before answering.</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>Do not answer until <see cref="WebhookReceiver.ReleaseHanging"/> (or the client gives up).</summary>
    public bool Hang { get; init; }

    /// <summary>Close the connection without an answer.</summary>
    public bool CloseConnection { get; init; }

    /// <summary>A <c>Location</c> header (redirects).</summary>
    public Uri? Location { get; init; }

    /// <summary>A response body (text).</summary>
    public string? Body { get; init; }

    /// <summary>200, no body.</summary>
    public static WebhookResponse Ok { get; } = new();

    /// <summary>Hang until released.</summary>
    public static WebhookResponse Hanging { get; } = new() { Hang = true };

    /// <summary>Close the connection without answering.</summary>
    public static WebhookResponse Closed { get; } = new() { CloseConnection = true };

    /// <summary>Answer <paramref name="statusCode"/>.</summary>
    public static WebhookResponse Status(int statusCode) => new() { StatusCode = statusCode };

    /// <summary>A redirect to <paramref name="location"/>.</summary>
    public static WebhookResponse Redirect(Uri location, int statusCode = 302) => new() { StatusCode = statusCode, Location = location };
}
