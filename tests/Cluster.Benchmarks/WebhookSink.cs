using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Cluster.Benchmarks;

/// <summary>
/// The webhook receiver of the benchmarks and of tests/chaos.sh: a bare Kestrel on 127.0.0.1 that answers every request
/// 200 at once and records which event arrived for which tenant, and when. The tenant is the last segment of the path
/// (webhook URL <c>http://127.0.0.1:{port}/t/{tenantId}</c>), the event its <c>Scim-Event-Id</c> header; the body is not
/// read, the signature not checked, nothing is logged, so the receiver is never what limits delivery.
/// <c>Cluster.Benchmarks receive --port P --out FILE</c> runs it alone (for chaos.sh), appending one line
/// <c>tenantId eventId</c> per delivery to FILE, until SIGTERM.
/// </summary>
public sealed class WebhookSink : IAsyncDisposable
{
    // WebhookSender.EventIdHeader (Cluster.Grains; the tool references only the contracts).
    private const string EventIdHeader = "Scim-Event-Id";

    private readonly ConcurrentDictionary<string, TenantDeliveries> _tenants = new(StringComparer.Ordinal);
    private readonly Action<string, string>? _onDelivery;
    private WebApplication _app = null!;
    private int _port;
    private long _total;

    private WebhookSink(Action<string, string>? onDelivery) => _onDelivery = onDelivery;

    /// <summary>Deliveries received so far, repeats included.</summary>
    public long Total => Interlocked.Read(ref _total);

    public static async Task<WebhookSink> StartAsync(int port, Action<string, string>? onDelivery = null)
    {
        var sink = new WebhookSink(onDelivery) { _port = port };
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http1));
        var app = builder.Build();
        app.Run(sink.Receive);
        await app.StartAsync();
        sink._app = app;
        return sink;
    }

    /// <summary>Runs a receiver until the process is told to stop, appending <c>tenantId eventId</c> lines to <paramref name="file"/>.</summary>
    public static async Task<int> RunToFileAsync(int port, string file)
    {
        var writer = new StreamWriter(new FileStream(file, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
        var sync = new Lock();
        await using var sink = await StartAsync(port, (tenant, id) =>
        {
            lock (sync)
            {
                writer.WriteLine($"{tenant} {id}");
            }
        });
        Console.WriteLine($"webhook receiver on http://127.0.0.1:{port}/t/{{tenantId}}, writing {file}");
        await sink._app.WaitForShutdownAsync();
        await writer.DisposeAsync();
        return 0;
    }

    /// <summary>The webhook URL for a tenant.</summary>
    public string UrlFor(string tenantId) => $"http://127.0.0.1:{_port}/t/{tenantId}";

    /// <summary>A tenant's deliveries (an empty record when none came).</summary>
    public TenantDeliveries Of(string tenantId) => _tenants.GetOrAdd(tenantId, _ => new TenantDeliveries());

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private Task Receive(HttpContext context)
    {
        var at = Stopwatch.GetTimestamp();
        var path = context.Request.Path.Value ?? "";
        var tenant = path[(path.LastIndexOf('/') + 1)..];
        var id = context.Request.Headers[EventIdHeader].ToString();
        Of(tenant).Add(id, at);
        Interlocked.Increment(ref _total);
        _onDelivery?.Invoke(tenant, id);
        context.Response.StatusCode = 200;
        return Task.CompletedTask;
    }
}

/// <summary>What one tenant's webhook received: each event's first arrival (a Stopwatch timestamp) and the count of repeats.</summary>
public sealed class TenantDeliveries
{
    private readonly ConcurrentDictionary<string, long> _first = new(StringComparer.Ordinal);
    private long _count;

    /// <summary>Deliveries, repeats included.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>Distinct events received.</summary>
    public int Distinct => _first.Count;

    public bool Received(string eventId) => _first.ContainsKey(eventId);

    /// <summary>When the event first arrived (Stopwatch timestamp), or null.</summary>
    public long? FirstArrival(string eventId) => _first.TryGetValue(eventId, out var at) ? at : null;

    public IReadOnlyCollection<string> EventIds => [.. _first.Keys];

    internal void Add(string eventId, long at)
    {
        _first.TryAdd(eventId, at);
        Interlocked.Increment(ref _count);
    }
}
