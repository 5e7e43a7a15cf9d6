using System.Globalization;
using System.Threading.RateLimiting;
using Cluster.Abstractions;
using Cluster.Gateway.Http;
using Cluster.Gateway.Querying;
using Cluster.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Limits;

/// <summary>
/// Request limits of the gateway (ASP.NET Core rate limiting), section <c>RateLimits</c>:
/// <list type="bullet">
/// <item>per tenant, a token bucket (<c>RateLimits:Default:PermitsPerSecond</c> / <c>Burst</c>, overridden per tenant by
/// <c>RateLimits:Tenants:{tenantId}:…</c>); a tenant over its limit gets 429 with <c>Retry-After</c> and a SCIM error
/// body, and no other tenant notices;</item>
/// <item>per client address, failed authentications that would cost a grain call (<see cref="FailedAuthenticationLimiter"/>,
/// <c>RateLimits:FailedAuthentication:…</c>), checked by the authentication middleware before that call; 429 too;</item>
/// <item>per tenant, the SCIM requests it may have in progress at once (<c>RateLimits:MaxConcurrentRequestsPerTenant</c>,
/// with a queue of <c>RateLimits:MaxQueuedRequestsPerTenant</c>), checked before the gateway's own slots: one tenant's slow
/// requests (scans, slow bodies) cannot take every slot and make other tenants wait, and its requests waiting for one of its
/// own slots take none of the gateway's; beyond the queue, 429 with <c>Retry-After</c>;</item>
/// <item>one concurrency limit for all SCIM and admin requests of this gateway (health, liveness and metrics stay reachable when it is saturated) (<c>RateLimits:MaxConcurrentRequests</c>,
/// with a queue of <c>RateLimits:MaxQueuedRequests</c>) that protects the silos; beyond it, 503 with <c>Retry-After</c>;</item>
/// <item>a concurrency limit of its own for OAuth requests (<c>RateLimits:MaxConcurrentTokenRequests</c>, queue
/// <c>RateLimits:MaxQueuedTokenRequests</c>): they are anonymous until their body is read, so slow ones must not hold the
/// slots SCIM requests need; beyond it, 503. Before it, one per client address
/// (<c>RateLimits:MaxConcurrentTokenRequestsPerAddress</c>, queue <c>…PerAddress</c>), so that one address cannot take
/// the whole pool; beyond it, 429.</item>
/// </list>
/// Each gateway counts on its own: with N gateways behind a balancer a tenant gets up to N × its limit.
/// </summary>
public static class ScimRateLimiting
{
    public const string SectionName = "RateLimits";

    /// <summary>Name of the per-tenant policy attached to the SCIM route group.</summary>
    public const string TenantPolicy = "scim-tenant";

    /// <summary>Default sustained rate per tenant and gateway: 8 × Entra's normal 25 req/s.</summary>
    public const double DefaultPermitsPerSecond = 200;

    /// <summary>Default burst per tenant and gateway.</summary>
    public const int DefaultBurst = 400;

    /// <summary>Default number of SCIM/admin requests a gateway serves at once.</summary>
    public const int DefaultMaxConcurrentRequests = 512;

    /// <summary>Default number of requests that wait for a slot before 503.</summary>
    public const int DefaultMaxQueuedRequests = 1024;

    /// <summary>Default number of OAuth requests a gateway serves at once (Entra asks for a token about once an hour per tenant).</summary>
    public const int DefaultMaxConcurrentTokenRequests = 64;

    /// <summary>Default number of OAuth requests that wait for a slot before 503.</summary>
    public const int DefaultMaxQueuedTokenRequests = 256;

    /// <summary>Default number of OAuth requests one client address may have in progress at once on a gateway (a quarter of the pool).</summary>
    public const int DefaultMaxConcurrentTokenRequestsPerAddress = 16;

    /// <summary>Default number of one address's OAuth requests that wait for one of its slots before 429.</summary>
    public const int DefaultMaxQueuedTokenRequestsPerAddress = 64;

