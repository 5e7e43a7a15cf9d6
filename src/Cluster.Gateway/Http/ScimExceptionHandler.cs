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
        // scimType only on a 400 (RFC 7644 §3.12 defines them for 400 only): not on 413, nor on 408 (a body too slow).
        BadHttpRequestException bad => (bad.StatusCode, bad.StatusCode == 400 ? ScimErrorType.InvalidSyntax : null, bad.StatusCode switch
        {
            413 => "The request body is too large.",
            408 => "The request body did not arrive in time.",
            _ => "The request is malformed.",
        }, false),
        _ when GrainCallRetry.IsTransient(exception)
            => (503, null, "The service is temporarily unavailable. Retry later.", true),
        _ => (500, null, "An internal error occurred.", false),
    };
}
