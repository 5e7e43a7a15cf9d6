using System.Buffers.Text;
using System.Security.Cryptography;
using Cluster.Grains.Events.Webhooks;
using Cluster.Grains.State;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Cluster.Grains.OAuth;

/// <summary>
/// The cluster's access-token signing keys (<see cref="ISigningKeySetGrain"/>): ECDSA P-256 key pairs made here, their
/// private scalars encrypted at rest with the silos' at-rest key (<see cref="WebhookSecretProtector"/>, bound to the key id),
/// rotated by <see cref="SigningKeySchedule"/> whenever it is asked (gateways ask every few minutes, so no timer is needed).
/// A rotation whose write fails does not stop token issuance: the stored keys still sign (a new key would sign only
/// <see cref="SigningKeySchedule.Lead"/> later), so they are answered, and the next ask tries the rotation again.
/// </summary>
public sealed partial class SigningKeySetGrain(
    [PersistentState("signingkeys", StorageNames.Default)] IPersistentState<SigningKeySetState> state,
    WebhookSecretProtector protector,
    IOptions<SigningKeyOptions> options,
    TimeProvider time,
    ILogger<SigningKeySetGrain> logger) : Grain, ISigningKeySetGrain
{
    /// <summary>How long a signer may use a key before asking again (or the schedule's lead, when shorter: test rotations).</summary>
    public static readonly TimeSpan SignerRefresh = TimeSpan.FromMinutes(1);

    private readonly CommittedState<SigningKeySetState> _state = new(state);
    private readonly SigningKeySchedule _schedule = new(options.Value.RotationPeriod);

    /// <summary>The context a key's private scalar is encrypted under: the key id, so a stored value cannot be moved to another key.</summary>
    public static string ProtectionContext(string keyId) => "oauth-signing-key/" + keyId;

    /// <summary>The ES256 signing credentials of a key: its private scalar decrypted (silos only) into an in-memory ECDSA key.</summary>
    public static SigningCredentials SigningCredentialsOf(SigningKeyMaterial material, WebhookSecretProtector protector)
    {
        var d = Base64Url.DecodeFromChars(protector.Unprotect(material.ProtectedPrivateKey, ProtectionContext(material.Key.KeyId)));
        try
        {
            var ecdsa = ECDsa.Create(new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                D = d,
                Q = new ECPoint { X = Base64Url.DecodeFromChars(material.Key.X), Y = Base64Url.DecodeFromChars(material.Key.Y) },
            });
            return new SigningCredentials(new ECDsaSecurityKey(ecdsa) { KeyId = material.Key.KeyId }, SecurityAlgorithms.EcdsaSha256);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(d);
        }
    }

    public async Task<IReadOnlyList<PublicSigningKey>> GetPublicKeysAsync() => [.. (await KeysAsync()).Select(Public)];

    public async Task<SigningKeyMaterial> GetSigningKeyAsync()
    {
        var keys = await KeysAsync();
        var now = time.GetUtcNow();
        var (key, until) = SigningKeySchedule.Current(keys, now);
        var refresh = now + (SignerRefresh < _schedule.Lead ? SignerRefresh : _schedule.Lead);
        return new SigningKeyMaterial(Public(key), key.ProtectedD, until is { } next && next < refresh ? next : refresh);
    }

    private async Task<List<SigningKeyRecord>> KeysAsync()
    {
        var now = time.GetUtcNow();
        var current = _state.Value.Keys;
        var (keep, newKeyFrom) = _schedule.Plan(current, now);
        if (newKeyFrom is { } from)
        {
            keep.Add(NewKey(now, from));
        }

        if (newKeyFrom is not null || keep.Count != current.Count)
        {
            try
            {
                await _state.CommitAsync(new SigningKeySetState { Keys = keep }, this);
            }
            catch (Exception e) when (current.Count > 0)
            {
                // The stored keys are acknowledged and one of them signs now; the failed write replaces this activation,
                // and the next one reads what storage holds (the new key too, had the write landed after all).
                LogRotationFailed(logger, e);
            }
        }

        return _state.Value.Keys;
    }

    [LoggerMessage(1601, LogLevel.Warning, "Rotating the access-token signing keys failed; the current key keeps signing and the rotation is tried again at the next request for a key.")]
    private static partial void LogRotationFailed(ILogger logger, Exception exception);

    private SigningKeyRecord NewKey(DateTimeOffset now, DateTimeOffset signsFrom)
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var parameters = ecdsa.ExportParameters(includePrivateParameters: true);
        var keyId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        try
        {
            return new SigningKeyRecord
            {
                KeyId = keyId,
                CreatedAt = now,
                SignsFrom = signsFrom,
                X = Base64Url.EncodeToString(parameters.Q.X),
                Y = Base64Url.EncodeToString(parameters.Q.Y),
                ProtectedD = protector.Protect(Base64Url.EncodeToString(parameters.D), ProtectionContext(keyId)),
            };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(parameters.D);
        }
    }

    private static PublicSigningKey Public(SigningKeyRecord key) => new(key.KeyId, key.X, key.Y, key.SignsFrom);
}
