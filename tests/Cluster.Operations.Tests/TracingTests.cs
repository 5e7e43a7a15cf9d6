using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Cluster.Gateway.Telemetry;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace Cluster.Operations.Tests;

/// <summary>
/// One SCIM request, one trace: the gateway's ASP.NET Core server span (tagged with the tenant id) is the ancestor of
/// the Orleans grain-call spans it causes, all exported through the gateway's own OpenTelemetry pipeline (an
/// in-memory exporter added to the real host). No span name or attribute carries a userName, an email or a token.
/// </summary>
public sealed class TracingTests : IAsyncLifetime
{
    private const string UserName = "trace.person@contoso.example";
    private const string Email = "trace.mail@contoso.example";

    private static readonly string[] OrleansSources = ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application"];

    private readonly ExportedSpans _spans = [];
    private GatewayFactory _gateway = null!;
    private TestTenant _tenant = null!;

    public async Task InitializeAsync()
    {
        _gateway = GatewayFactory.With(new Dictionary<string, string?> { ["Telemetry:Tracing"] = "true" }).WithServices(s => s.ConfigureOpenTelemetryTracerProvider(b => b.AddInMemoryExporter(_spans)));
        _tenant = await _gateway.CreateTenantAsync();
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task GrainCallsOfACreateAreDescendantsOfTheRequestSpan()
    {
        using var scim = _gateway.ScimClient(_tenant);
        using var created = await scim.PostAsync("Users", Scim(EntraPayloads.CreateUser(UserName, "ext-trace-1", Email)));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var (request, grainSpans) = await RequestWithGrainSpans("POST");
        Assert.Equal(ActivityKind.Server, request.Kind);
        Assert.Equal(_tenant.TenantId, request.GetTagItem(ScimTelemetryMiddleware.TenantTag) as string);
        // Application grain calls, each traced on the calling side (client span) and in the grain (server span). The create is
        // declared by the resource grains' common interface (one write path for users and groups).
        Assert.Contains(grainSpans, s => s.Source.Name == "Microsoft.Orleans.Application" && s.Kind == ActivityKind.Client && s.DisplayName.StartsWith("IIndexedResourceGrain/Create", StringComparison.Ordinal));
        Assert.Contains(grainSpans, s => s.Source.Name == "Microsoft.Orleans.Application" && s.Kind == ActivityKind.Server && s.DisplayName.StartsWith("IIndexedResourceGrain/Create", StringComparison.Ordinal));
        Assert.Contains(grainSpans, s => s.DisplayName.StartsWith("IIndexEntryGrain/", StringComparison.Ordinal));
        AssertNoSecretsOrPersonalData();

        // What carries the trace context through grain calls (absent without tracing: UntracedGrainCallsTests).
        Assert.Contains(_gateway.Services.GetServices<IOutgoingGrainCallFilter>(), f => f.GetType().Name.StartsWith("ActivityPropagation", StringComparison.Ordinal));
        Assert.Contains(_gateway.Services.GetServices<IIncomingGrainCallFilter>(), f => f.GetType().Name.StartsWith("ActivityPropagation", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GrainCallsOfAFilterQueryAreDescendantsOfTheRequestSpan()
    {
        using var scim = _gateway.ScimClient(_tenant);
        using var created = await scim.PostAsync("Users", Scim(EntraPayloads.CreateUser(UserName, "ext-trace-2", Email)));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();

        using var found = await scim.GetAsync($"Users?filter=userName+eq+%22{Uri.EscapeDataString(UserName)}%22");
        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        Assert.Contains(id, await found.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var (request, _) = await RequestWithGrainSpans("GET");
        Assert.Equal(_tenant.TenantId, request.GetTagItem(ScimTelemetryMiddleware.TenantTag) as string);

        // A request refused for its token is traced too, without the token.
        using var intruder = _gateway.ScimClient(_tenant, token: "scim_trace-not-a-token");
        using var refused = await intruder.GetAsync("Users");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        await Eventually.TrueAsync(() => Task.FromResult(Server().Any(s => s.GetTagItem("http.response.status_code") is 401)), what: "the refused request's server span");
        AssertNoSecretsOrPersonalData("scim_trace-not-a-token");
    }

    /// <summary>
    /// Waits (bounded) until the server span of the one <paramref name="method"/> SCIM request and at least one Orleans
    /// span of its trace are exported, then checks every Orleans span of that trace descends from the request span.
    /// </summary>
    private async Task<(Activity Request, List<Activity> GrainSpans)> RequestWithGrainSpans(string method)
    {
        Activity? request = null;
        List<Activity> grainSpans = [];
        await Eventually.TrueAsync(() =>
        {
            request = Server().SingleOrDefault(s => s.GetTagItem("http.request.method") as string == method);
            grainSpans = request is null ? [] : Snapshot().Where(s => s.TraceId == request.TraceId && OrleansSources.Contains(s.Source.Name)).ToList();
            return Task.FromResult(request is not null && grainSpans.Count > 0);
        }, what: $"a {method} SCIM server span with Orleans spans in its trace");
        var byId = Snapshot().GroupBy(s => s.SpanId).ToDictionary(g => g.Key, g => g.First());
        foreach (var span in grainSpans)
        {
            Assert.True(DescendsFrom(span, request!, byId), $"{span.Source.Name} span '{span.DisplayName}' is in the trace but not under the request span.");
        }

        return (request!, grainSpans);
    }

    private static bool DescendsFrom(Activity span, Activity ancestor, Dictionary<ActivitySpanId, Activity> byId)
    {
        for (var parent = span.ParentSpanId; parent != default; parent = byId.TryGetValue(parent, out var p) ? p.ParentSpanId : default)
        {
            if (parent == ancestor.SpanId)
            {
                return true;
            }
        }

        return false;
    }

    [Fact]
    public async Task ASetupLinksSecretIsNotTraced()
    {
        var path = await _gateway.SetupLinkPathAsync(_tenant.TenantId);

        using var browser = _gateway.CreateClient(new() { AllowAutoRedirect = false });
        using var opened = await browser.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);

        // The same link asked with another method (a link checker's HEAD, a chat client's preview; a POST without the link
        // page's antiforgery token) or mangled on its way (a segment added, the tenant id lost): refused, and never traced
        // with its secret either.
        var secret = path.Split('/')[^1];
        foreach (var (method, other, status) in new[]
        {
            (HttpMethod.Head, path, HttpStatusCode.MethodNotAllowed),
            (HttpMethod.Post, path, HttpStatusCode.BadRequest),
            (HttpMethod.Put, path, HttpStatusCode.MethodNotAllowed),
            (HttpMethod.Options, path, HttpStatusCode.MethodNotAllowed),
            (HttpMethod.Get, path + "/more", HttpStatusCode.NotFound),
            (HttpMethod.Get, "/portal/setup/" + secret, HttpStatusCode.NotFound),
        })
        {
            using var refused = await browser.SendAsync(new HttpRequestMessage(method, other));
            Assert.Equal(status, refused.StatusCode);
        }

        await Eventually.TrueAsync(
            () => Task.FromResult(Snapshot().Count(s => s.Kind == ActivityKind.Server && (s.GetTagItem("url.path") as string)?.StartsWith("/portal/setup/{", StringComparison.Ordinal) == true) >= 7),
            what: "the setup link's spans");
        AssertNoSecretsOrPersonalData(secret);
    }

    private void AssertNoSecretsOrPersonalData(params string[] more)
    {
        string[] forbidden = [UserName, Uri.EscapeDataString(UserName), Email, "trace.person", "trace.mail", _tenant.Token, .. more];
        foreach (var span in Snapshot())
        {
            var texts = new List<string> { span.DisplayName, span.OperationName, span.StatusDescription ?? "" };
            texts.AddRange(span.TagObjects.Select(t => $"{t.Key}={t.Value}"));
            texts.AddRange(span.Events.SelectMany(e => e.Tags.Select(t => $"{e.Name}:{t.Key}={t.Value}")));
            foreach (var text in texts)
            {
                Assert.False(forbidden.Any(f => text.Contains(f, StringComparison.OrdinalIgnoreCase)), $"Span '{span.DisplayName}' ({span.Source.Name}) carries personal data or a secret: {text}");
            }
        }
    }

    // ActivitySources are process-wide: hosts of tests running in parallel export into this list too, so the request
    // spans of this test are picked by their tenant.
    private IEnumerable<Activity> Server() =>
        Snapshot().Where(s => s.Kind == ActivityKind.Server && s.Source.Name == "Microsoft.AspNetCore" && s.GetTagItem(ScimTelemetryMiddleware.TenantTag) as string == _tenant.TenantId);

    private Activity[] Snapshot() => _spans.Snapshot();

    private static StringContent Scim(string json) => new(json, Encoding.UTF8, "application/scim+json");

    /// <summary>
    /// What the in-memory exporter adds spans to, as they end, on other threads: a list read only under its lock (a
    /// <see cref="List{T}"/> copied while another thread adds may throw or hold a null).
    /// </summary>
    private sealed class ExportedSpans : System.Collections.ObjectModel.Collection<Activity>
    {
        private readonly Lock _gate = new();

        public Activity[] Snapshot()
        {
            lock (_gate)
            {
                return [.. Items];
            }
        }

        protected override void InsertItem(int index, Activity item)
        {
            lock (_gate)
            {
                base.InsertItem(index, item);
            }
        }
    }
}
