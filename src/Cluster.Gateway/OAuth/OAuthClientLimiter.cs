using System.ComponentModel.DataAnnotations;
using System.Threading.RateLimiting;
using Cluster.Gateway.Limits;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.OAuth;

/// <summary>Token requests allowed per OAuth client and gateway. Section <c>RateLimits:OAuthClient</c>.</summary>
public sealed class OAuthClientLimitOptions
{
    public const string SectionName = "RateLimits:OAuthClient";

    /// <summary>Sustained token requests per second and client; default 1 (Entra asks about once an hour). 0 = unlimited.</summary>
    [Range(0, 100_000)]
    public double PermitsPerSecond { get; set; } = 1;

    /// <summary>Token requests a client may make at once before the rate applies; default 10.</summary>
    [Range(1, 100_000)]
    public int Burst { get; set; } = 10;
}

/// <summary>
/// The token endpoint's per-client limit: a token bucket per client id, taken only for client ids that are active clients of
/// their tenant (checked in memory first), so the partitions are bounded by the real clients, and a client's wrong secrets
/// cost the tenant grain at most its rate. The library drops an idle client's bucket after 10 s.
/// </summary>
public sealed class OAuthClientLimiter(IOptions<OAuthClientLimitOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<string>? _limiter = options.Value.PermitsPerSecond > 0
        ? PartitionedRateLimiter.Create<string, string>(clientId => RateLimitPartition.GetTokenBucketLimiter(
            clientId, _ => ScimRateLimiting.TokenBucket(options.Value.PermitsPerSecond, options.Value.Burst)))
        : null;

    /// <summary>Null when <paramref name="clientId"/> may ask for a token now, else how long to wait.</summary>
    public TimeSpan? TryAcquire(string clientId)
    {
        if (_limiter is null)
        {
            return null;
        }

        using var lease = _limiter.AttemptAcquire(clientId);
        return lease.IsAcquired ? null : lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
    }

    public void Dispose() => _limiter?.Dispose();
}
