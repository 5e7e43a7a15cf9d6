using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;

namespace Cluster.ServiceDefaults.Telemetry;

/// <summary>
/// The product's own instruments, on the one meter <see cref="MeterName"/> (exported by every process next to
/// <c>Microsoft.Orleans</c>). Names are lower-case with the <c>scim.</c> prefix; Prometheus shows them with
/// underscores and unit suffixes (<c>scim_requests_total</c>, <c>scim_request_duration_seconds_bucket</c>, ...).
/// Tenant ids are labels only when listed in <c>Telemetry:TenantLabels</c>; every other tenant is <c>other</c>,
/// so the number of series stays bounded however many tenants the cluster serves. No userName, email or token
/// is ever a tag.
/// </summary>
public sealed class ScimInstruments
{
    public const string MeterName = "Cluster.Scim";

    /// <summary>Configuration key: tenant ids that get their own label (comma-separated, or an array).</summary>
    public const string TenantLabelsKey = "Telemetry:TenantLabels";

    /// <summary>Label value of every tenant not in <see cref="TenantLabelsKey"/>.</summary>
    public const string OtherTenant = "other";

    /// <summary>How long a tenant counts as active after its last authenticated SCIM request.</summary>
    public static readonly TimeSpan ActiveTenantWindow = TimeSpan.FromMinutes(15);

    /// <summary>Tag names (Prometheus label names).</summary>
    public static class Tags
    {
        public const string Operation = "operation";
        public const string ResourceType = "resource_type";
        public const string StatusClass = "status_class";
        public const string Tenant = "tenant";
        public const string Outcome = "outcome";
        public const string ScimType = "scim_type";
        public const string Reason = "reason";
        public const string Index = "index";
        public const string Result = "result";
    }

    /// <summary>Values of <see cref="Tags.Outcome"/>.</summary>
    public static class Outcomes
    {
        public const string Created = "created";
        public const string Updated = "updated";
        public const string Disabled = "disabled";
        public const string Deleted = "deleted";
        public const string Conflict = "conflict";
        public const string Rejected = "rejected";
    }

    /// <summary>Values of <see cref="Tags.Reason"/> for requests refused by a gateway limit.</summary>
    public static class LimitReasons
    {
        /// <summary>A tenant over its request rate (429).</summary>
        public const string TenantRate = "tenant-rate";

        /// <summary>A tenant with as many SCIM requests in progress as it may have at once (429).</summary>
        public const string TenantConcurrency = "tenant-concurrency";

        /// <summary>A client address over its budget of failed authentications that need a grain call (429).</summary>
        public const string FailedAuthentication = "failed-auth";

        /// <summary>The gateway's concurrency limit and queue are full (503).</summary>
        public const string Concurrency = "concurrency";

        /// <summary>A client address with as many OAuth requests in progress (and waiting) as it may have (429).</summary>
        public const string AddressConcurrency = "address-concurrency";

        /// <summary>An OAuth client over its token requests per client address (429, <c>RateLimits:OAuthClient</c>).</summary>
        public const string OAuthClient = "oauth-client";
    }

    /// <summary>Values of <see cref="Tags.Result"/> for index lookups.</summary>
    public static class LookupResults
    {
        public const string Hit = "hit";
        public const string Miss = "miss";
        public const string StaleRepaired = "stale-repaired";
    }

    private static readonly double[] DurationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _outcomes;
    private readonly Counter<long> _authFailures;
    private readonly Counter<long> _indexLookups;
    private readonly Counter<long> _limitRejections;
    private readonly HashSet<string> _labelledTenants;
    private readonly RecentKeys _seen;

