using System.Security.Cryptography;
using Cluster.Grains.Events.Webhooks;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Orleans.Concurrency;

namespace Cluster.Grains.OAuth;

/// <summary>
/// Issues access tokens (<see cref="IAccessTokenIssuerGrain"/>), a stateless worker on every silo: asks the client's tenant
/// grain whether the secret is valid (so a revoked secret yields no token from the moment its revocation is acknowledged),
/// then signs a JWT (RFC 9068 shape, ES256) with the current key, created with <see cref="JsonWebTokenHandler"/>. The
/// decrypted private key lives only in this activation's memory, re-read from <see cref="ISigningKeySetGrain"/> when it
/// may have changed.
/// </summary>
[StatelessWorker]
public sealed class AccessTokenIssuerGrain(WebhookSecretProtector protector, TimeProvider time) : Grain, IAccessTokenIssuerGrain
{
    private static readonly JsonWebTokenHandler Tokens = new() { SetDefaultTimesOnTokenCreation = false };

    private SigningCredentials? _signer;
    private DateTimeOffset _refreshAt;

    public async Task<AccessTokenResult> IssueAsync(AccessTokenRequest request)
    {
        if (!OAuthClientIds.TryParseTenant(request.ClientId, out var tenantId))
        {
            return new(ClientCheck.Invalid);
        }

        var check = await GrainFactory.Grain<ITenantGrain>(GrainKeys.Tenant(tenantId)).VerifyClientSecretAsync(request.ClientId, request.SecretHash);
        if (check != ClientCheck.Valid)
        {
            return new(check);
        }

        var signer = await SignerAsync();
        var now = time.GetUtcNow();
        var expires = now + request.Lifetime;
        var token = Tokens.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = request.Issuer,
            Audience = request.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            TokenType = AccessTokenClaims.TokenType,
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = request.ClientId,
                [AccessTokenClaims.ClientId] = request.ClientId,
                [AccessTokenClaims.Tenant] = tenantId,
                [JwtRegisteredClaimNames.Jti] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            },
            SigningCredentials = signer,
        });
        return new(ClientCheck.Valid, token, expires);
    }

    private async Task<SigningCredentials> SignerAsync()
    {
        if (_signer is not null && time.GetUtcNow() < _refreshAt)
        {
            return _signer;
        }

        var material = await GrainFactory.Grain<ISigningKeySetGrain>(GrainKeys.SigningKeySet).GetSigningKeyAsync();
        if (_signer?.Key.KeyId != material.Key.KeyId)
        {
            _signer = SigningKeySetGrain.SigningCredentialsOf(material, protector);
        }

        _refreshAt = material.RefreshAt;
        return _signer!;
    }
}
