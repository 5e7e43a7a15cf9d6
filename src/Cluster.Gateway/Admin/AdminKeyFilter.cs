using System.Security.Cryptography;
using System.Text;
using Cluster.Gateway.Hosting;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Admin;

/// <summary>Admin API authentication: <c>Authorization: Bearer &lt;Admin:ApiKey&gt;</c>, compared in constant time.</summary>
public sealed class AdminKeyFilter(IOptions<AdminOptions> options, ILogger<AdminKeyFilter> logger) : IEndpointFilter
{
    private readonly byte[] _keyHash = SHA256.HashData(Encoding.UTF8.GetBytes(options.Value.ApiKey));

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var header = context.HttpContext.Request.Headers.Authorization.ToString();
        const string Scheme = "Bearer ";
        var presented = header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) ? header[Scheme.Length..].Trim() : "";
        if (presented.Length == 0 || !CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _keyHash))
        {
            GatewayLog.AdminUnauthorized(logger);
            context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
            return Results.Problem(statusCode: 401, title: "Unauthorized", detail: "A valid operator key is required (Authorization: Bearer <Admin:ApiKey>).");
        }

        return await next(context);
    }
}
