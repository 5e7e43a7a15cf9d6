using System.Net;
using Cluster.Gateway.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Diagnostics;

namespace Cluster.Gateway.Http;

/// <summary>The gateway's surfaces: who calls them, how they authenticate, and how their errors look.</summary>
public enum Surface
{
    /// <summary>Health, metrics and everything else outside the product's surfaces (errors: problem+json).</summary>
    None = 0,

    /// <summary><c>/scim/v2/tenants/{tenantId}</c>: Entra; a tenant's token or access token; RFC 7644 §3.12 errors.</summary>
    Scim = 1,

    /// <summary><c>/admin</c>: operators; the operator key; problem+json errors.</summary>
    Admin = 2,

    /// <summary><c>/oauth2</c> and <c>/.well-known</c> (the key set): OAuth clients; client credentials; RFC 6749 §5.2 errors.</summary>
    OAuth = 3,

    /// <summary><c>/portal</c>: customers' admins and operators in a browser; a session cookie; HTML error pages.</summary>
    Portal = 4,
}

/// <summary>Endpoint metadata naming the surface an endpoint belongs to (set once per route group).</summary>
public sealed record SurfaceMetadata(Surface Surface);

/// <summary>
/// Which surface a request belongs to — from its endpoint's <see cref="SurfaceMetadata"/>, the one place that decides it.
/// A request no route matched (an unknown path, or a known one with another method) is given the unrouted endpoint of
/// the surface its path prefix names (<see cref="UseSurfaceFallbacks"/>), so it is authenticated, limited and answered
/// like the rest of that surface: an unknown SCIM path without a valid token is the same 401 as a known one.
/// </summary>
public static class Surfaces
{
    /// <summary>Route prefix of the SCIM endpoints, up to the tenant id.</summary>
    public const string TenantsPrefix = "/scim/v2/tenants";

    /// <summary>The route value that carries the tenant id.</summary>
    public const string TenantRouteValue = "tenantId";

    /// <summary>The surface of a request (also while the exception handler answers it).</summary>
    public static Surface Of(HttpContext context) =>
        (context.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? context.GetEndpoint())?.Metadata.GetMetadata<SurfaceMetadata>()?.Surface ?? Surface.None;

    /// <summary>
    /// The tenant a SCIM request names: its <c>tenantId</c> route value, or for a request no route matched, the path segment
    /// after <see cref="TenantsPrefix"/>. Empty when none.
    /// </summary>
    public static string TenantOf(HttpContext context)
    {
        if (context.GetRouteValue(TenantRouteValue) is string routed)
        {
            return routed;
        }

        return context.Request.Path.StartsWithSegments(TenantsPrefix, StringComparison.OrdinalIgnoreCase, out var rest) && rest.Value is { Length: > 1 } value
            ? value[1..].Split('/', 2)[0]
            : "";
    }

    /// <summary>
    /// After routing: a request no route matched gets its surface's unrouted endpoint (404, or 405 for a known path with
    /// another method), with that surface's metadata and authorization, so everything after sees one surface per request.
    /// </summary>
    public static IApplicationBuilder UseSurfaceFallbacks(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var endpoint = context.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<SurfaceMetadata>() is null && OfUnroutedPath(context.Request.Path) is var surface && surface != Surface.None)
        {
            // Every endpoint of a surface carries its metadata, so an endpoint without it is the router's own 405, which
            // still runs first: it sets the Allow header a 405 must carry (RFC 9110 §15.5.6).
            context.SetEndpoint(endpoint is null ? Unrouted[surface] : MethodNotAllowed.GetOrAdd((surface, endpoint), static k => UnroutedEndpoint(k.Surface, k.Router.RequestDelegate ?? (_ => Task.CompletedTask))));
        }

