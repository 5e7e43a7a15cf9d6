using Cluster.Gateway.Http;
using Cluster.Gateway.Resilience;
using Cluster.ServiceDefaults.Telemetry;

namespace Cluster.Gateway.Auth;

/// <summary>
/// Runs before routing for everything under <c>/scim/v2/tenants/{tenantId}</c>: the bearer token must belong to that
/// tenant. Anything else — no header, a wrong token, another tenant's token, an unknown tenant — is the same 401,
/// revealing nothing, whatever the path or method (so unknown routes and 405s are authenticated too).
/// </summary>
public sealed class ScimAuthenticationMiddleware(RequestDelegate next, TenantTokenValidator validator, GrainCallRetry retry, ScimInstruments instruments, ILogger<ScimAuthenticationMiddleware> logger)
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
        if (token.Length == 0 || !await retry.ExecuteAsync(CallSafety.Read, () => validator.ValidateAsync(tenantId, token).AsTask(), context.RequestAborted))
        {
            GatewayLog.Unauthorized(logger, context.Request.Method, token.Length == 0);
            instruments.TokenRejected(tenantId, missing: token.Length == 0);
            await ScimHttp.Error(401, null, "Authorization failed: a valid bearer token for this tenant is required.",
                response => response.Headers.WWWAuthenticate = "Bearer").ExecuteAsync(context);
            return;
        }

        await next(context);
    }
}
