using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Cluster.Abstractions;
using Cluster.Gateway.Limits;
using Cluster.ServiceDefaults.Operations;

namespace Cluster.Gateway.Auth;

/// <summary>
/// Checks SCIM bearer tokens in memory, against the tenant's token hashes from <see cref="TenantCredentialCache"/>.
/// Presented tokens are hashed and compared with every stored hash in constant time. A lookup that would cost a grain
/// call for a tenant this gateway knows nothing about is refused, before that call, while the client address is over
/// its budget of such failed lookups (<see cref="FailedAuthenticationLimiter"/>).
/// </summary>
public sealed class TenantTokenValidator(TenantCredentialCache credentials, FailedAuthenticationLimiter failures)
{
    /// <summary>Whether <paramref name="token"/> is a valid token of tenant <paramref name="tenantId"/>, asked by <paramref name="client"/>.</summary>
    public async ValueTask<TokenCheck> ValidateAsync(string tenantId, string token, IPAddress? client)
    {
        if (!GrainKeys.IsValidId(tenantId) || token.Length is 0 or > 512)
        {
            return TokenCheck.Invalid;
        }

        return await CheckAsync(tenantId, client, tenant => Check(tenant, token));
    }

    /// <summary>
    /// Whether <paramref name="clientId"/> is an active OAuth client of the tenant its id names (the token endpoint's
    /// first check, before the tenant grain checks the secret), under the same bounds as a bearer token: from memory,
    /// or a lookup subject to the client address's budget of failed lookups.
    /// </summary>
    public ValueTask<TokenCheck> ValidateClientAsync(string clientId, IPAddress? client) =>
        OAuthClientIds.TryParseTenant(clientId, out var tenantId)
            ? CheckAsync(tenantId, client, tenant => CheckClient(tenant, clientId))
            : ValueTask.FromResult(TokenCheck.Invalid);

    /// <summary>
    /// Whether the credential a tenant principal was authenticated with still holds: its tenant exists and still lists the
    /// request's secret token, or still has the OAuth client its access token was issued to (suspended or not). For a request
    /// that runs long after its authentication (a Bulk): from the credential cache, so a revocation, a suspension or a
    /// tenant's delete is seen at once on the gateway that served it and within <c>Gateway:TokenCacheSeconds</c> elsewhere.
    /// </summary>
    public async ValueTask<TokenCheck> RecheckAsync(ClaimsPrincipal user, HttpRequest request)
    {
        if (user.FindFirst(GatewayAuthentication.Claims.Tenant)?.Value is not { } tenantId || !GrainKeys.IsValidId(tenantId))
        {
            return TokenCheck.Invalid;
        }

        var tenant = await credentials.GetAsync(tenantId);
        return user.FindFirst(GatewayAuthentication.Claims.Credential)?.Value switch
        {
            GatewayAuthentication.Credentials.SecretToken => Check(tenant, OperatorKey.Bearer(request)),
            GatewayAuthentication.Credentials.AccessToken when user.FindFirst(AccessTokenClaims.ClientId)?.Value is { } clientId => CheckClient(tenant, clientId),
            _ => TokenCheck.Invalid,
        };
    }

    /// <summary>
    /// Whether <paramref name="tenantId"/> names a tenant (suspended or not): a setup link's first check, before its tenant's
    /// links are asked, under the same bounds as a bearer token (a made-up tenant id costs a lookup and spends the budget).
    /// </summary>
    public ValueTask<TokenCheck> ValidateTenantAsync(string tenantId, IPAddress? client) =>
        GrainKeys.IsValidId(tenantId)
            ? CheckAsync(tenantId, client, tenant => tenant.Exists ? TokenCheck.Accepted(tenant.Suspended) : TokenCheck.Invalid)
            : ValueTask.FromResult(TokenCheck.Invalid);

    // Checks a credential against the tenant's cached credentials. A tenant this gateway knows nothing about costs a grain
    // activation and a storage read, for an id anyone can make up: that lookup is refused while the client address is over
    // its budget, and spends it when the credential fails.
    private async ValueTask<TokenCheck> CheckAsync(string tenantId, IPAddress? client, Func<TenantCredentials, TokenCheck> check)
    {
        if (!credentials.IsNewLookup(tenantId))
        {
            return check(await credentials.GetAsync(tenantId));
        }

        using var lookup = failures.Begin(client);
        if (lookup.RetryAfter is { } wait)
        {
            return TokenCheck.Throttled(wait);
        }

        var result = check(await credentials.GetAsync(tenantId));
        if (!result.IsValid)
        {
            lookup.Failed();
        }

        return result;
    }

    private static TokenCheck CheckClient(TenantCredentials tenant, string clientId) =>
        tenant.Exists && tenant.HasOAuthClient(clientId) ? TokenCheck.Accepted(tenant.Suspended) : TokenCheck.Invalid;

    private static TokenCheck Check(TenantCredentials tenant, string token) =>
        !tenant.Exists ? TokenCheck.Invalid : Matches(token, tenant.TokenHashes) ? TokenCheck.Accepted(tenant.Suspended) : TokenCheck.Refused;

    private static bool Matches(string token, IReadOnlyList<byte[]> hashes)
    {
        Span<byte> presented = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(token), presented);
        var valid = false;
        foreach (var hash in hashes)
        {
            // No early exit: the time taken does not depend on which token matched.
            valid |= CryptographicOperations.FixedTimeEquals(presented, hash);
        }

        return valid;
    }
}

/// <summary>
/// The answer to a bearer token: valid (of a tenant that may be suspended), invalid (401), or not looked up because the
/// client must wait (429).
/// </summary>
/// <param name="IsValid">The credential is the tenant's.</param>
/// <param name="RetryAfter">Set when the lookup was refused: the client must wait this long (429).</param>
/// <param name="Suspended">For a valid credential: the tenant is suspended (403).</param>
/// <param name="TenantExists">For an invalid credential: the tenant the route names exists (the credential was wrong, revoked
/// or expired), so the provisioning log may note the refusal.</param>
public readonly record struct TokenCheck(bool IsValid, TimeSpan? RetryAfter, bool Suspended = false, bool TenantExists = false)
{
    public static TokenCheck Invalid => new(false, null);

    public static TokenCheck Refused => new(false, null, TenantExists: true);

    public static TokenCheck Accepted(bool suspended) => new(true, null, suspended);

    public static TokenCheck Throttled(TimeSpan retryAfter) => new(false, retryAfter);
}
