using System.Threading.RateLimiting;
using Cluster.Gateway.Limits;
using Cluster.Gateway.RequestLog;

namespace Cluster.Gateway;

/// <summary>Gateway log messages. Ids only: never tokens, userNames or emails.</summary>
internal static partial class GatewayLog
{
    /// <summary>
    /// The category of the gateway's own authentication messages (2001, 2007). The handlers' own categories carry ASP.NET
    /// Core's per-request lines ("was not authenticated", "was challenged", "was forbidden"), which the shipped
    /// appsettings.json keep at Warning like the rest of ASP.NET Core's.
    /// </summary>
    public const string AuthenticationCategory = "Cluster.Gateway.Authentication";

    [LoggerMessage(2001, LogLevel.Information, "SCIM {Method} refused: {Reason}. Refusals not logged before this one: {Unlogged}.")]
    private static partial void UnauthorizedCore(ILogger logger, string method, string reason, long unlogged);

    // The client's method is logged as HTTP's own or OTHER (RequestLogCapture.MethodOf): a refused request needs no
    // credential, and a made-up method of up to 16 KiB would otherwise reach the operators' logs as sent. Anyone can
    // provoke it, so it is written within the gateway's RefusalLogBudget.
    public static void Unauthorized(ILogger logger, RefusalLogBudget budget, string method, bool missing)
    {
        if (logger.IsEnabled(LogLevel.Information) && budget.TryTake(out var unlogged))
        {
            UnauthorizedCore(logger, RequestLogCapture.MethodOf(method), missing ? "no bearer token" : "invalid token for this tenant", unlogged);
        }
    }

    [LoggerMessage(2013, LogLevel.Information, "Token request refused: {Reason}. Refusals not logged before this one: {Unlogged}.")]
    private static partial void ClientRefusedCore(ILogger logger, string reason, long unlogged);

    // Anyone who knows a tenant's id can make up a client id of it: written within the gateway's RefusalLogBudget, unless the
    // client authenticated (budget null: a suspended tenant's client, which its own token limit already bounds).
    public static void ClientRefused(ILogger logger, RefusalLogBudget? budget, string reason)
    {
        var unlogged = 0L;
        if (logger.IsEnabled(LogLevel.Information) && (budget is null || budget.TryTake(out unlogged)))
        {
            ClientRefusedCore(logger, reason, unlogged);
        }
    }

    public static void ClusterUnavailable(ILogger logger, Exception exception, string method, string path) =>
        ClusterUnavailableCore(logger, exception, RequestLogCapture.MethodOf(method), path);

    public static void Unhandled(ILogger logger, Exception exception, string method, string path) =>
        UnhandledCore(logger, exception, RequestLogCapture.MethodOf(method), path);

    [LoggerMessage(2002, LogLevel.Warning, "Cluster unavailable while serving {Method} {Path}.")]
    private static partial void ClusterUnavailableCore(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(2003, LogLevel.Error, "Unhandled error while serving {Method} {Path}.")]
    private static partial void UnhandledCore(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(2004, LogLevel.Information, "Tenant {TenantId} created.")]
    public static partial void TenantCreated(ILogger logger, string tenantId);

    [LoggerMessage(2005, LogLevel.Information, "Tenant {TenantId}: token {TokenId} issued.")]
    public static partial void TokenIssued(ILogger logger, string tenantId, string tokenId);

    [LoggerMessage(2006, LogLevel.Information, "Tenant {TenantId}: token {TokenId} revoked.")]
    public static partial void TokenRevoked(ILogger logger, string tenantId, string tokenId);

    [LoggerMessage(2007, LogLevel.Warning, "Admin API call refused: bad operator key. Refusals not logged before this one: {Unlogged}.")]
    private static partial void AdminUnauthorizedCore(ILogger logger, long unlogged);

    // Anyone who reaches /admin can provoke it: written within the gateway's RefusalLogBudget.
    public static void AdminUnauthorized(ILogger logger, RefusalLogBudget budget)
    {
        if (logger.IsEnabled(LogLevel.Warning) && budget.TryTake(out var unlogged))
        {
            AdminUnauthorizedCore(logger, unlogged);
        }
    }