    public ScimInstruments(IMeterFactory meterFactory, IConfiguration configuration, TimeProvider? time = null)
    {
        _seen = new RecentKeys(time ?? TimeProvider.System, ActiveTenantWindow);
        _labelledTenants = ReadTenantLabels(configuration);
        var meter = meterFactory.Create(MeterName);
        _requests = meter.CreateCounter<long>("scim.requests", "{request}", "SCIM requests by operation, resource type, status class and tenant.");
        _duration = meter.CreateHistogram<double>("scim.request.duration", "s", "Duration of SCIM requests, as the gateway answered them.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _outcomes = meter.CreateCounter<long>("scim.provisioning.outcomes", "{request}",
            "Provisioning outcomes: created, updated, disabled (PUT/PATCH answered with active=false), deleted, conflict, rejected (by scimType).");
        _authFailures = meter.CreateCounter<long>("scim.auth.failures", "{request}", "SCIM requests refused for a missing or invalid bearer token.");
        _indexLookups = meter.CreateCounter<long>("scim.index.lookups", "{lookup}", "Index lookups of filter queries: hit, miss, stale-repaired.");
        _limitRejections = meter.CreateCounter<long>("scim.limits.rejections", "{request}",
            "Requests refused by a gateway limit: reason tenant-rate (429), tenant-concurrency (429), failed-auth (429), address-concurrency (429), oauth-client (429) or concurrency (503).");
        meter.CreateObservableGauge("scim.tenants.active", CountActiveTenants, "{tenant}",
            $"Tenants with an authenticated SCIM request on this process in the last {ActiveTenantWindow.TotalMinutes:0} minutes.");
    }

    /// <summary>The label for a tenant id: itself when allow-listed, otherwise <see cref="OtherTenant"/>.</summary>
    public string TenantLabel(string? tenantId) =>
        tenantId is not null && _labelledTenants.Contains(tenantId) ? tenantId : OtherTenant;

    /// <summary>One finished SCIM request.</summary>
    public void RequestCompleted(string operation, string resourceType, int status, string? tenantId, TimeSpan duration)
    {
        var tags = new TagList
        {
            { Tags.Operation, operation },
            { Tags.ResourceType, resourceType },
            { Tags.StatusClass, StatusClass(status) },
            { Tags.Tenant, TenantLabel(tenantId) },
        };
        _requests.Add(1, tags);
        _duration.Record(duration.TotalSeconds, tags);
    }

    /// <summary>A provisioning outcome (<see cref="Outcomes"/>); <paramref name="scimType"/> for rejections and conflicts.</summary>
    public void ProvisioningOutcome(string outcome, string resourceType, string? scimType, string? tenantId) =>
        _outcomes.Add(1, new TagList
        {
            { Tags.Outcome, outcome },
            { Tags.ResourceType, resourceType },
            { Tags.ScimType, scimType ?? "none" },
            { Tags.Tenant, TenantLabel(tenantId) },
        });

    /// <summary>A SCIM request refused by token validation.</summary>
    public void TokenRejected(string? tenantId, bool missing) =>
        _authFailures.Add(1, new TagList { { Tags.Reason, missing ? "missing" : "invalid" }, { Tags.Tenant, TenantLabel(tenantId) } });

    /// <summary>A request refused by a limit (<see cref="LimitReasons"/>); the tenant label is bounded like every other.</summary>
    public void LimitRejected(string reason, string? tenantId) =>
        _limitRejections.Add(1, new TagList { { Tags.Reason, reason }, { Tags.Tenant, TenantLabel(tenantId) } });

    /// <summary>An index lookup (<see cref="LookupResults"/>) on index <paramref name="index"/>.</summary>
    public void IndexLookup(string index, string result) =>
        _indexLookups.Add(1, new TagList { { Tags.Index, index }, { Tags.Result, result } });

    /// <summary>Marks a tenant as active now (after its token was accepted).</summary>
    public void TenantSeen(string tenantId) => _seen.TryTouch(tenantId, TimeSpan.Zero);

    /// <summary>Tenants this process remembers seeing (for tests of its bound: those seen within about two windows).</summary>
    public int TenantsRemembered => _seen.Count;

    /// <summary><c>2xx</c>, <c>4xx</c>, <c>5xx</c>, ...</summary>
    public static string StatusClass(int status) => status switch
    {
        >= 100 and < 200 => "1xx",
        < 300 => "2xx",
        < 400 => "3xx",
        < 500 => "4xx",
        _ => "5xx",
    };

    // Read-only: the writers prune (RecentKeys), so memory does not depend on anything scraping this gauge.
    private int CountActiveTenants() => _seen.CountTouchedWithin(ActiveTenantWindow);

    private static HashSet<string> ReadTenantLabels(IConfiguration configuration)
    {
        var section = configuration.GetSection(TenantLabelsKey);
        var values = section.Value is { Length: > 0 } list
            ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : section.GetChildren().Select(c => c.Value?.Trim()).Where(v => !string.IsNullOrEmpty(v)).Select(v => v!);
        return new HashSet<string>(values.Where(v => v != OtherTenant), StringComparer.Ordinal);
    }
}
