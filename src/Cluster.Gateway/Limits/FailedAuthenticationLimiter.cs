using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Limits;

/// <summary>Failed authentications allowed per client address and gateway. Section <c>RateLimits:FailedAuthentication</c>.</summary>
public sealed class FailedAuthenticationLimitOptions
{
    public const string SectionName = "RateLimits:FailedAuthentication";

    /// <summary>Sustained failed lookups per second and client address; default 1. A rate below 1 refills one every 1/rate seconds; 0 = unlimited.</summary>
    [Range(0, 100_000)]
    public double PermitsPerSecond { get; set; } = 1;

    /// <summary>Failed lookups a client address may make at once before the rate applies; default 100.</summary>
    [Range(1, 100_000)]
    public int Burst { get; set; } = 100;
}

/// <summary>
/// Limits, per client address, the failed authentications that cost the cluster something: lookups of tenants this
/// gateway knows nothing about (<see cref="Auth.TenantCredentialCache.IsNewLookup"/>), which activate a tenant grain and
/// read storage. A client whose budget is spent gets 429 for such lookups before any grain call; answers from memory
/// (tenants known to exist, ids remembered as unknown) are never limited, so one customer's bad token cannot throttle
/// another customer calling from the same shared address (Entra's provisioning service does).
/// </summary>
/// <remarks>
/// <para>Per partition of client addresses, a token bucket (<see cref="TokenBucketRateLimiter"/>) holds the failures
/// still allowed, and a concurrency limiter (<see cref="ConcurrencyLimiter"/>) the lookups under way. A lookup starts
/// only while the failures still allowed cover every lookup under way, its own included, and a failed one spends its
/// permit before it ends: however many requests a client sends at once, it gets no more failed lookups than its budget.
/// Successful lookups spend nothing.</para>
/// <para>IPv6 addresses count per /64 (one host commonly holds a whole /64); a missing address (a test server) is one
/// client. Addresses are spread over at most <see cref="MaxPartitions"/> partitions by a hash seeded per process, so an
/// attacker with any number of addresses cannot grow memory without bound, and cannot choose which other addresses share
/// its partition. The library drops a partition's limiter after 10 s idle (bucket full again, no lookup under way).</para>
/// </remarks>
public sealed class FailedAuthenticationLimiter : IDisposable
{
    /// <summary>Most partitions (token buckets, and concurrency limiters) the limiter holds.</summary>
    public const int MaxPartitions = 4096;

    private readonly PartitionedRateLimiter<int>? _failures;
    private readonly PartitionedRateLimiter<int>? _lookups;
    private readonly int _burst;
    private readonly TimeSpan _refill;

    public FailedAuthenticationLimiter(IOptions<FailedAuthenticationLimitOptions> options)
    {
        if (options.Value.PermitsPerSecond > 0)
        {
            var bucket = ScimRateLimiting.TokenBucket(options.Value.PermitsPerSecond, options.Value.Burst);
            _burst = bucket.TokenLimit;
            _refill = bucket.ReplenishmentPeriod;
            _failures = PartitionedRateLimiter.Create<int, int>(partition => RateLimitPartition.GetTokenBucketLimiter(partition, _ => bucket));
            _lookups = PartitionedRateLimiter.Create<int, int>(partition => RateLimitPartition.GetConcurrencyLimiter(partition, _ =>
                new ConcurrencyLimiterOptions { PermitLimit = _burst, QueueLimit = 0 }));
        }
    }

    /// <summary>
    /// Starts a lookup of a tenant this gateway knows nothing about for <paramref name="client"/>, or refuses it
    /// (<see cref="CostlyLookup.RetryAfter"/>). Dispose it when the lookup is over.
    /// </summary>
    public CostlyLookup Begin(IPAddress? client)
    {
        if (_failures is null || _lookups is null)
        {
            return new CostlyLookup(null, 0, null, null);
        }

        var partition = AddressPartition(client);
        var slot = _lookups.AttemptAcquire(partition);
        var underWay = _burst - (_lookups.GetStatistics(partition)?.CurrentAvailablePermits ?? 0);

        // Whole permits only: the partitioned limiter refills its buckets continuously, a fraction at a time.
        var allowed = _failures.GetStatistics(partition)?.CurrentAvailablePermits ?? 0;
        if (!slot.IsAcquired || allowed < underWay)
        {
            slot.Dispose();

            // A whole permit comes back within one refill period.
            return new CostlyLookup(null, 0, null, _refill);
        }

        return new CostlyLookup(_failures, partition, slot, null);
    }

    public void Dispose()
    {
        _failures?.Dispose();
        _lookups?.Dispose();
    }

    /// <summary>
    /// Which of <see cref="MaxPartitions"/> partitions a client address counts in: IPv6 per /64, a missing address as one
    /// client, by a hash seeded per process (so nobody can choose which addresses share a partition).
    /// </summary>
    public static int AddressPartition(IPAddress? client)
    {
        Span<byte> bytes = stackalloc byte[16];
        var length = 0;
        if (client is not null)
        {
            (client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client).TryWriteBytes(bytes, out length);
            length = Math.Min(length, 8);
        }

        var hash = new HashCode();
        hash.AddBytes(bytes[..length]);
        return (int)((uint)hash.ToHashCode() % MaxPartitions);
    }
}

/// <summary>A lookup admitted by <see cref="FailedAuthenticationLimiter.Begin"/>, or refused (<see cref="RetryAfter"/> set).</summary>
public sealed class CostlyLookup : IDisposable
{
    private readonly PartitionedRateLimiter<int>? _failures;
    private readonly int _partition;
    private readonly RateLimitLease? _slot;

    internal CostlyLookup(PartitionedRateLimiter<int>? failures, int partition, RateLimitLease? slot, TimeSpan? retryAfter)
    {
        _failures = failures;
        _partition = partition;
        _slot = slot;
        RetryAfter = retryAfter;
    }

    /// <summary>Set when the lookup was refused: how long the client should wait.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>The lookup failed (unknown tenant or wrong token): spends one permit of the client's budget.</summary>
    public void Failed() => _failures?.AttemptAcquire(_partition).Dispose();

    public void Dispose() => _slot?.Dispose();
}
