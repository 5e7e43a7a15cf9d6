using Cluster.Abstractions;
using Cluster.Gateway.Resilience;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Cluster.Gateway.Auth;

/// <summary>
/// This gateway's copy of the cluster's public signing keys (<see cref="ISigningKeySetGrain"/>), which the JWT bearer
/// handler of <see cref="GatewayAuthentication.TenantAccessTokenScheme"/> validates access tokens with, and which
/// <c>/.well-known/jwks.json</c> publishes. Read from the grain once, then refreshed in the background every
/// <see cref="RefreshInterval"/> (requests keep using the keys held meanwhile), and at once when a token names a key id
/// this gateway does not hold (<see cref="EnsureKeyAsync"/>), at most once per <see cref="MinimumRefreshInterval"/>:
/// made-up key ids cost the cluster at most one grain call per second per gateway. A failed refresh keeps the keys held.
/// </summary>
public sealed class SigningKeyCache(IGrainFactory grains, GrainCallRetry retry, TimeProvider time, ILogger<SigningKeyCache> logger)
    : IConfigurationManager<OpenIdConnectConfiguration>
{
    /// <summary>How often the keys are re-read: well under the lead with which a new key is published before it signs (an hour).</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(5);

    /// <summary>Least time between two reads asked for by unknown key ids.</summary>
    public static readonly TimeSpan MinimumRefreshInterval = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private int _reads;
    private Snapshot? _current;
    private Task<Snapshot>? _reading;

    /// <summary>The keys held now, with the JWKS document that publishes them.</summary>
    public sealed record Snapshot(OpenIdConnectConfiguration Configuration, JsonWebKeySet KeySet, long ReadAt)
    {
        public bool Has(string keyId) => Configuration.SigningKeys.Any(k => k.KeyId == keyId);
    }

    /// <summary>How many times this gateway has read the key set from the cluster.</summary>
    public int Reads => Volatile.Read(ref _reads);

    /// <summary>The keys (read once; then refreshed in the background when due).</summary>
    public async ValueTask<Snapshot> GetAsync()
    {
        var current = Volatile.Read(ref _current);
        if (current is null)
        {
            return await ReadSharedAsync();
        }

        if (time.GetElapsedTime(current.ReadAt) >= RefreshInterval)
        {
            _ = RefreshInBackgroundAsync();
        }

        return current;
    }

    /// <summary>Makes sure a token's key id is known, re-reading the keys if it is not (at most once per <see cref="MinimumRefreshInterval"/>).</summary>
    public async ValueTask EnsureKeyAsync(string keyId)
    {
        var current = await GetAsync();
        if (!current.Has(keyId) && time.GetElapsedTime(current.ReadAt) >= MinimumRefreshInterval)
        {
            try
            {
                await ReadSharedAsync();
            }
            catch (Exception e) when (GrainCallRetry.IsTransient(e))
            {
                // The token fails with the keys held; the next request tries again.
                GatewayLog.SigningKeysUnavailable(logger, e);
            }
        }
    }

    public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(CancellationToken cancel) => (await GetAsync()).Configuration;

    // The bearer handler's own refresh request (an unknown key id) is served by EnsureKeyAsync before validation.
    public void RequestRefresh()
    {
    }

    private async Task RefreshInBackgroundAsync()
    {
        try
        {
            await ReadSharedAsync();
        }
        catch (Exception e)
        {
            GatewayLog.SigningKeysUnavailable(logger, e);
        }
    }

    private Task<Snapshot> ReadSharedAsync()
    {
        lock (_lock)
        {
            // A read under way is shared; a finished one is never handed out again.
            if (_reading is null || _reading.IsCompleted)
            {
                _reading = ReadAsync();
            }

            return _reading;
        }
    }

    private async Task<Snapshot> ReadAsync()
    {
        Interlocked.Increment(ref _reads);
        var keys = await retry.ExecuteAsync(CallSafety.Read, () => grains.Grain<ISigningKeySetGrain>(GrainKeys.SigningKeySet).GetPublicKeysAsync());
        var set = new JsonWebKeySet();
        var configuration = new OpenIdConnectConfiguration();
        foreach (var key in keys)
        {
            var jwk = new JsonWebKey
            {
                Kty = JsonWebAlgorithmsKeyTypes.EllipticCurve,
                Crv = JsonWebKeyECTypes.P256,
                X = key.X,
                Y = key.Y,
                Kid = key.KeyId,
                Alg = AccessTokenClaims.Algorithm,
                Use = JsonWebKeyUseNames.Sig,
            };
            set.Keys.Add(jwk);
            configuration.SigningKeys.Add(jwk);
        }

        var snapshot = new Snapshot(configuration, set, time.GetTimestamp());
        Volatile.Write(ref _current, snapshot);
        return snapshot;
    }
}
