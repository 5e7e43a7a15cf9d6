using System.Security.Claims;
using Cluster.Gateway.Http;
using Cluster.ServiceDefaults.Operations;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Auth;

/// <summary>
/// One authentication model for every surface (ASP.NET Core authentication and authorization; docs/architecture.md,
/// "Tenants and tokens"): a scheme per credential kind — a tenant's secret token (<see cref="TenantTokenScheme"/>), a
/// tenant's OAuth access token (<see cref="TenantAccessTokenScheme"/>), the portal's session cookie, the operator key (<see cref="OperatorScheme"/>) — and a
/// policy per surface, attached to its route group: the SCIM policy requires a credential of the route's own tenant and a
/// tenant that is not suspended; the admin policy requires the operator key. Each scheme writes its refusals in its
/// surface's format (<see cref="SurfaceErrors"/>).
/// </summary>
public static class GatewayAuthentication
{
    /// <summary>What a SCIM request authenticates with: forwards to the scheme of the credential it carries.</summary>
    public const string TenantScheme = "Tenant";

    /// <summary>A tenant's secret token (<c>Authorization: Bearer scim_…</c>).</summary>
    public const string TenantTokenScheme = "TenantToken";

    /// <summary>A tenant's OAuth access token (<c>Authorization: Bearer eyJ…</c>, a JWT from <c>/oauth2/token</c>).</summary>
    public const string TenantAccessTokenScheme = "TenantAccessToken";

    /// <summary>The operator key (<c>Authorization: Bearer &lt;Admin:ApiKey&gt;</c>).</summary>
    public const string OperatorScheme = "OperatorKey";

    /// <summary>Policy of the SCIM surface.</summary>
    public const string TenantPolicy = "tenant";

    /// <summary>Policy of the admin surface.</summary>
    public const string OperatorPolicy = "operator";

    /// <summary>Claim types of the principals the schemes make.</summary>
    public static class Claims
    {
        /// <summary>The tenant a credential belongs to.</summary>
        public const string Tenant = "tenant_id";

        /// <summary><c>true</c> when that tenant is suspended (its SCIM calls are refused with 403).</summary>
        public const string Suspended = "tenant_suspended";

        /// <summary>Which kind of credential: <see cref="Credentials"/>.</summary>
        public const string Credential = "credential";
    }

    /// <summary>The values of <see cref="Claims.Credential"/>.</summary>
    public static class Credentials
    {
        /// <summary>A tenant's secret token.</summary>
        public const string SecretToken = "token";

        /// <summary>A tenant's OAuth access token.</summary>
        public const string AccessToken = "access_token";

        /// <summary>The operator key.</summary>
        public const string Operator = "operator";
    }

    /// <summary>The policy that guards a surface, or null when it has none (OAuth endpoints authenticate clients themselves).</summary>
    public static string? PolicyOf(Surface surface) => surface switch
    {
        Surface.Scim => TenantPolicy,
        Surface.Admin => OperatorPolicy,
        _ => null,
    };

    /// <summary>Registers the schemes and the surfaces' policies.</summary>
    public static WebApplicationBuilder AddGatewayAuthentication(this WebApplicationBuilder builder)
    {
        builder.Services.AddAuthentication()
            .AddPolicyScheme(TenantScheme, "Tenant credential", o => o.ForwardDefaultSelector = SelectTenantScheme)
            .AddScheme<AuthenticationSchemeOptions, TenantTokenAuthenticationHandler>(TenantTokenScheme, "Tenant secret token", null)
            .AddJwtBearer(TenantAccessTokenScheme, "Tenant OAuth access token", _ => { }) // configured by AccessTokenAuthentication
            .AddScheme<AuthenticationSchemeOptions, OperatorKeyAuthenticationHandler>(OperatorScheme, "Operator key", null);
        builder.Services.AddSingleton<IConfigureOptions<JwtBearerOptions>, AccessTokenAuthentication>();
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddSingleton<IAuthorizationHandler, TenantOfRouteHandler>();
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(TenantPolicy, policy => policy.AddAuthenticationSchemes(TenantScheme).RequireAuthenticatedUser().AddRequirements(new TenantOfRouteRequirement()))
            .AddPolicy(OperatorPolicy, policy => policy.AddAuthenticationSchemes(OperatorScheme).RequireClaim(Claims.Credential, Credentials.Operator));
        return builder;
    }

    /// <summary>A JWT-shaped bearer value goes to the access-token scheme; anything else (a secret token, nothing) to the secret-token scheme.</summary>
    private static string SelectTenantScheme(HttpContext context) =>
        AccessTokenAuthentication.LooksLikeJwt(OperatorKey.Bearer(context.Request)) ? TenantAccessTokenScheme : TenantTokenScheme;

    /// <summary>The tenant principal of a credential accepted for <paramref name="tenantId"/>.</summary>
    internal static ClaimsPrincipal TenantPrincipal(string tenantId, string credential, bool suspended, string scheme, params Claim[] more) =>
        new(new ClaimsIdentity([new(Claims.Tenant, tenantId), new(Claims.Credential, credential), new(Claims.Suspended, suspended ? "true" : "false"), .. more], scheme));
}

/// <summary>The SCIM policy's rule: the credential belongs to the tenant the route names, and that tenant is not suspended.</summary>
public sealed class TenantOfRouteRequirement : IAuthorizationRequirement;

/// <summary>Checks <see cref="TenantOfRouteRequirement"/> against the request (the resource of endpoint authorization).</summary>
public sealed class TenantOfRouteHandler : AuthorizationHandler<TenantOfRouteRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, TenantOfRouteRequirement requirement)
    {
        if (context.Resource is HttpContext http
            && context.User.FindFirst(GatewayAuthentication.Claims.Tenant)?.Value is { Length: > 0 } tenant
            && string.Equals(tenant, Surfaces.TenantOf(http), StringComparison.Ordinal)
            && context.User.FindFirst(GatewayAuthentication.Claims.Suspended)?.Value != "true")
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
