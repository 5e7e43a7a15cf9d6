using Cluster.Abstractions;
using Cluster.Gateway.Hosting;
using Cluster.Gateway.Http;
using Cluster.Gateway.OAuth;
using Cluster.ServiceDefaults.Operations;
using Cluster.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Cluster.Gateway.Auth;

/// <summary>
/// The access-token scheme (<see cref="GatewayAuthentication.TenantAccessTokenScheme"/>): ASP.NET Core's JWT bearer handler
/// validates signature (ES256, keys from <see cref="SigningKeyCache"/>: memory, no grain call), <c>typ</c>, issuer, audience
/// and lifetime; then the token is bound in memory (<see cref="BindAsync"/>): its tenant is the route's, and its client is
/// still among the tenant's active clients in <see cref="TenantCredentialCache"/> (trusted for
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
    ILoggerFactory loggers) : IConfigureNamedOptions<JwtBearerOptions>
{
    /// <summary>Longest bearer value read as a JWT; ours are about 600 characters.</summary>
    public const int MaxTokenLength = 4096;

    /// <summary>Tolerated clock difference between silos and gateways.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    private static readonly JsonWebTokenHandler Reader = new();

    private readonly ILogger _logger = loggers.CreateLogger(GatewayAuthentication.TenantAccessTokenScheme);

    /// <summary>True when a bearer value has the shape of a JWT (three base64url parts, a JSON header), not of a secret token.</summary>
    public static bool LooksLikeJwt(string token) =>
        token.StartsWith("eyJ", StringComparison.Ordinal) && token.Length <= MaxTokenLength && token.AsSpan().Count('.') == 2;

    public void Configure(JwtBearerOptions options) => Configure(Options.DefaultName, options);

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
        if (tenantId is null || clientId is null || !GrainKeys.IsValidId(tenantId)
            || !string.Equals(tenantId, Surfaces.TenantOf(context.HttpContext), StringComparison.Ordinal)
            || !OAuthClientIds.TryParseTenant(clientId, out var clientTenant) || clientTenant != tenantId)
        {
            context.Fail("The access token is not for this tenant.");
            return;
        }

        var tenant = await credentials.GetAsync(tenantId);
        if (!tenant.Exists || !tenant.HasOAuthClient(clientId))
        {
            context.Fail("The access token's client is revoked.");
            return;
        }

        instruments.TenantSeen(tenantId);
        context.Principal = GatewayAuthentication.TenantPrincipal(tenantId, "access_token", tenant.Suspended, context.Scheme.Name,
            new System.Security.Claims.Claim(AccessTokenClaims.ClientId, clientId));
        context.Success();
    }

    // iss is this gateway's issuer: configured, or derived from the request like the Tenant URL.
    private string ValidateIssuer(string issuer, SecurityToken token, TokenValidationParameters parameters) =>
        http.HttpContext is { } context && string.Equals(issuer, oauth.Value.IssuerFor(context.Request, gateway.Value), StringComparison.Ordinal)
            ? issuer
            : throw new SecurityTokenInvalidIssuerException("The access token's issuer is not this service.");
}
