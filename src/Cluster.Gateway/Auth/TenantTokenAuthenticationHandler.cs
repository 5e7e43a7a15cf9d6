using System.Text.Encodings.Web;
using Cluster.Gateway.Hosting;
using Cluster.Gateway.Http;
using Cluster.Gateway.Limits;
using Cluster.ServiceDefaults.Operations;
using Cluster.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Auth;

/// <summary>
/// The tenant secret token scheme: <c>Authorization: Bearer &lt;token&gt;</c> checked in memory against the hashes of
/// the tenant the route names (<see cref="TenantTokenValidator"/>: a bounded credential cache, and a per-address budget of
/// failed lookups of unknown tenants, spent before any grain call). Anything else — no header, a wrong token, another
/// tenant's token, an unknown tenant — is the same 401 with a SCIM body, revealing nothing; a client over its budget gets
/// 429; a suspended tenant's valid token is authenticated and then forbidden (403).
/// </summary>
public sealed class TenantTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    TenantTokenValidator validator,
    ScimInstruments instruments,
    TenantActivity activity) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    private readonly ILogger _log = loggerFactory.CreateLogger(GatewayLog.AuthenticationCategory);

    // Why the request failed authentication, for the challenge.
    private TokenCheck? _check;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = OperatorKey.Bearer(Request);
        if (token.Length == 0)
        {
            return AuthenticateResult.NoResult();
        }

        var tenantId = Surfaces.TenantOf(Context);
        var check = await validator.ValidateAsync(tenantId, token, Context.Connection.RemoteIpAddress);
        _check = check;
        if (!check.IsValid)
        {
            if (check.TenantExists)
            {
                Context.Items[RequestLog.RequestLogCapture.RefusedTenantKey] = tenantId;
            }

            return AuthenticateResult.Fail(check.RetryAfter is null ? "Invalid token." : "Too many failed authentications.");
        }

        instruments.TenantSeen(tenantId);
        activity.Note(tenantId);
        return AuthenticateResult.Success(new AuthenticationTicket(
            GatewayAuthentication.TenantPrincipal(tenantId, GatewayAuthentication.Credentials.SecretToken, check.Suspended, Scheme.Name), Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var tenantId = Surfaces.TenantOf(Context);
        if (_check?.RetryAfter is { } wait)
        {
            instruments.LimitRejected(ScimInstruments.LimitReasons.FailedAuthentication, tenantId);
            await ScimRateLimiting.TooManyRequests("Too many failed authentications from this client address.", wait).ExecuteAsync(Context);
            return;
        }

        await TenantChallenges.UnauthorizedAsync(Context, _log, instruments, missing: _check is null);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) => TenantChallenges.SuspendedAsync(Context);
}

/// <summary>
/// What every tenant credential scheme (secret token, access token) answers, so a refusal reveals nothing about which
/// kind of credential was presented or why it failed: one 401, byte for byte, and the suspended tenant's 403.
/// </summary>
internal static class TenantChallenges
{
    /// <summary>The 401 for a missing or invalid credential, with <c>WWW-Authenticate: Bearer</c>, in the surface's format.</summary>
    public static Task UnauthorizedAsync(HttpContext context, ILogger logger, ScimInstruments instruments, bool missing)
    {
        GatewayLog.Unauthorized(logger, context.RequestServices.GetRequiredService<RefusalLogBudget>(), context.Request.Method, missing);
        instruments.TokenRejected(Surfaces.TenantOf(context), missing);
        return SurfaceErrors.Write(context, StatusCodes.Status401Unauthorized, "Authorization failed: a valid bearer token for this tenant is required.",
            headers: response => response.Headers.WWWAuthenticate = "Bearer").ExecuteAsync(context);
    }

    /// <summary>The 403 of a suspended tenant's valid credential.</summary>
    public static Task SuspendedAsync(HttpContext context) =>
        SurfaceErrors.Write(context, StatusCodes.Status403Forbidden, "This tenant is suspended: its provisioning is paused by the service's operator.").ExecuteAsync(context);
}

/// <summary>
/// The operator key scheme of the admin surface: <c>Authorization: Bearer &lt;Admin:ApiKey&gt;</c>, compared in constant time
/// (<see cref="OperatorKey"/>). A refusal is a problem+json 401.
/// </summary>
public sealed class OperatorKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    IOptions<AdminOptions> admin,
    RefusalLogBudget refusals) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    private readonly ILogger _log = loggerFactory.CreateLogger(GatewayLog.AuthenticationCategory);
    private readonly OperatorKey _key = new(admin.Value.ApiKey);

    protected override Task<AuthenticateResult> HandleAuthenticateAsync() => Task.FromResult(
        _key.Authorizes(Request, allowBasic: false)
            ? AuthenticateResult.Success(new AuthenticationTicket(
                new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity([new(GatewayAuthentication.Claims.Credential, GatewayAuthentication.Credentials.Operator)], Scheme.Name)),
                Scheme.Name))
            : AuthenticateResult.NoResult());

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        GatewayLog.AdminUnauthorized(_log, refusals);
        return SurfaceErrors.Write(Context, StatusCodes.Status401Unauthorized, "A valid operator key is required (Authorization: Bearer <Admin:ApiKey>).",
            headers: response => response.Headers.WWWAuthenticate = "Bearer").ExecuteAsync(Context);
    }
}