    /// <summary>Default number of SCIM requests one tenant may have in progress at once on a gateway (Entra has a few).</summary>
    public const int DefaultMaxConcurrentRequestsPerTenant = 64;

    /// <summary>Default number of a tenant's requests that wait for one of its slots before 429 (a burst waits, not refused).</summary>
    public const int DefaultMaxQueuedRequestsPerTenant = 256;

    public static WebApplicationBuilder AddScimRateLimiting(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>().BindConfiguration(SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RateLimitOptions>, RateLimitOptionsValidator>();
        var limits = builder.Configuration.GetSection(SectionName).Get<RateLimitOptions>() ?? new RateLimitOptions();
        var (maxConcurrent, maxQueued) = (limits.MaxConcurrentRequests, limits.MaxQueuedRequests);
        var (perTenant, perTenantQueued) = (limits.MaxConcurrentRequestsPerTenant, limits.MaxQueuedRequestsPerTenant);
        var (tokens, tokensQueued) = (limits.MaxConcurrentTokenRequests, limits.MaxQueuedTokenRequests);
        var (perAddress, perAddressQueued) = (limits.MaxConcurrentTokenRequestsPerAddress, limits.MaxQueuedTokenRequestsPerAddress);
        builder.Services.AddSingleton<TenantRateLimitPolicy>();
        builder.Services.AddRateLimiter(options =>
        {
            options.AddPolicy<TenantRateLimitPolicy.Key, TenantRateLimitPolicy>(TenantPolicy);

            // A tenant's slots first: a request waiting for (or refused) one of them holds none of the gateway's. Keyed by the
            // tenant the route names, after authorization, so only tenants with valid credentials get one; idle ones are dropped.
            var tenantSlots = Slots(perTenant, perTenantQueued, context => Surfaces.Of(context) == Surface.Scim ? TenantOf(context) : null);
            var gatewaySlots = Slots(maxConcurrent, maxQueued, context => Surfaces.Of(context) is Surface.Scim or Surface.Admin ? "gateway" : null);
            // OAuth requests are anonymous until their body is read: an address's own slots first, so that one sender of slow
            // requests cannot take the whole OAuth pool (every tenant's token requests, the key set) with it.
            var addressSlots = Slots(perAddress, perAddressQueued, context => Surfaces.Of(context) == Surface.OAuth
                ? FailedAuthenticationLimiter.AddressPartition(context.Connection.RemoteIpAddress).ToString(CultureInfo.InvariantCulture)
                : null);
            var tokenSlots = Slots(tokens, tokensQueued, context => Surfaces.Of(context) == Surface.OAuth ? "oauth" : null);
            options.GlobalLimiter = PartitionedRateLimiter.CreateChained(tenantSlots, gatewaySlots, addressSlots, tokenSlots);
            options.OnRejected = (context, cancellationToken) =>
                tenantSlots.GetStatistics(context.HttpContext)?.CurrentAvailablePermits == 0 ? OnTenantBusyAsync(context)
                : addressSlots.GetStatistics(context.HttpContext)?.CurrentAvailablePermits == 0 ? OnAddressBusyAsync(context)
                : OnOverloadedAsync(context, cancellationToken);
        });
        return builder;
    }

    /// <summary>
    /// Pools of <paramref name="permits"/> slots (and a queue), one per key <paramref name="poolOf"/> gives a request; a request
    /// it gives none (null) is not limited here.
    /// </summary>
    private static PartitionedRateLimiter<HttpContext> Slots(int permits, int queued, Func<HttpContext, string?> poolOf) =>
        PartitionedRateLimiter.Create<HttpContext, string>(context =>
            permits > 0 && poolOf(context) is { } pool
                ? RateLimitPartition.GetConcurrencyLimiter(pool, _ => new ConcurrencyLimiterOptions
                {
                    PermitLimit = permits,
                    QueueLimit = queued,
                    QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                })
                : RateLimitPartition.GetNoLimiter("unlimited"));

    /// <summary>The tenant id the request's route names, when it is a valid one.</summary>
    internal static string? TenantOf(HttpContext context) =>
        context.Request.RouteValues[ScimUrls.TenantRouteValue] is string tenantId && GrainKeys.IsValidId(tenantId) ? tenantId : null;

    /// <summary>
    /// A token bucket of <paramref name="burst"/> tokens refilled at <paramref name="permitsPerSecond"/> (at least one token
    /// per refill: a rate below 1 refills one token every 1/rate seconds), without a queue.
    /// </summary>
    internal static TokenBucketRateLimiterOptions TokenBucket(double permitsPerSecond, int burst) => new()
    {
        TokenLimit = burst,
        TokensPerPeriod = permitsPerSecond >= 1 ? (int)Math.Round(permitsPerSecond) : 1,
        ReplenishmentPeriod = permitsPerSecond >= 1 ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(1 / permitsPerSecond),
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    /// <summary>A SCIM 429: <paramref name="reason"/>, then the whole seconds to wait, also in <c>Retry-After</c>.</summary>
    internal static IResult TooManyRequests(string reason, TimeSpan retryAfter)
    {
        var seconds = RetryAfterSeconds(retryAfter);
        return ScimHttp.Error(429, null, $"{reason} Retry after {seconds} seconds.", r => r.Headers.RetryAfter = seconds);
    }

    /// <summary>A <c>Retry-After</c> value for a wait: whole seconds, at least 1.</summary>
    internal static string RetryAfterSeconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    private static async ValueTask OnTenantBusyAsync(OnRejectedContext context)
    {
        var http = context.HttpContext;
        http.RequestServices.GetService<ScimInstruments>()?.LimitRejected(ScimInstruments.LimitReasons.TenantConcurrency, TenantOf(http));
        await TooManyRequests("Too many requests in progress for this tenant.", TimeSpan.FromSeconds(1)).ExecuteAsync(http);
    }

    private static async ValueTask OnAddressBusyAsync(OnRejectedContext context)
    {
        var http = context.HttpContext;
        http.RequestServices.GetService<ScimInstruments>()?.LimitRejected(ScimInstruments.LimitReasons.AddressConcurrency, null);
        await SurfaceErrors.Write(http, 429, "Too many token requests in progress from this address. Retry later.", headers: r => r.Headers.RetryAfter = "1").ExecuteAsync(http);
    }

    private static async ValueTask OnOverloadedAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var http = context.HttpContext;
        http.RequestServices.GetService<ScimInstruments>()?.LimitRejected(ScimInstruments.LimitReasons.Concurrency, http.Request.RouteValues[ScimUrls.TenantRouteValue] as string);
        await SurfaceErrors.Write(http, 503, "The service is busy. Retry later.", headers: r => r.Headers.RetryAfter = "1").ExecuteAsync(http);
    }
}

/// <summary>
/// The per-tenant token bucket, partitioned by the <c>tenantId</c> route value together with the tenant's limits as
/// configured now: a changed rate or burst (a configuration reload) takes effect at the tenant's next request, in a new
/// bucket that starts full, and the old bucket is dropped once idle. A rate below 1 per second refills one token every
/// 1/rate seconds; 0 disables the limit.
/// </summary>
public sealed class TenantRateLimitPolicy : IRateLimiterPolicy<TenantRateLimitPolicy.Key>
{
    // The limits as last configured validly: a reload with invalid limits is refused by the options' validation (its
    // change is never announced), and requests go on with these instead of each failing on it.
    private RateLimitOptions _options;

