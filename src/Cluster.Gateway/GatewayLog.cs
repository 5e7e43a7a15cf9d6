namespace Cluster.Gateway;

/// <summary>Gateway log messages. Ids only: never tokens, userNames or emails.</summary>
internal static partial class GatewayLog
{
    [LoggerMessage(2001, LogLevel.Information, "SCIM {Method} refused: {Reason}.")]
    private static partial void UnauthorizedCore(ILogger logger, string method, string reason);

    public static void Unauthorized(ILogger logger, string method, bool missing) =>
        UnauthorizedCore(logger, method, missing ? "no bearer token" : "invalid token for this tenant");

    [LoggerMessage(2002, LogLevel.Warning, "Cluster unavailable while serving {Method} {Path}.")]
    public static partial void ClusterUnavailable(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(2003, LogLevel.Error, "Unhandled error while serving {Method} {Path}.")]
    public static partial void Unhandled(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(2004, LogLevel.Information, "Tenant {TenantId} created.")]
    public static partial void TenantCreated(ILogger logger, string tenantId);

    [LoggerMessage(2005, LogLevel.Information, "Tenant {TenantId}: token {TokenId} issued.")]
    public static partial void TokenIssued(ILogger logger, string tenantId, string tokenId);

    [LoggerMessage(2006, LogLevel.Information, "Tenant {TenantId}: token {TokenId} revoked.")]
    public static partial void TokenRevoked(ILogger logger, string tenantId, string tokenId);

    [LoggerMessage(2007, LogLevel.Warning, "Admin API call refused: bad operator key.")]
    public static partial void AdminUnauthorized(ILogger logger);

    [LoggerMessage(2201, LogLevel.Information, "Tenant {TenantId} updated (suspended: {Suspended}).")]
    public static partial void TenantUpdated(ILogger logger, string tenantId, bool suspended);

    [LoggerMessage(2202, LogLevel.Information, "Tenant {TenantId}: deletion accepted; its credentials are refused from now on.")]
    public static partial void TenantDeleteAccepted(ILogger logger, string tenantId);
}
