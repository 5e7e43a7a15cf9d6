using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Cluster.ServiceDefaults.Telemetry;

/// <summary>
/// What logs and traces say of a request's path: its route's template, not the path, when the route holds a secret (a
/// portal setup link, <c>/portal/setup/{tenantId}/{secret}</c>) — also after an exception, when the exception handler has
/// cleared the request's endpoint (it keeps it in <see cref="IExceptionHandlerFeature"/>).
/// </summary>
public static class RequestRoutes
{
    /// <summary>The route parameter that is never written to a log or a trace.</summary>
    public const string SecretParameter = "secret";

    /// <summary>The endpoint's route pattern, also after an exception; null when no route matched.</summary>
    public static RoutePattern? PatternOf(HttpContext context) =>
        (context.GetEndpoint() ?? context.Features.Get<IExceptionHandlerFeature>()?.Endpoint) is RouteEndpoint endpoint ? endpoint.RoutePattern : null;

    /// <summary>The path to log or trace: the route's template when it holds a secret, else the path.</summary>
    public static string LoggablePath(HttpContext context) =>
        PatternOf(context) is { } pattern && pattern.GetParameter(SecretParameter) is not null
            ? pattern.RawText ?? ""
            : context.Request.Path.Value ?? "";
}