    public TenantRateLimitPolicy(IOptionsMonitor<RateLimitOptions> options)
    {
        _options = options.CurrentValue;
        options.OnChange(valid => Volatile.Write(ref _options, valid));
    }

    /// <summary>A bucket's partition: the tenant and the limits its bucket was made with.</summary>
    public readonly record struct Key(string TenantId, double PermitsPerSecond, int Burst);

    // Operations inside /Bulk requests: one more bucket per tenant with the same rate and burst, so Bulk cannot multiply a
    // tenant's write rate by its operation count (at most it doubles it, with the HTTP requests' own bucket: a Bulk carries
    // at most the burst plus one, MaxBulkOperations).
    private readonly PartitionedRateLimiter<Key> _bulkOperations = PartitionedRateLimiter.Create<Key, Key>(Bucket);

    /// <summary>
    /// The most operations one <c>/Bulk</c> request of this tenant may carry: <paramref name="configured"/>
    /// (<c>Gateway:BulkMaxOperations</c>), and no more than its bucket can pay for, its burst plus the HTTP request's own
    /// permit. So Bulk at most doubles a tenant's rate, however low an operator sets it (a tenant without a limit:
    /// <paramref name="configured"/>). Advertised per tenant in <c>/ServiceProviderConfig</c>; 413 beyond.
    /// </summary>
    public int MaxBulkOperations(string tenantId, int configured) =>
        KeyOf(tenantId) is { PermitsPerSecond: > 0 } key ? Math.Max(1, Math.Min(configured, key.Burst + 1)) : configured; // no limit: no bucket to pay from

