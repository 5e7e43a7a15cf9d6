using System.Collections.Concurrent;
using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Cluster.Abstractions;
using Cluster.Gateway.Hosting;
using Cluster.Gateway.Auth;
using Cluster.Gateway.Http;
using Cluster.Gateway.Limits;
using Cluster.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Portal;

/// <summary>
/// The customer portal (issue 14; docs/architecture.md, "Customer portal"): server-rendered Razor Pages under
/// <c>/portal</c>, on the portal surface. A customer's admin enters through a setup link (one tenant; the session lasts
/// while the link is active); an operator signs in with the operator key (any tenant, plus the console). Both get a session
/// cookie: HttpOnly, SameSite=Lax, Secure over HTTPS, with idle expiry; plain HTTP is refused except on loopback. Every
/// form carries an antiforgery token.
/// </summary>
public static class PortalHosting
{
    /// <summary>The portal's cookie scheme.</summary>
    public const string Scheme = "Portal";

    /// <summary>Pages of one tenant: its own admin (setup-link session) or an operator.</summary>
    public const string TenantPolicy = "portal-tenant";

    /// <summary>The operator console.</summary>
    public const string OperatorPolicy = "portal-operator";

    /// <summary>
    /// Pages anyone may open, with the session read when there is one: signing out. Its form's antiforgery token names the
    /// signed-in user, so the POST must be checked with that user known (without it every sign-out was a 400).
    /// </summary>
    public const string AnyonePolicy = "portal-anyone";

    /// <summary>Claim types of portal sessions.</summary>
    public static class Claims
    {
        public const string Tenant = "tenant_id";
        public const string Link = "setup_link";
        public const string Operator = "operator_key";
    }

    // The portal's pages are compiled into this library: whichever process hosts it (a gateway, or a silo in the co-hosted
    // topology), MVC finds them here, once, even when the host's own discovery did not.
    private static void AddPortalPages(ApplicationPartManager manager)
    {
        var assembly = typeof(PortalHosting).Assembly;
        var name = assembly.GetName().Name;
        if (manager.ApplicationParts.Any(p => p.Name == name))
        {
            return;
        }

        foreach (var part in ApplicationPartFactory.GetApplicationPartFactory(assembly).GetApplicationParts(assembly))
        {
            manager.ApplicationParts.Add(part);
        }
    }

    /// <summary>How long a session lasts without a request.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(30);

    public static WebApplicationBuilder AddScimPortal(this WebApplicationBuilder builder)
    {
        builder.Services.AddRazorPages(options =>
        {
            options.RootDirectory = "/Portal/Pages";
            options.Conventions.AuthorizeFolder("/Tenant", TenantPolicy);
            options.Conventions.AuthorizeFolder("/Operator", OperatorPolicy);
            options.Conventions.AuthorizePage("/SignOut", AnyonePolicy);
        }).AddMvcOptions(options => options.Filters.Add<PortalFormFilter>()).ConfigureApplicationPartManager(AddPortalPages);
        // Session cookies and antiforgery tokens are protected with keys every gateway shares, kept on the cluster.
        builder.Services.AddDataProtection().SetApplicationName("scim-gateway");
        builder.Services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(services =>
            new ConfigureOptions<KeyManagementOptions>(options => options.XmlRepository = new GrainXmlRepository(services.GetRequiredService<IGrainFactory>())));
        builder.Services.AddSingleton<PortalSessions>();
        builder.Services.AddSingleton<PortalTenant>();
        builder.Services.AddSingleton<PortalDirectory>();
        builder.Services.AddAuthentication().AddCookie(Scheme, options =>
        {
            options.Cookie.Name = "scim-portal";
            options.Cookie.HttpOnly = true;
            // Lax, not Strict: an admin comes back to the portal from webmail or a chat (the setup link again, a bookmark's
            // page opened from another site), and a Strict cookie would not join that cross-site navigation (a 401 page).
            // Lax still keeps it off cross-site posts; every form also carries an antiforgery token, and GETs change nothing
            // (a setup link's GET asks before it starts a session).
            options.Cookie.SameSite = SameSiteMode.Lax;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.Cookie.Path = "/portal";
            options.ExpireTimeSpan = IdleTimeout;
            options.SlidingExpiration = true;
            options.LoginPath = "/portal/signin";
            options.Events.OnValidatePrincipal = context => context.HttpContext.RequestServices.GetRequiredService<PortalSessions>().ValidateAsync(context);
            options.Events.OnRedirectToLogin = context => Refuse(context, StatusCodes.Status401Unauthorized,
                "Your portal session has ended. Open your setup link again, or ask your service provider for a new one.");
            options.Events.OnRedirectToAccessDenied = context => Refuse(context, StatusCodes.Status403Forbidden, IsOperatorPage(context.HttpContext)
                ? "This page is the service operator's console: sign in at /portal/signin with the operator key."
                : "This page belongs to another organisation's portal.");
        });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(TenantPolicy, policy => policy.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser().AddRequirements(new PortalTenantRequirement()))
            .AddPolicy(OperatorPolicy, policy => policy.AddAuthenticationSchemes(Scheme).RequireClaim(Claims.Operator))
            .AddPolicy(AnyonePolicy, policy => policy.AddAuthenticationSchemes(Scheme).RequireAssertion(_ => true));
        builder.Services.AddSingleton<IAuthorizationHandler, PortalTenantHandler>();
        return builder;
    }