        await next(context);
    });

    // The only path test in the gateway, for requests no route matched.
    private static Surface OfUnroutedPath(PathString path) =>
        path.StartsWithSegments(TenantsPrefix, StringComparison.OrdinalIgnoreCase) ? Surface.Scim
        : path.StartsWithSegments("/admin", StringComparison.OrdinalIgnoreCase) ? Surface.Admin
        : path.StartsWithSegments("/oauth2", StringComparison.OrdinalIgnoreCase) || path.StartsWithSegments("/.well-known", StringComparison.OrdinalIgnoreCase) ? Surface.OAuth
        : path.StartsWithSegments("/portal", StringComparison.OrdinalIgnoreCase) ? Surface.Portal
        : Surface.None;

    // One 405 endpoint per surface and router's 405 endpoint (one per set of allowed methods, made when routes are built):
    // a new endpoint per request would grow the authorization middleware's policy cache, which is keyed by endpoint.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(Surface Surface, Endpoint Router), Endpoint> MethodNotAllowed = new();

    private static readonly Dictionary<Surface, Endpoint> Unrouted = new[] { Surface.Scim, Surface.Admin, Surface.OAuth, Surface.Portal }
        .ToDictionary(s => s, s => UnroutedEndpoint(s, methodNotAllowed: null));

    // The surface's 404, or its 405 after the router's own (methodNotAllowed), in the surface's error format.
    private static Endpoint UnroutedEndpoint(Surface surface, RequestDelegate? methodNotAllowed)
    {
        var status = methodNotAllowed is not null ? StatusCodes.Status405MethodNotAllowed : StatusCodes.Status404NotFound;
        var detail = methodNotAllowed is not null ? "Method not allowed." : "No such endpoint.";
        List<object> metadata = [new SurfaceMetadata(surface)];
        if (GatewayAuthentication.PolicyOf(surface) is { } policy)
        {
            metadata.Add(new AuthorizeAttribute(policy));
        }

        return new Endpoint(
            async context =>
            {
                if (methodNotAllowed is not null)
                {
                    await methodNotAllowed(context);
                }

                await SurfaceErrors.Write(context, status, detail).ExecuteAsync(context);
            },
            new EndpointMetadataCollection(metadata),
            $"{surface} {status}");
    }
}

/// <summary>The one error writer: each surface answers in its own format (habit 16: one mapper per surface).</summary>
public static class SurfaceErrors
{
    /// <summary>An error of the request's surface: SCIM error, problem+json, OAuth error or an HTML page.</summary>
    public static IResult Write(HttpContext context, int status, string? detail, string? scimType = null, Action<HttpResponse>? headers = null) =>
        Surfaces.Of(context) switch
        {
            Surface.Scim => ScimHttp.Error(status, scimType, detail, headers),
            Surface.OAuth => new OAuthError(status, OAuthErrorCode(status), detail, headers),
            Surface.Portal => new HtmlErrorPage(status, detail, headers),
            _ => new ProblemWithHeaders(status, detail, headers),
        };

    /// <summary>Keeps the answer out of every cache on its way (it carries a credential): RFC 6749 §5.1, RFC 9111 §5.2.2.5.</summary>
    public static void NotStored(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
    }

    // RFC 6749 §5.2 codes by status; a client over its limit, or a busy gateway, gets temporarily_unavailable, and our own
    // failure server_error (RFC 6749 §4.1.2.1), never a code that blames the client's request.
    internal static string OAuthErrorCode(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => "invalid_client",
        StatusCodes.Status429TooManyRequests or StatusCodes.Status503ServiceUnavailable => "temporarily_unavailable",
        >= StatusCodes.Status500InternalServerError => "server_error",
        _ => "invalid_request",
    };

    /// <summary>An RFC 6749 §5.2 error body: <c>{"error", "error_description"}</c>.</summary>
    public sealed class OAuthError(int status, string error, string? description, Action<HttpResponse>? headers = null) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => status;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = status;
            NotStored(response);
            headers?.Invoke(response);
            return response.WriteAsJsonAsync(new Dictionary<string, string?> { ["error"] = error, ["error_description"] = description });
        }
    }

    private sealed class ProblemWithHeaders(int status, string? detail, Action<HttpResponse>? headers) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => status;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            headers?.Invoke(httpContext.Response);
            return Results.Problem(detail: detail, statusCode: status).ExecuteAsync(httpContext);
        }
    }

    private sealed class HtmlErrorPage(int status, string? detail, Action<HttpResponse>? headers) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => status;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = status;
            response.ContentType = "text/html; charset=utf-8";
            headers?.Invoke(response);
            var title = WebUtility.HtmlEncode(Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status));
            return response.WriteAsync($"""
                <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
                <title>{title}</title></head><body><main><h1>{title}</h1><p>{WebUtility.HtmlEncode(detail ?? "")}</p></main></body></html>
                """);
        }
    }
}
