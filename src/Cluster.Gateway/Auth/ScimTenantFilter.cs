using Cluster.Gateway.Http;
using Cluster.Gateway.Resilience;

namespace Cluster.Gateway.Auth;

/// <summary>
/// Runs before every SCIM endpoint: the bearer token must belong to the tenant in the route. Anything else —
/// no header, a wrong token, another tenant's token, an unknown tenant — is the same 401, revealing nothing.
/// </summary>
public sealed class ScimTenantFilter(TenantTokenValidator validator, GrainCallRetry retry) : IEndpointFilter
{
    public const string TenantRouteValue = "tenantId";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var tenantId = http.Request.RouteValues[TenantRouteValue] as string ?? "";
        var header = http.Request.Headers.Authorization.ToString();
        const string Scheme = "Bearer ";
        var token = header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) ? header[Scheme.Length..].Trim() : "";
        if (token.Length == 0 || !await retry.ExecuteAsync(CallSafety.Read, () => validator.ValidateAsync(tenantId, token).AsTask(), http.RequestAborted))
        {
            GatewayLog.Unauthorized(http.RequestServices.GetRequiredService<ILogger<ScimTenantFilter>>(), http.Request.Method, token.Length == 0);
            return ScimHttp.Error(401, null, "Authorization failed: a valid bearer token for this tenant is required.",
                response => response.Headers.WWWAuthenticate = "Bearer");
        }

        return await next(context);
    }
}