    /// <summary>
    /// Takes permits for the operations of a <c>/Bulk</c> request beyond the one its HTTP request took (at most the burst:
    /// <see cref="MaxBulkOperations"/>); null when there are none to take. A lease that is not acquired means 429.
    /// </summary>
    public RateLimitLease? AcquireBulkOperations(string tenantId, int operations)
    {
        var key = KeyOf(tenantId);
        return operations <= 0 ? null : _bulkOperations.AttemptAcquire(key, Math.Min(operations, key.Burst));
    }

    /// <summary>The 429 for a tenant over its limit, with <c>Retry-After</c> from the lease.</summary>
    public static IResult Throttled(RateLimitLease lease) =>
        ScimRateLimiting.TooManyRequests("Too many requests for this tenant.",
            lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1));

    // Malformed tenant ids (answered 401 anyway) share one bucket, so they cannot create buckets without bound.
    private const string InvalidTenantKey = "-invalid-";

    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected { get; } = OnThrottledAsync;

    public RateLimitPartition<Key> GetPartition(HttpContext httpContext) =>
        Bucket(KeyOf(ScimRateLimiting.TenantOf(httpContext) ?? InvalidTenantKey));

    private static RateLimitPartition<Key> Bucket(Key key) => key.PermitsPerSecond <= 0
        ? RateLimitPartition.GetNoLimiter(key)
        : RateLimitPartition.GetTokenBucketLimiter(key, k => ScimRateLimiting.TokenBucket(k.PermitsPerSecond, k.Burst));

    /// <summary>
    /// The tenant with its rate (permits per second) and burst: its own settings, else the defaults. Read from the bound
    /// options on every request (a dictionary lookup), so nothing is kept per tenant beyond the limiter's own partitions.
    /// </summary>
    public Key KeyOf(string tenantId)
    {
        var current = Volatile.Read(ref _options);
        var tenant = current.Tenants.GetValueOrDefault(tenantId);
        var rate = tenant?.PermitsPerSecond ?? current.Default.PermitsPerSecond ?? ScimRateLimiting.DefaultPermitsPerSecond;
        var burst = tenant?.Burst ?? current.Default.Burst ?? ScimRateLimiting.DefaultBurst;
        return new Key(tenantId, rate, burst);
    }

    private static async ValueTask OnThrottledAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        context.HttpContext.RequestServices.GetService<ScimInstruments>()?.LimitRejected(ScimInstruments.LimitReasons.TenantRate, context.HttpContext.Request.RouteValues[ScimUrls.TenantRouteValue] as string);
        await Throttled(context.Lease).ExecuteAsync(context.HttpContext);
    }
}
