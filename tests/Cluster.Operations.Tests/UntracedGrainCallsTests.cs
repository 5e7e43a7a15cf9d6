using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Operations.Tests;

/// <summary>
/// Without a consumer of spans (no OTLP endpoint, <c>Telemetry:Tracing</c> unset), grain calls carry no trace context:
/// Orleans' activity-propagation filters are not installed, so even a listener on Orleans' activity sources sees no
/// grain-call span of a request that arrives with a W3C <c>traceparent</c>. <see cref="TracingTests"/> shows the other side
/// (with tracing on, the filters are there and every grain call is a span under the request).
/// </summary>
public sealed class UntracedGrainCallsTests : IAsyncLifetime
{
    private static readonly string[] OrleansSources = ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application"];

    // ASP.NET Core's request scope on (off as shipped): with it, ASP.NET Core makes each request an Activity continuing the
    // request's traceparent even though no span is recorded, so a grain call that propagated the context would show it.
    private static readonly Dictionary<string, string?> RequestActivity = new() { ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Critical" };

    private readonly ConcurrentBag<Activity> _started = [];
    private GatewayFactory _gateway = null!;
    private ActivityListener _listener = null!;

    public Task InitializeAsync()
    {
        // Process-wide: other test classes' silos may start Orleans spans too; only this request's trace is looked at.
        _listener = new ActivityListener
        {
            ShouldListenTo = source => OrleansSources.Contains(source.Name),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = _started.Add,
        };
        ActivitySource.AddActivityListener(_listener);
        _gateway = GatewayFactory.With(RequestActivity);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _listener.Dispose();
        await _gateway.DisposeAsync();
    }

    [Fact]
    public async Task WithoutTracingGrainCallsCarryNoTraceContext() => await AssertUntracedAsync(_gateway, _gateway.Services);

    [Fact]
    public async Task ASplitGatewaysGrainCallsCarryNoTraceContextEither()
    {
        // The split gateway is a pure Orleans client (AddScimOperations(IClientBuilder, ...)): its outgoing calls are the ones
        // that would carry the context to the silo.
        _gateway.StartServer(); // the silo the split gateway connects to
        await using var split = GatewayFactory.ConnectTo(_gateway, RequestActivity);
        await AssertUntracedAsync(split, split.Services);
    }

    private async Task AssertUntracedAsync(IScimTestHost host, IServiceProvider services)
    {
        var tenant = await host.CreateTenantAsync();
        using var scim = host.ScimClient(tenant);
        var traceId = ActivityTraceId.CreateRandom();
        foreach (var path in new[] { "Users?filter=userName+eq+%22nobody%40contoso.example%22", "Users?count=1" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add("traceparent", $"00-{traceId.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
            using var response = await scim.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.DoesNotContain(_started, a => a.TraceId == traceId);
        var filters = services.GetServices<IOutgoingGrainCallFilter>().Cast<object>()
            .Concat(services.GetServices<IIncomingGrainCallFilter>())
            .Select(f => f.GetType().Name)
            .ToList();
        Assert.DoesNotContain(filters, name => name.StartsWith("ActivityPropagation", StringComparison.Ordinal));
    }
}
