using Cluster.Abstractions;

namespace Cluster.Gateway.RequestLog;

/// <summary>
/// A tenant's connection status (issue 14): what its provisioning log knows (last request, last Test Connection, last
/// success, last error, entries lost) with its users (active and disabled) and groups. The one place that puts it together,
/// for <c>GET /admin/tenants/{tenantId}/status</c> and the portal's Status page. Three grain calls, whatever the tenant's
/// size: the counts are the event log's (kept per commit), not a scan of the directory.
/// </summary>
public sealed class TenantStatusReader(IGrainFactory grains)
{
    /// <summary>The status, or null when the tenant does not exist (or is being deleted).</summary>
    public async Task<TenantConnectionStatus?> ReadAsync(string tenantId)
    {
        if (!GrainKeys.IsValidId(tenantId))
        {
            return null;
        }

        var summary = grains.Grain<ITenantGrain>(GrainKeys.Tenant(tenantId)).GetSummaryAsync();
        var log = grains.Grain<IRequestLogGrain>(GrainKeys.RequestLog(tenantId)).GetStatusAsync();
        var disabled = grains.Grain<IDisabledUserCount>(GrainKeys.EventLog(tenantId)).GetDisabledUsersAsync();
        await Task.WhenAll(summary, log, disabled);
        if (await summary is not { Deletion: null } tenant)
        {
            return null;
        }

        return new TenantConnectionStatus(tenant, await log, tenant.UserCount, Math.Clamp(await disabled, 0, tenant.UserCount), tenant.GroupCount);
    }
}

/// <summary>What <see cref="TenantStatusReader"/> reads.</summary>
/// <param name="Tenant">The tenant (name, suspension).</param>
/// <param name="Log">The provisioning log's status.</param>
/// <param name="Users">Users (active and disabled).</param>
/// <param name="DisabledUsers">Users whose <c>active</c> is false.</param>
/// <param name="Groups">Groups.</param>
public sealed record TenantConnectionStatus(TenantSummary Tenant, RequestLogStatus Log, long Users, long DisabledUsers, long Groups)
{
    /// <summary>True once any authenticated SCIM request came.</summary>
    public bool Connected => Log.LastRequestAt is not null;

    /// <summary>
    /// A request refused for its credential (401) came after the last accepted one: Entra may hold a token that was revoked
    /// since. Only a hint, not a loss of connection: whoever knows the Tenant URL can send a wrong token (such refusals are
    /// logged at most once a second), so it never makes the tenant "not connected".
    /// </summary>
    public bool RefusedSinceLastAccepted => Log.LastError is { Status: 401 } refused && refused.At > (Log.LastRequestAt ?? DateTimeOffset.MinValue);

    /// <summary>Users whose <c>active</c> is true.</summary>
    public long ActiveUsers => Users - DisabledUsers;
}
