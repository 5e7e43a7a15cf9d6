using System.Collections.Concurrent;
using Cluster.Abstractions;
using Cluster.Gateway.Hosting;
using Cluster.Gateway.Resilience;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Internal;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Auth;

/// <summary>
/// What this gateway knows of tenants' credentials (token hashes), bounded in size and in age
/// (docs/architecture.md, "Tenants and tokens"):
/// <list type="bullet">
/// <item>a tenant's credentials are trusted for <see cref="GatewayOptions.TokenCacheSeconds"/> after they were read
/// from its grain, so a revocation takes effect within that time on every gateway (<see cref="Invalidate"/> makes
/// the gateway that served it forget at once);</item>
/// <item>a tenant that exists is remembered as existing for <see cref="KnownTenantRetention"/> after its last read (or
/// its last credential change on this gateway), so
/// re-reading its credentials is never mistaken for a lookup of an unknown tenant (<see cref="IsNewLookup"/>);</item>
/// <item>a tenant id that does not exist is remembered as unknown for <see cref="GatewayOptions.UnknownTenantCacheSeconds"/>;</item>
/// <item>at most <see cref="GatewayOptions.CredentialCacheSize"/> entries (a <see cref="MemoryCache"/> size limit;
/// unknown tenants are compacted first, then the least recently used).</item>
/// </list>
/// Concurrent reads of one tenant's credentials share one grain call while it is younger than TokenCacheSeconds.
/// </summary>
/// <remarks>
/// An entry is never replaced in place: it is removed, then added. The <see cref="MemoryCache"/> of .NET 9 and of
/// .NET 10 before 10.0.15 miscounts its size when a replaced entry is removed concurrently, and can then refuse every
/// new entry for good (dotnet/runtime#129186, reproduced on 10.0.12); adds and removes alone are counted correctly.
/// </remarks>
public sealed class TenantCredentialCache : IDisposable
{
    /// <summary>How long a tenant that exists is remembered as existing after its credentials were last read: longer than Entra's ~40-minute cycle.</summary>
    public static readonly TimeSpan KnownTenantRetention = TimeSpan.FromHours(1);

    // Credentials of every tenant that does not exist (shared: an unknown tenant's entry holds no data of its own).
    private static readonly TenantCredentials Unknown = new(false, []);

    private readonly IGrainFactory _grains;
    private readonly GrainCallRetry _retry;
    private readonly TimeProvider _time;
    private readonly TimeSpan _trusted;
    private readonly TimeSpan _unknownFor;
    private readonly MemoryCache _cache;
    private readonly ConcurrentDictionary<string, SharedRead> _lookups = new(StringComparer.Ordinal);

    // Every remove-then-add of an entry (a read's store, a stale mark) under one lock: no two of them interleave, so an
    // entry is never replaced in place (see the remarks). Taken only when credentials were read from a grain or changed.
    private readonly Lock _writes = new();

    // Moves on at every Invalidate: a read that began before one stores nothing (it may carry credentials read before a
    // revocation). Of all tenants, so it needs no memory per tenant; a read that misses its store just reads again.
    private long _generation;

