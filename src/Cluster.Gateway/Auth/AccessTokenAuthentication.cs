using System.Security.Cryptography;
using System.Text;
using Cluster.Abstractions;
using Cluster.Gateway.Hosting;
using Cluster.Gateway.Http;
using Cluster.Gateway.OAuth;
using Cluster.ServiceDefaults.Operations;
using Cluster.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Cluster.Gateway.Auth;

/// <summary>
/// The access-token scheme (<see cref="GatewayAuthentication.TenantAccessTokenScheme"/>): ASP.NET Core's JWT bearer handler
/// validates signature (ES256, keys from <see cref="SigningKeyCache"/>: memory, no grain call), <c>typ</c>, issuer, audience
/// and lifetime; then the token is bound in memory: its tenant is the route's, and its client is
/// still among the tenant's active clients in <see cref="TenantCredentialCache"/>. A token validated once is remembered by its
/// hash until it expires, so a repeated token (Entra reuses one for its lifetime) skips the signature check, not the binding (trusted for
/// <c>Gateway:TokenCacheSeconds</c>, so a revoked client's tokens fail on every gateway within that time). Every refusal is
/// the tenant token scheme's 401 (<see cref="TenantChallenges"/>); a suspended tenant's token is authenticated, then 403.
/// </summary>
public sealed class AccessTokenAuthentication(
    SigningKeyCache keys,
    TenantCredentialCache credentials,
    IOptions<OAuthOptions> oauth,
    IOptions<GatewayOptions> gateway,
    IHttpContextAccessor http,
    TimeProvider time,
    ScimInstruments instruments,
    TenantActivity activity,
    ILoggerFactory loggers) : IConfigureNamedOptions<JwtBearerOptions>, IDisposable
{
    /// <summary>Longest bearer value read as a JWT; ours are about 600 characters.</summary>
    public const int MaxTokenLength = 4096;

    /// <summary>Tolerated clock difference between silos and gateways.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    /// <summary>Most validated access tokens a gateway remembers (about 300 bytes each; Entra reuses one token for its lifetime).</summary>
    public const int ValidatedTokenCacheSize = 100_000;

    private static readonly JsonWebTokenHandler Reader = new();

    // Tokens whose signature and claims were validated, by the SHA-256 of the exact token string, until they expire: a
    // repeated token costs a hash instead of an ECDSA verification. The binding (tenant of the route, client still active,
    // tenant not suspended) is still checked on every request.
    private readonly MemoryCache _validated = new(new MemoryCacheOptions { SizeLimit = ValidatedTokenCacheSize });

    // The category of every credential refusal (docs/observability.md), whichever scheme refused it.
    private readonly ILogger _logger = loggers.CreateLogger(GatewayLog.AuthenticationCategory);

    /// <summary>True when a bearer value has the shape of a JWT (three base64url parts, a JSON header), not of a secret token.</summary>
    public static bool LooksLikeJwt(string token) =>
        token.StartsWith("eyJ", StringComparison.Ordinal) && token.Length <= MaxTokenLength && token.AsSpan().Count('.') == 2;

    public void Configure(JwtBearerOptions options) => Configure(Options.DefaultName, options);

    public void Dispose() => _validated.Dispose();

    public void Configure(string? name, JwtBearerOptions options)
    {
        if (name != GatewayAuthentication.TenantAccessTokenScheme)
        {
            return;
        }

        options.MapInboundClaims = false;
        options.RefreshOnIssuerKeyNotFound = false;
        options.ConfigurationManager = keys;
        options.TimeProvider = time;
        options.TokenValidationParameters = new TokenValidationParameters
        {
            ValidAlgorithms = [AccessTokenClaims.Algorithm],
            ValidTypes = [AccessTokenClaims.TokenType],
            ValidateIssuer = true,
            IssuerValidator = ValidateIssuer,
            ValidateAudience = true,
            ValidAudience = oauth.Value.Audience,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,

            // Only the key the token names: an unknown key id fails (after one refresh), it is not tried against every key.
            TryAllIssuerSigningKeys = false,
            ClockSkew = ClockSkew,
            NameClaimType = AccessTokenClaims.ClientId,
        };
        options.Events = new JwtBearerEvents
        {
            OnMessageReceived = ReceiveAsync,
            OnTokenValidated = BindAsync,
            OnChallenge = context =>
            {
                context.HandleResponse();
                return TenantChallenges.UnauthorizedAsync(context.HttpContext, _logger, instruments, missing: false);
            },
            OnForbidden = context => TenantChallenges.SuspendedAsync(context.HttpContext),
        };
    }

    // The token from the same Authorization parsing as the other schemes; an unknown key id is looked up before validation.
    private async Task ReceiveAsync(MessageReceivedContext context)
    {
        var token = OperatorKey.Bearer(context.Request);
        if (!LooksLikeJwt(token))
        {
            context.Fail("Not an access token.");
            return;
        }

        var cacheKey = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
        if (_validated.TryGetValue(cacheKey, out var hit) && hit is Validated known && time.GetUtcNow() < known.Expires
            && string.Equals(known.Issuer, oauth.Value.IssuerFor(context.Request, gateway.Value), StringComparison.Ordinal))
        {
            if (await BindAsync(context.HttpContext, known.TenantId, known.ClientId, context.Scheme.Name) is { } principal)
            {
                context.Principal = principal;
                context.Success();
            }
            else
            {
                context.Fail("The access token is not for this tenant, or its client is revoked.");
            }

            return;
        }

        context.Token = token;
        string? keyId;
        try
        {
            keyId = Reader.ReadJsonWebToken(token).Kid;
        }
        catch (ArgumentException)
        {
            return; // malformed (SecurityTokenMalformedException is one): validation refuses it
        }

        if (!string.IsNullOrEmpty(keyId) && keyId.Length <= 64)
        {
            await keys.EnsureKeyAsync(keyId);
        }
    }

    // After the signature and claims: the token's tenant is the route's, and its client is still active there.
    private async Task BindAsync(TokenValidatedContext context)
    {
        var principal = context.Principal!;
        var tenantId = principal.FindFirst(AccessTokenClaims.Tenant)?.Value;
        var clientId = principal.FindFirst(AccessTokenClaims.ClientId)?.Value;
        if (tenantId is null || clientId is null || await BindAsync(context.HttpContext, tenantId, clientId, context.Scheme.Name) is not { } bound)
        {
            context.Fail("The access token is not for this tenant, or its client is revoked.");
            return;
        }

        if (context.SecurityToken is JsonWebToken jwt && OperatorKey.Bearer(context.Request) is { Length: > 0 } token)
        {
            // Removed, then added, as TenantCredentialCache does: the MemoryCache of this runtime can miscount an entry
            // replaced in place (its remarks). Two first requests with one token may still interleave here; this narrows
            // that to them, it does not rule it out.
            var key = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
            _validated.Remove(key);
            _validated.Set(
                key,
                new Validated(tenantId, clientId, jwt.Issuer, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero)),
                new MemoryCacheEntryOptions { Size = 1, AbsoluteExpiration = new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero) });
        }

        context.Principal = bound;
        context.Success();
    }

    // The principal of a token of tenantId's client clientId presented on this request's route, or null: the tenant must be
    // the route's, and the client must name it and be among its active clients (credential cache: memory).
    private async ValueTask<System.Security.Claims.ClaimsPrincipal?> BindAsync(HttpContext context, string tenantId, string clientId, string scheme)
    {
        if (!GrainKeys.IsValidId(tenantId) || !string.Equals(tenantId, Surfaces.TenantOf(context), StringComparison.Ordinal)
            || !OAuthClientIds.TryParseTenant(clientId, out var clientTenant) || clientTenant != tenantId)
        {
            return null;
        }

        var tenant = await credentials.GetAsync(tenantId);
        if (!tenant.Exists || !tenant.HasOAuthClient(clientId))
        {
            if (tenant.Exists)
            {
                // A token we issued to this tenant's client, now revoked: the provisioning log may note the refusal, and that
                // it was the client's (the admin then needs a new client, not a Secret Token).
                context.Items[RequestLog.RequestLogCapture.RefusedTenantKey] = tenantId;
                context.Items[RequestLog.RequestLogCapture.RefusedClientKey] = clientId;
            }

            return null;
        }

        instruments.TenantSeen(tenantId);
        activity.Note(tenantId);
        return GatewayAuthentication.TenantPrincipal(tenantId, GatewayAuthentication.Credentials.AccessToken, tenant.Suspended, scheme, new System.Security.Claims.Claim(AccessTokenClaims.ClientId, clientId));
    }

    private sealed record Validated(string TenantId, string ClientId, string Issuer, DateTimeOffset Expires);

    // iss is this gateway's issuer: configured, or derived from the request like the Tenant URL.
    private string ValidateIssuer(string issuer, SecurityToken token, TokenValidationParameters parameters) =>
        http.HttpContext is { } context && string.Equals(issuer, oauth.Value.IssuerFor(context.Request, gateway.Value), StringComparison.Ordinal)
            ? issuer
            : throw new SecurityTokenInvalidIssuerException("The access token's issuer is not this service.");
}
