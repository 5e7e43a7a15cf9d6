using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Threading.RateLimiting;
using Cluster.Gateway.Limits;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.OAuth;

/// <summary>Token requests allowed per OAuth client, client address and gateway. Section <c>RateLimits:OAuthClient</c>.</summary>
public sealed class OAuthClientLimitOptions
{
    public const string SectionName = "RateLimits:OAuthClient";

    /// <summary>Sustained token requests per second, client and client address; default 1 (Entra asks about once an hour). 0 = unlimited.</summary>
    [Range(0, 100_000)]
    public double PermitsPerSecond { get; set; } = 1;

    /// <summary>Token requests a client may make at once from one address before the rate applies; default 10.</summary>
    [Range(1, 100_000)]
    public int Burst { get; set; } = 10;
}

/// <summary>
/// The token endpoint's per-client limit: a token bucket per client id and client address (counted as the failed-lookup
/// limit counts addresses: <see cref="FailedAuthenticationLimiter.AddressPartition"/>), taken only for client ids that are
/// active clients of their tenant (checked in memory first), before the grain call that checks the secret. Per address, not
/// per client alone: a client id is no secret, and wrong secrets sent from one address must not spend the budget Entra
/// asks from its own (a client's tokens denied by anyone who knows its id). So the partitions are bounded by the real
/// clients times the address partitions, and a client's wrong secrets cost the tenant grain at most its rate per address.
/// The library drops an idle bucket after 10 s.
/// </summary>
public sealed class OAuthClientLimiter(IOptions<OAuthClientLimitOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<(string ClientId, int Address)>? _limiter = options.Value.PermitsPerSecond > 0
        ? PartitionedRateLimiter.Create<(string ClientId, int Address), (string ClientId, int Address)>(key => RateLimitPartition.GetTokenBucketLimiter(
            key, _ => ScimRateLimiting.TokenBucket(options.Value.PermitsPerSecond, options.Value.Burst)))
        : null;

    /// <summary>Null when <paramref name="clientId"/> may ask for a token from <paramref name="address"/> now, else how long to wait.</summary>
    public TimeSpan? TryAcquire(string clientId, IPAddress? address)
    {
        if (_limiter is null)
        {
            return null;
        }

        using var lease = _limiter.AttemptAcquire((clientId, FailedAuthenticationLimiter.AddressPartition(address)));
        return lease.IsAcquired ? null : lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
    }

    public void Dispose() => _limiter?.Dispose();
}