    /// <summary>
    /// The portal's middleware, right after routing (so it also covers refusals by authentication and authorization):
    /// plain HTTP only on loopback, and the security headers on every portal response.
    /// </summary>
    public static IApplicationBuilder UseScimPortal(this IApplicationBuilder app)
    {
        // The session cookie must not travel in clear (behind a TLS-terminating proxy, enable forwarded headers so the
        // request is seen as HTTPS).
        app.UseWhen(
            context => Surfaces.Of(context) == Surface.Portal && !context.Request.IsHttps && !IsLoopback(context),
            branch => branch.Run(context => SurfaceErrors.Write(context, StatusCodes.Status403Forbidden, "The portal is served over HTTPS only.").ExecuteAsync(context)));
        app.UseWhen(context => Surfaces.Of(context) == Surface.Portal, branch => branch.Use((context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                ApplySecurityHeaders(context.Response);
                return Task.CompletedTask;
            });
            return next(context);
        }));
        return app;
    }

    public static WebApplication MapScimPortal(this WebApplication app)
    {
        app.MapRazorPages().WithMetadata(new SurfaceMetadata(Surface.Portal));
        var portal = app.MapGroup("/portal").WithMetadata(new SurfaceMetadata(Surface.Portal));
        // Every method and every path under /setup/ is routed here (a made-up or mangled link too): only a route with a
        // {secret} parameter keeps the link's secret out of logs and traces (RequestRoutes.LoggablePath).
        portal.Map("/setup/{tenantId}/{secret}", OpenSetupLinkAsync);
        portal.Map("/setup/{**secret}", (HttpContext context) => InvalidSetupLink(context));
        portal.MapGet("", () => Results.Redirect("/portal/signin"));
        PortalAssets.Map(portal);
        return app;
    }

    /// <summary>
    /// A setup link. Opened (GET), a valid one shows whose portal it opens and asks to continue; continuing (a POST of that
    /// page's form, with its antiforgery token) starts a session for the link's tenant and leaves the secret out of the
    /// address bar. A GET starts no session: another site could otherwise sign a visitor in to the portal of a tenant of its
    /// choosing (login CSRF), whose Tenant URL and token the visitor might then paste into their own Entra, sending their
    /// directory to that tenant. A browser already in this tenant's portal is sent there at once.
    /// Its tenant is checked first, as a bearer token's is (<see cref="TenantTokenValidator.ValidateTenantAsync"/>): a
    /// made-up tenant id spends the client address's budget of failed authentications (429 once spent, before any grain
    /// call), a tenant known to this gateway costs nothing, and a link not even of a secret's form is refused without a lookup.
    /// </summary>
    private static async Task<IResult> OpenSetupLinkAsync(
        string tenantId, string secret, HttpContext context, IGrainFactory grains, TenantTokenValidator tenants, ScimInstruments instruments, IAntiforgery antiforgery)
    {
        var post = HttpMethods.IsPost(context.Request.Method);
        if (!post && !HttpMethods.IsGet(context.Request.Method))
        {
            return SurfaceErrors.Write(context, StatusCodes.Status405MethodNotAllowed, "A setup link is opened in a browser.", headers: r => r.Headers.Allow = "GET, POST");
        }

        if (!SetupLinkSecrets.IsWellFormed(secret))
        {
            return InvalidSetupLink(context);
        }

        if (post && !await IsFormValidAsync(antiforgery, context))
        {
            return SurfaceErrors.Write(context, StatusCodes.Status400BadRequest, "This page has expired. Open your setup link again.");
        }

        var tenant = await tenants.ValidateTenantAsync(tenantId, context.Connection.RemoteIpAddress);
        if (tenant.RetryAfter is { } wait)
        {
            instruments.LimitRejected(ScimInstruments.LimitReasons.FailedAuthentication, tenantId);
            return SurfaceErrors.Write(context, StatusCodes.Status429TooManyRequests, "Too many setup links of unknown organisations were opened from this address. Wait a moment and try again.",
                headers: r => r.Headers.RetryAfter = ScimRateLimiting.RetryAfterSeconds(wait));
        }

        if (!tenant.IsValid
            || await grains.Grain<IPortalAccessGrain>(GrainKeys.PortalAccess(tenantId)).RedeemAsync(secret) is not { } linkId
            || await grains.Grain<ITenantGrain>(GrainKeys.Tenant(tenantId)).GetInfoAsync() is not { } info)
        {
            return InvalidSetupLink(context);
        }

        if (post)
        {
            var identity = new ClaimsIdentity([new(Claims.Tenant, tenantId), new(Claims.Link, linkId)], Scheme);
            await context.SignInAsync(Scheme, new ClaimsPrincipal(identity), new AuthenticationProperties { IsPersistent = false });
            return Results.Redirect($"/portal/t/{tenantId}");
        }

        var session = (await context.AuthenticateAsync(Scheme)).Principal;
        if (session?.FindFirst(Claims.Tenant)?.Value == tenantId)
        {
            return Results.Redirect($"/portal/t/{tenantId}");
        }

        return new SetupLinkPage(info.Name, await SignedInToAsync(session, grains), antiforgery.GetAndStoreTokens(context));
    }

    // Where a browser's portal session is, in words, or null when it has none.
    private static async Task<string?> SignedInToAsync(ClaimsPrincipal? session, IGrainFactory grains)
    {
        if (session?.FindFirst(Claims.Operator) is not null)
        {
            return "the operator console";
        }

        return session?.FindFirst(Claims.Tenant)?.Value is { } tenantId && GrainKeys.IsValidId(tenantId)
            && await grains.Grain<ITenantGrain>(GrainKeys.Tenant(tenantId)).GetInfoAsync() is { } info
                ? $"the portal of {info.Name}"
                : null;
    }

    // The page's antiforgery token and cookie. ValidateRequestAsync rather than IsRequestValidAsync, which logs a warning per
    // refused post (anyone can send them, and with logging scopes on, the line would carry the link's path and secret).
    private static async Task<bool> IsFormValidAsync(IAntiforgery antiforgery, HttpContext context)
    {
        try
        {
            await antiforgery.ValidateRequestAsync(context);
            return true;
        }
        catch (AntiforgeryValidationException)
        {
            return false;
        }
    }

    /// <summary>What a valid setup link shows before it starts a session: whose portal, and the form that opens it.</summary>
    private sealed class SetupLinkPage(string tenantName, string? signedInTo, AntiforgeryTokenSet tokens) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.ContentType = "text/html; charset=utf-8";
            var name = WebUtility.HtmlEncode(tenantName);
            var warning = signedInTo is null
                ? ""
                : $"""<p class="banner warn" role="alert">This browser is signed in to {WebUtility.HtmlEncode(signedInTo)}. Continuing signs it out of that.</p>""";
            return response.WriteAsync($"""
                <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
                <title>Set up provisioning for {name} · SCIM provisioning</title><link rel="stylesheet" href="{WebUtility.HtmlEncode(PortalAssets.Href("portal.css"))}"></head>
                <body><header><span class="brand">SCIM provisioning</span></header><main id="content">
                <h1>Set up provisioning for {name}</h1>
                <p>This link opens the setup portal of <strong>{name}</strong>: the Tenant URL and credentials to enter in Microsoft Entra ID.
                Continue only if {name} is your organisation and your service provider sent you this link.</p>
                {warning}
                <form method="post"><input name="{WebUtility.HtmlEncode(tokens.FormFieldName)}" type="hidden" value="{WebUtility.HtmlEncode(tokens.RequestToken)}">
                <p><button type="submit">Open the portal of {name}</button></p></form>
                </main></body></html>
                """);
        }
    }

    private static IResult InvalidSetupLink(HttpContext context) =>
        SurfaceErrors.Write(context, StatusCodes.Status404NotFound, "This setup link is not valid: it expired or was revoked. Ask your service provider for a new one.");

    private static async Task Refuse(RedirectContext<CookieAuthenticationOptions> context, int status, string detail)
    {
        // Operators are sent to the sign-in form; a customer's admin can only come back through a setup link.
        if (status == StatusCodes.Status401Unauthorized && IsOperatorPage(context.HttpContext))
        {
            context.Response.Redirect(context.RedirectUri);
            return;
        }

        await SurfaceErrors.Write(context.HttpContext, status, detail).ExecuteAsync(context.HttpContext);
    }

    private static bool IsOperatorPage(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy == OperatorPolicy) == true;

    /// <summary>
    /// Every portal response: nothing inline or third-party may run (the stylesheet and script come from
    /// <see cref="PortalAssets"/>), no framing, no referrer (a setup link's secret never leaks), and pages are not cached
    /// (they show tokens and personal data).
    /// </summary>
    private static void ApplySecurityHeaders(HttpResponse response)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        if (string.IsNullOrEmpty(headers.CacheControl))
        {
            headers.CacheControl = "no-store";
        }
    }

    // A browser on this machine (a developer's). A request that says a proxy forwarded it is not one, even from loopback: a
    // reverse proxy on the same host that ends TLS, with the gateway not told to trust its headers, would otherwise get the
    // portal over plain HTTP and a session cookie without Secure. Best effort: a proxy that adds none of these headers
    // (nginx's bare proxy_pass) still looks like a local browser. (With ASPNETCORE_FORWARDEDHEADERS_ENABLED a request the
    // proxy marked HTTPS is HTTPS before this runs, so the check does not apply to it.)
    private static readonly string[] ProxyHeaders = ["X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Forwarded", "Via"];

    private static bool IsLoopback(HttpContext context) =>
        (context.Connection.RemoteIpAddress is null || IPAddress.IsLoopback(context.Connection.RemoteIpAddress))
        && !ProxyHeaders.Any(context.Request.Headers.ContainsKey);
}

