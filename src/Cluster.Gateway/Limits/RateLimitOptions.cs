using System.ComponentModel.DataAnnotations;
using Cluster.Abstractions;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Limits;

/// <summary>
/// The gateway's request limits, section <c>RateLimits</c> (<see cref="ScimRateLimiting"/>), validated at start-up by
/// <see cref="RateLimitOptionsValidator"/>: a negative rate, a burst below 1 or a per-tenant entry that names no valid tenant
/// id stops the process instead of surfacing at a tenant's first request. <c>FailedAuthentication</c> and
/// <c>OAuthClient</c> are their own options classes.
/// </summary>
public sealed class RateLimitOptions
{
    /// <summary>Most SCIM and admin requests a gateway serves at once (default 512); 0 = no limit.</summary>
    [Range(0, 1_000_000)]
    public int MaxConcurrentRequests { get; set; } = ScimRateLimiting.DefaultMaxConcurrentRequests;

    /// <summary>Requests that wait for a slot before 503 (default 1024).</summary>
    [Range(0, 1_000_000)]
    public int MaxQueuedRequests { get; set; } = ScimRateLimiting.DefaultMaxQueuedRequests;

    /// <summary>SCIM requests one tenant may have in progress at once on a gateway (default 64); 0 = no limit.</summary>
    [Range(0, 1_000_000)]
    public int MaxConcurrentRequestsPerTenant { get; set; } = ScimRateLimiting.DefaultMaxConcurrentRequestsPerTenant;

    /// <summary>A tenant's requests that wait for one of its slots before 429 (default 256).</summary>
    [Range(0, 1_000_000)]
    public int MaxQueuedRequestsPerTenant { get; set; } = ScimRateLimiting.DefaultMaxQueuedRequestsPerTenant;

    /// <summary>
    /// Most OAuth requests (token, key set) a gateway serves at once (default 64), apart from <see cref="MaxConcurrentRequests"/>:
    /// anonymous senders of slow token requests cannot take the slots Entra's SCIM requests need; 0 = no limit.
    /// </summary>
    [Range(0, 1_000_000)]
    public int MaxConcurrentTokenRequests { get; set; } = ScimRateLimiting.DefaultMaxConcurrentTokenRequests;

    /// <summary>OAuth requests that wait for one of their slots before 503 (default 256).</summary>
    [Range(0, 1_000_000)]
    public int MaxQueuedTokenRequests { get; set; } = ScimRateLimiting.DefaultMaxQueuedTokenRequests;

    /// <summary>
    /// Most OAuth requests one client address (IPv6: its /64, hashed into a bounded set of partitions) has in progress at once
    /// on a gateway (default 16, a quarter of the pool), before the shared <see cref="MaxConcurrentTokenRequests"/>: one sender of slow requests
    /// cannot take every OAuth slot and hold up every tenant's tokens; 0 = no limit.
    /// </summary>
    [Range(0, 1_000_000)]
    public int MaxConcurrentTokenRequestsPerAddress { get; set; } = ScimRateLimiting.DefaultMaxConcurrentTokenRequestsPerAddress;

    /// <summary>An address's OAuth requests that wait for one of its slots before 429 (default 64).</summary>
    [Range(0, 1_000_000)]
    public int MaxQueuedTokenRequestsPerAddress { get; set; } = ScimRateLimiting.DefaultMaxQueuedTokenRequestsPerAddress;

    /// <summary>Every tenant's token bucket unless <see cref="Tenants"/> overrides it.</summary>
    public TenantRateLimit Default { get; set; } = new() { PermitsPerSecond = ScimRateLimiting.DefaultPermitsPerSecond, Burst = ScimRateLimiting.DefaultBurst };

    /// <summary>Per-tenant overrides, keyed by tenant id (matched regardless of case, like configuration keys); a value left out is the default's.</summary>
    public Dictionary<string, TenantRateLimit> Tenants { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>One tenant's token bucket: a rate (0 = unlimited; below 1 refills one token every 1/rate seconds) and a burst.</summary>
public sealed class TenantRateLimit
{
    /// <summary>Sustained requests per second and gateway.</summary>
    [Range(0, 1_000_000)]
    public double? PermitsPerSecond { get; set; }

    /// <summary>Requests a tenant may make at once before the rate applies.</summary>
    [Range(1, 1_000_000)]
    public int? Burst { get; set; }
}

/// <summary>Checks <see cref="RateLimitOptions"/>, including the default and every per-tenant bucket.</summary>
public sealed class RateLimitOptionsValidator : IValidateOptions<RateLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, RateLimitOptions options)
    {
        var failures = new List<string>();
        failures.AddRange(OptionsCheck.Failures(options, ScimRateLimiting.SectionName));
        failures.AddRange(OptionsCheck.Failures(options.Default, $"{ScimRateLimiting.SectionName}:Default"));
        foreach (var (tenantId, limit) in options.Tenants)
        {
            var section = $"{ScimRateLimiting.SectionName}:Tenants:{tenantId}";
            if (!GrainKeys.IsValidId(tenantId))
            {
                failures.Add($"{section}: '{tenantId}' is not a tenant id.");
            }

            failures.AddRange(OptionsCheck.Failures(limit, section));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
