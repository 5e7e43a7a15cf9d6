using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Cluster.Abstractions;
using Cluster.Gateway.Hosting;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Auth;

/// <summary>
/// Checks SCIM bearer tokens in memory. Each tenant's token hashes are fetched from its grain and trusted for
/// <see cref="GatewayOptions.TokenCacheSeconds"/>, which bounds how long a revoked token keeps working on any gateway.
/// Presented tokens are hashed and compared with every stored hash in constant time.
/// </summary>
public sealed class TenantTokenValidator(IGrainFactory grains, IOptions<GatewayOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, CacheEntry> _cache = new(StringComparer.Ordinal);

    /// <summary>True when <paramref name="token"/> is a valid token of tenant <paramref name="tenantId"/>.</summary>
    public async ValueTask<bool> ValidateAsync(string tenantId, string token)
    {
        if (!GrainKeys.IsValidId(tenantId) || token.Length is 0 or > 512)
        {
            return false;
        }

        var credentials = await GetCredentialsAsync(tenantId);
        if (!credentials.Exists)
        {
            return false;
        }

        Span<byte> presented = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(token), presented);
        var valid = false;
        foreach (var hash in credentials.TokenHashes)
        {
            // No early exit: the time taken does not depend on which token matched.
            valid |= CryptographicOperations.FixedTimeEquals(presented, hash);
        }

        return valid;
    }

    /// <summary>Forgets a tenant's cached tokens (this gateway only; others expire within the cache time).</summary>
    public void Invalidate(string tenantId) => _cache.TryRemove(tenantId, out _);

    private Task<TenantCredentials> GetCredentialsAsync(string tenantId)
    {
        var now = time.GetTimestamp();
        if (_cache.TryGetValue(tenantId, out var entry) && now < entry.ExpiresAt && !entry.Credentials.IsFaulted)
        {
            return entry.Credentials;
        }

        var lifetime = TimeSpan.FromSeconds(options.Value.TokenCacheSeconds);
        var fresh = new CacheEntry(grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenantId)).GetCredentialsAsync(), now + (long)(lifetime.TotalSeconds * time.TimestampFrequency));
        _cache[tenantId] = fresh;
        return fresh.Credentials;
    }

    private sealed record CacheEntry(Task<TenantCredentials> Credentials, long ExpiresAt);
}
