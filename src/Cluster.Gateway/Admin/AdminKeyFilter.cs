using Cluster.Gateway.Hosting;
using Cluster.ServiceDefaults.Operations;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Admin;

/// <summary>Admin API authentication: <c>Authorization: Bearer &lt;Admin:ApiKey&gt;</c>, compared in constant time (<see cref="OperatorKey"/>).</summary>
public sealed class AdminKeyFilter(IOptions<AdminOptions> options, ILogger<AdminKeyFilter> logger) : IEndpointFilter
{
    private readonly OperatorKey _key = new(options.Value.ApiKey);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (!_key.Authorizes(context.HttpContext.Request, allowBasic: false))
        {
            GatewayLog.AdminUnauthorized(logger);
            context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
            return Results.Problem(statusCode: 401, title: "Unauthorized", detail: "A valid operator key is required (Authorization: Bearer <Admin:ApiKey>).");
        }

        return await next(context);
    }
}