    [LoggerMessage(2008, LogLevel.Information, "Tenant {TenantId}: OAuth client {ClientId} created, secret {SecretId}.")]
    public static partial void OAuthClientCreated(ILogger logger, string tenantId, string clientId, string secretId);

    [LoggerMessage(2009, LogLevel.Information, "Tenant {TenantId}: OAuth client {ClientId} secret {SecretId} added.")]
    public static partial void ClientSecretAdded(ILogger logger, string tenantId, string clientId, string secretId);

    [LoggerMessage(2010, LogLevel.Information, "Tenant {TenantId}: OAuth client {ClientId} secret {SecretId} revoked.")]
    public static partial void ClientSecretRevoked(ILogger logger, string tenantId, string clientId, string secretId);

    [LoggerMessage(2011, LogLevel.Information, "Tenant {TenantId}: OAuth client {ClientId} revoked.")]
    public static partial void OAuthClientRevoked(ILogger logger, string tenantId, string clientId);

    [LoggerMessage(2012, LogLevel.Information, "Tenant {TenantId}: access token issued to client {ClientId}.")]
    public static partial void AccessTokenIssued(ILogger logger, string tenantId, string clientId);


    [LoggerMessage(2014, LogLevel.Warning, "Access-token signing keys could not be read from the cluster; the keys held are kept.")]
    public static partial void SigningKeysUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(2201, LogLevel.Information, "Tenant {TenantId} updated (suspended: {Suspended}).")]
    public static partial void TenantUpdated(ILogger logger, string tenantId, bool suspended);

    [LoggerMessage(2202, LogLevel.Information, "Tenant {TenantId}: deletion accepted; its credentials are refused from now on.")]
    public static partial void TenantDeleteAccepted(ILogger logger, string tenantId);

    [LoggerMessage(2015, LogLevel.Information, "Tenant {TenantId}: portal setup link {LinkId} created.")]
    public static partial void SetupLinkCreated(ILogger logger, string tenantId, string linkId);

    [LoggerMessage(2016, LogLevel.Information, "Tenant {TenantId}: {Count} portal setup links revoked.")]
    public static partial void SetupLinksRevoked(ILogger logger, string tenantId, int count);

    [LoggerMessage(2017, LogLevel.Warning, "Tenant {TenantId}: repairing the index or directory entries of {ResourceType} {ResourceId} failed; the lookup was answered, and the next one that meets them repairs them.")]
    public static partial void RepairFailed(ILogger logger, Exception exception, string tenantId, string resourceType, string resourceId);

    [LoggerMessage(2018, LogLevel.Warning, "The operator console's list of tenants could not be read; the page was shown without it.")]
    public static partial void TenantListUnavailable(ILogger logger, Exception exception);
}

/// <summary>
/// How many refusals of unauthenticated requests (2001, 2007, 2013) a gateway writes to its log: a burst of
/// <see cref="Burst"/>, then one a second (a token bucket, <see cref="ScimRateLimiting.TokenBucket"/>, as the gateway's
/// limits are); a line written after some were left out says how many. A client without any credential could otherwise
/// write a log line per request, at any rate the gateway serves (the failed-lookup limit only meets tenants the gateway
/// does not know). The metric <c>scim.auth.failures</c> still counts every SCIM refusal.
/// </summary>
public sealed class RefusalLogBudget : IDisposable
{
    /// <summary>Lines written at once before the budget is spent.</summary>
    public const int Burst = 10;

    private readonly TokenBucketRateLimiter _lines = new(ScimRateLimiting.TokenBucket(permitsPerSecond: 1, Burst));
    private long _unlogged;

    /// <summary>True when a line may be written; <paramref name="unlogged"/>: the refusals left out since the last line.</summary>
    public bool TryTake(out long unlogged)
    {
        using var line = _lines.AttemptAcquire();
        if (!line.IsAcquired)
        {
            Interlocked.Increment(ref _unlogged);
            unlogged = 0;
            return false;
        }

        unlogged = Interlocked.Exchange(ref _unlogged, 0);
        return true;
    }

    public void Dispose() => _lines.Dispose();
}