    public TenantCredentialCache(IGrainFactory grains, GrainCallRetry retry, IOptions<GatewayOptions> options, TimeProvider time)
    {
        _grains = grains;
        _retry = retry;
        _time = time;
        _trusted = TimeSpan.FromSeconds(options.Value.TokenCacheSeconds);
        _unknownFor = TimeSpan.FromSeconds(options.Value.UnknownTenantCacheSeconds);
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = options.Value.CredentialCacheSize, Clock = new Clock(time) });
    }

    /// <summary>Entries held now (tenants that exist and ids remembered as unknown); at most <see cref="GatewayOptions.CredentialCacheSize"/>.</summary>
    public int Count => _cache.Count;

    /// <summary>
    /// True when reading this tenant's credentials would start a grain call for a tenant this gateway knows nothing
    /// about: no entry (current, due for a re-read, or unknown) and no read under way. Only such a read activates a
    /// grain and reads storage for an id any client can make up, so only it is worth limiting.
    /// </summary>
    public bool IsNewLookup(string tenantId) => !_cache.TryGetValue(tenantId, out _) && !_lookups.ContainsKey(tenantId);

    /// <summary>The tenant's credentials: from memory while trusted, else from its grain (one call shared by concurrent readers).</summary>
    public ValueTask<TenantCredentials> GetAsync(string tenantId)
    {
        if (_cache.TryGetValue(tenantId, out var value) && value is Entry { Stale: false } entry && (!entry.Credentials.Exists || _time.GetElapsedTime(entry.ReadAt) < _trusted))
        {
            return ValueTask.FromResult(entry.Credentials);
        }

        return new ValueTask<TenantCredentials>(ReadSharedAsync(tenantId));
    }

    /// <summary>
    /// Forgets a tenant's credentials (this gateway only): after a revocation, and when the tenant or a credential is
    /// created. A read under way may have been answered before the change: it is not stored, and later readers do not join
    /// it. A tenant known to exist stays known, so re-reading its credentials is still no lookup of an unknown id (until
    /// 2026-12-07 a token issued or revoked here made the tenant's next request, Entra's included, spend the client
    /// address's failed-lookup budget, or answer 429 when that was spent).
    /// </summary>
    public void Invalidate(string tenantId)
    {
        Interlocked.Increment(ref _generation);
        _lookups.TryRemove(tenantId, out _);
        MarkStale(tenantId);
    }

    public void Dispose() => _cache.Dispose();

    private async Task<TenantCredentials> ReadSharedAsync(string tenantId)
    {
        var read = _lookups.GetOrAdd(tenantId, static (id, self) => self.StartRead(id), this);
        if (_trusted > TimeSpan.Zero && _time.GetElapsedTime(read.StartedAt) >= _trusted)
        {
            // A read under way for longer than credentials are trusted (its answer late: a slow network, a stalled gateway)
            // may carry credentials revoked before this request arrived: not joined. A new one replaces it for later readers.
            // (With TokenCacheSeconds 0 nothing is cached, and concurrent requests still share one read, as they always did.)
            var fresh = StartRead(tenantId);
            _lookups[tenantId] = fresh;
            read = fresh;
        }

        try
        {
            return await read.Credentials.Value;
        }
        finally
        {
            // Every reader removes it (only the first succeeds); the result is in the cache before the task completes.
            _lookups.TryRemove(new KeyValuePair<string, SharedRead>(tenantId, read));
        }
    }

    private SharedRead StartRead(string tenantId) => new(new Lazy<Task<TenantCredentials>>(() => ReadAsync(tenantId)), _time.GetTimestamp());

    private async Task<TenantCredentials> ReadAsync(string tenantId)
    {
        // Trusted from before the read: an answer that reached this gateway late (a slow network, a thread-pool stall, a
        // retry) may hold credentials revoked elsewhere meanwhile, and is trusted no longer than TokenCacheSeconds from then.
        var generation = Interlocked.Read(ref _generation);
        var readAt = _time.GetTimestamp();
        var read = await _retry.ExecuteAsync(CallSafety.Read, () => _grains.Grain<ITenantGrain>(GrainKeys.Tenant(tenantId)).GetCredentialsAsync());
        if (Interlocked.Read(ref _generation) != generation)
        {
            return read.Exists ? read : Unknown;
        }

        lock (_writes)
        {
            _cache.Remove(tenantId);
            if (read.Exists)
            {
                _cache.Set(tenantId, new Entry(read, readAt), Known());
            }
            else if (_unknownFor > TimeSpan.Zero)
            {
                _cache.Set(tenantId, new Entry(Unknown, readAt), new MemoryCacheEntryOptions
                {
                    Size = 1,
                    AbsoluteExpirationRelativeToNow = _unknownFor,
                    Priority = CacheItemPriority.Low,
                });
            }
        }

        if (Interlocked.Read(ref _generation) != generation)
        {
            MarkStale(tenantId); // an Invalidate ran between the check above and the store: it wins
        }

        return read.Exists ? read : Unknown;
    }

    // An existing tenant's entry is replaced by a stale one (never trusted: the next reader reads its grain); any other goes.
    private void MarkStale(string tenantId)
    {
        lock (_writes)
        {
            var known = _cache.TryGetValue(tenantId, out var value) && value is Entry { Credentials.Exists: true } entry ? entry : null;
            _cache.Remove(tenantId);
            if (known is not null)
            {
                _cache.Set(tenantId, known with { Stale = true }, Known());
            }
        }
    }

    // A tenant that exists stays known for KnownTenantRetention after it was last read or marked stale.
    private static MemoryCacheEntryOptions Known() => new() { Size = 1, AbsoluteExpirationRelativeToNow = KnownTenantRetention };

    // Stale: known to exist, nothing of it trusted (a credential changed since it was read).
    private sealed record Entry(TenantCredentials Credentials, long ReadAt, bool Stale = false);

    // A read of a tenant's credentials from its grain, shared by the requests that arrive while it is under way.
    private sealed record SharedRead(Lazy<Task<TenantCredentials>> Credentials, long StartedAt);

    // The cache's expiry follows the gateway's TimeProvider (tests drive it with a fake one).
    private sealed class Clock(TimeProvider time) : ISystemClock
    {
        public DateTimeOffset UtcNow => time.GetUtcNow();
    }
}
