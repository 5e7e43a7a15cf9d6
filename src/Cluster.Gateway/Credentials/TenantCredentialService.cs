using Cluster.Abstractions;
using Cluster.Gateway.Auth;

namespace Cluster.Gateway.Credentials;

/// <summary>How issuing a credential ended.</summary>
public enum IssueOutcome
{
    Issued,
    NotFound,
    TooMany,
}

/// <summary>A credential as issued (its secret shown once), or why none was.</summary>
public readonly record struct Issued<T>(IssueOutcome Outcome, T? Credential)
    where T : class;

/// <summary>
/// The one credentials service (issue 13): issue and revoke a tenant's secret tokens, and its OAuth clients and client
/// secrets. The admin API uses it (and through it the CLI), and the portal will. Every change goes to the tenant grain,
/// which stores only hashes; every revocation also makes this gateway forget the tenant's cached credentials at once
/// (others within <c>Gateway:TokenCacheSeconds</c>). Ids are validated here, so no caller reaches a grain with a malformed
/// one, and a client id is accepted only under the tenant it names. Logs ids, never secrets.
/// </summary>
public sealed class TenantCredentialService(IGrainFactory grains, TenantCredentialCache cache, ILogger<TenantCredentialService> logger)
{
    /// <summary>Issues a secret token; the tenant's other tokens stay valid (rotation).</summary>
    public async Task<Issued<IssuedToken>> IssueTokenAsync(string tenantId)
    {
        if (Tenant(tenantId) is not { } tenant || await tenant.GetInfoAsync() is null)
        {
            return new(IssueOutcome.NotFound, null);
        }

        if (await tenant.IssueTokenAsync() is not { } token)
        {
            // The grain refuses a tenant at its token limit and one deleted since the check above alike.
            return new(await tenant.GetInfoAsync() is null ? IssueOutcome.NotFound : IssueOutcome.TooMany, null);
        }

        // This gateway accepts the new token at once (the admin tests it at once); others within Gateway:TokenCacheSeconds.
        cache.Invalidate(tenantId);
        GatewayLog.TokenIssued(logger, tenantId, token.Id);
        return new(IssueOutcome.Issued, token);
    }

    /// <summary>Revokes a secret token: it fails on every gateway within <c>Gateway:TokenCacheSeconds</c>.</summary>
    public async Task<bool> RevokeTokenAsync(string tenantId, string tokenId)
    {
        if (Tenant(tenantId) is not { } tenant || !IsCredentialId(tokenId) || !await tenant.RevokeTokenAsync(tokenId))
        {
            return false;
        }

        cache.Invalidate(tenantId);
        GatewayLog.TokenRevoked(logger, tenantId, tokenId);
        return true;
    }

    /// <summary>Creates an OAuth client with its first secret.</summary>
    public async Task<Issued<IssuedClientSecret>> CreateOAuthClientAsync(string tenantId, TimeSpan secretLifetime)
    {
        if (Tenant(tenantId) is not { } tenant)
        {
            return new(IssueOutcome.NotFound, null);
        }

        var result = Map(await tenant.CreateOAuthClientAsync(secretLifetime));
        if (result.Credential is { } secret)
        {
            // This gateway knows the new client at once; others within Gateway:TokenCacheSeconds.
            cache.Invalidate(tenantId);
            GatewayLog.OAuthClientCreated(logger, tenantId, secret.ClientId, secret.SecretId);
        }

        return result;
    }

    /// <summary>Adds a secret to a client (rotation: its other secrets stay valid).</summary>
    public async Task<Issued<IssuedClientSecret>> AddClientSecretAsync(string tenantId, string clientId, TimeSpan secretLifetime)
    {
        if (Client(tenantId, clientId) is not { } tenant)
        {
            return new(IssueOutcome.NotFound, null);
        }

        var result = Map(await tenant.AddClientSecretAsync(clientId, secretLifetime));
        if (result.Credential is { } secret)
        {
            GatewayLog.ClientSecretAdded(logger, tenantId, clientId, secret.SecretId);
        }

        return result;
    }

    /// <summary>Revokes one client secret: it yields no new access token from now on (tokens already issued keep working).</summary>
    public async Task<bool> RevokeClientSecretAsync(string tenantId, string clientId, string secretId)
    {
        if (Client(tenantId, clientId) is not { } tenant || !IsCredentialId(secretId) || !await tenant.RevokeClientSecretAsync(clientId, secretId))
        {
            return false;
        }

        GatewayLog.ClientSecretRevoked(logger, tenantId, clientId, secretId);
        return true;
    }

    /// <summary>Revokes a client: no new tokens, and its access tokens fail on every gateway within <c>Gateway:TokenCacheSeconds</c>.</summary>
    public async Task<bool> RevokeOAuthClientAsync(string tenantId, string clientId)
    {
        if (Client(tenantId, clientId) is not { } tenant || !await tenant.RevokeOAuthClientAsync(clientId))
        {
            return false;
        }

        cache.Invalidate(tenantId);
        GatewayLog.OAuthClientRevoked(logger, tenantId, clientId);
        return true;
    }

    /// <summary>The tenant's clients and their secrets' metadata; null when there is no such tenant.</summary>
    public Task<IReadOnlyList<OAuthClientInfo>?> ListOAuthClientsAsync(string tenantId) =>
        Tenant(tenantId)?.GetOAuthClientsAsync() ?? Task.FromResult<IReadOnlyList<OAuthClientInfo>?>(null);

    private ITenantGrain? Tenant(string tenantId) => GrainKeys.IsValidId(tenantId) ? grains.Grain<ITenantGrain>(GrainKeys.Tenant(tenantId)) : null;

    // A client id names its tenant: one named under another tenant's route does not exist there.
    private ITenantGrain? Client(string tenantId, string clientId) =>
        OAuthClientIds.TryParseTenant(clientId, out var owner) && owner == tenantId ? Tenant(tenantId) : null;

    // A secret token's or a client secret's id (lowercase hex, as issued): anything else names nothing, and reaches no grain.
    private static bool IsCredentialId(string id) => id.Length is > 0 and <= 32 && id.All(char.IsAsciiHexDigitLower);

    private static Issued<IssuedClientSecret> Map(OAuthClientResult result) => result.Outcome switch
    {
        OAuthClientOutcome.Issued => new(IssueOutcome.Issued, result.Secret),
        OAuthClientOutcome.TooMany => new(IssueOutcome.TooMany, null),
        _ => new(IssueOutcome.NotFound, null),
    };
}
