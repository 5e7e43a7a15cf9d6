using Cluster.Gateway.Resilience;
using Cluster.ServiceDefaults.Telemetry;
using Cluster.Scim.Errors;
using Microsoft.AspNetCore.Diagnostics;

namespace Cluster.Gateway.Http;

/// <summary>
/// The single error path for exceptions, in the format of the request's surface (<see cref="SurfaceErrors"/>).
/// Expected failures (bad input) arrive as <see cref="ScimException"/>; a cluster that cannot be reached is a 503
/// with <c>Retry-After</c> (Entra retries later; which failures count is <see cref="GrainCallRetry.IsTransient"/>); anything else is a 500 without internal details.
/// </summary>
public sealed class ScimExceptionHandler(ILogger<ScimExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, scimType, detail, retryAfter) = Classify(exception);
        if (status >= 500)
        {
            if (retryAfter)
            {
                GatewayLog.ClusterUnavailable(logger, exception, httpContext.Request.Method, RequestRoutes.LoggablePath(httpContext));
            }
            else
            {
                GatewayLog.Unhandled(logger, exception, httpContext.Request.Method, RequestRoutes.LoggablePath(httpContext));
            }
        }

        var headers = retryAfter ? (Action<HttpResponse>)(r => r.Headers.RetryAfter = "5") : null;
        await SurfaceErrors.Write(httpContext, status, detail, scimType, headers).ExecuteAsync(httpContext);
        return true;
    }

    private static (int Status, string? ScimType, string Detail, bool RetryAfter) Classify(Exception exception) => exception switch
    {
        ScimException scim => (scim.Status, scim.ScimType, scim.Message, false),
        BadHttpRequestException bad => (bad.StatusCode, bad.StatusCode == 413 ? null : ScimErrorType.InvalidSyntax, bad.StatusCode == 413 ? "The request body is too large." : "The request is malformed.", false),
        _ when GrainCallRetry.IsTransient(exception)
            => (503, null, "The service is temporarily unavailable. Retry later.", true),
        _ => (500, null, "An internal error occurred.", false),
    };
}