/// <summary>
/// Keeps portal sessions honest: a customer's session ends within seconds of its setup link's revocation or expiry (or the
/// tenant's deletion); an operator's when the operator key changes. Lookups are cached a few seconds per link.
/// </summary>
public sealed class PortalSessions(IGrainFactory grains, IOptions<AdminOptions> admin, TimeProvider time)
{
    private static readonly TimeSpan Fresh = TimeSpan.FromSeconds(3);
    private readonly ConcurrentDictionary<string, (bool Active, long At)> _links = new(StringComparer.Ordinal);
    private readonly string _operatorFingerprint = Fingerprint(admin.Value.ApiKey);

    /// <summary>What an operator session carries instead of the key: a fingerprint that changes when the key does.</summary>
    public string OperatorFingerprint => _operatorFingerprint;

    /// <summary>True when <paramref name="presented"/> is the operator key (constant time).</summary>
    public bool IsOperatorKey(string presented) => new Cluster.ServiceDefaults.Operations.OperatorKey(admin.Value.ApiKey).Matches(presented);

    public async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var principal = context.Principal;
        if (principal?.FindFirst(PortalHosting.Claims.Operator)?.Value is { } fingerprint)
        {
            if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(fingerprint), Encoding.ASCII.GetBytes(_operatorFingerprint)))
            {
                context.RejectPrincipal();
            }

            return;
        }

        var tenantId = principal?.FindFirst(PortalHosting.Claims.Tenant)?.Value;
        var linkId = principal?.FindFirst(PortalHosting.Claims.Link)?.Value;
        if (tenantId is null || linkId is null || !await IsActiveAsync(tenantId, linkId))
        {
            context.RejectPrincipal();
        }
    }

    private async Task<bool> IsActiveAsync(string tenantId, string linkId)
    {
        var key = tenantId + "/" + linkId;
        if (_links.TryGetValue(key, out var cached) && time.GetElapsedTime(cached.At) < Fresh)
        {
            return cached.Active;
        }

        var active = GrainKeys.IsValidId(tenantId)
            && await grains.Grain<IPortalAccessGrain>(GrainKeys.PortalAccess(tenantId)).IsActiveAsync(linkId)
            && await grains.Grain<ITenantGrain>(GrainKeys.Tenant(tenantId)).GetCredentialsAsync() is { Exists: true };
        if (_links.Count > 10_000)
        {
            _links.Clear();
        }

        _links[key] = (active, time.GetTimestamp());
        return active;
    }

    private static string Fingerprint(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("portal-operator|" + key))[..16]);
}

/// <summary>A portal page of the tenant its route names: that tenant's own session, or an operator.</summary>
public sealed class PortalTenantRequirement : IAuthorizationRequirement;

public sealed class PortalTenantHandler : AuthorizationHandler<PortalTenantRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, PortalTenantRequirement requirement)
    {
        var http = context.Resource as HttpContext;
        var routed = http?.GetRouteValue(Surfaces.TenantRouteValue) as string;
        if (context.User.HasClaim(c => c.Type == PortalHosting.Claims.Operator)
            || (routed is not null && context.User.FindFirst(PortalHosting.Claims.Tenant)?.Value == routed))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
