using Cluster.Gateway.Http;
using Cluster.Gateway.Limits;
using Cluster.ServiceDefaults.Telemetry;

namespace Cluster.Gateway.Auth;

/// <summary>
/// Runs before routing for everything under <c>/scim/v2/tenants/{tenantId}</c>: the bearer token must belong to that
/// tenant. Anything else — no header, a wrong token, another tenant's token, an unknown tenant — is the same 401,
/// revealing nothing, whatever the path or method (so unknown routes and 405s are authenticated too). A client address
/// over its budget of failed lookups gets 429 instead, for tenants this gateway does not know (<see cref="TenantTokenValidator"/>).
/// </summary>
public sealed class ScimAuthenticationMiddleware(RequestDelegate next, TenantTokenValidator validator, ScimInstruments instruments, ILogger<ScimAuthenticationMiddleware> logger)
{
    /// <summary>Route prefix of the SCIM endpoints, up to the tenant id.</summary>
    public const string TenantsPrefix = "/scim/v2/tenants";

    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments(TenantsPrefix, StringComparison.OrdinalIgnoreCase, out var rest))
        {
            await next(context);
            return;
        }

        var tenantId = rest.Value is { Length: > 1 } value ? value[1..].Split('/', 2)[0] : "";
        var header = context.Request.Headers.Authorization.ToString();
        const string Scheme = "Bearer ";
        var token = header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) ? header[Scheme.Length..].Trim() : "";
        var check = token.Length == 0 ? TokenCheck.Invalid : await validator.ValidateAsync(tenantId, token, context.Connection.RemoteIpAddress);
        if (check.RetryAfter is { } wait)
        {
            instruments.LimitRejected(ScimInstruments.LimitReasons.FailedAuthentication, tenantId);
            await ScimRateLimiting.TooManyRequests("Too many failed authentications from this client address.", wait).ExecuteAsync(context);
            return;
        }

        if (!check.IsValid)
        {
            GatewayLog.Unauthorized(logger, context.Request.Method, token.Length == 0);
            instruments.TokenRejected(tenantId, missing: token.Length == 0);
            await ScimHttp.Error(401, null, "Authorization failed: a valid bearer token for this tenant is required.",
                response => response.Headers.WWWAuthenticate = "Bearer").ExecuteAsync(context);
            return;
        }

        instruments.TenantSeen(tenantId);
        await next(context);
    }
}
