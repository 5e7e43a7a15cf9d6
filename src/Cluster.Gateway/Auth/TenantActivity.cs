using Cluster.Abstractions;
using Cluster.ServiceDefaults.Telemetry;

namespace Cluster.Gateway.Auth;

/// <summary>
/// Tells a tenant's grain that the tenant made an authenticated SCIM request (its <c>lastRequestAt</c>, issue 13): at most
/// once per <see cref="Interval"/> per tenant from this gateway, as a one-way call off the request's path. The grain keeps the
/// time in memory and stores it lazily, so a busy tenant costs one message a minute per gateway and no write per request.
/// </summary>
public sealed partial class TenantActivity(IGrainFactory grains, TimeProvider time, ILogger<TenantActivity> logger)
{
    /// <summary>How often this gateway tells a tenant's grain at most.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    // Tenants told lately: only authenticated tenants get here, and those not told for an interval are forgotten.
    private readonly RecentKeys _told = new(time, Interval);

    /// <summary>Tenants this gateway remembers telling (for tests of its bound).</summary>
    public int Count => _told.Count;

    /// <summary>Notes an authenticated request of <paramref name="tenantId"/>; tells its grain when the last telling is a minute old.</summary>
    public void Note(string tenantId)
    {
        if (_told.TryTouch(tenantId, Interval))
        {
            _ = TellAsync(tenantId, time.GetUtcNow());
        }
    }

    private async Task TellAsync(string tenantId, DateTimeOffset at)
    {
        try
        {
            await grains.Grain<ITenantGrain>(GrainKeys.Tenant(tenantId)).NoteRequestAsync(at);
        }
        catch (Exception e)
        {
            // Only an approximate time is lost; the next request after the interval tells again.
            LogNotTold(logger, e, tenantId);
        }
    }

    [LoggerMessage(2203, LogLevel.Debug, "Telling tenant {TenantId} of its latest request failed.")]
    private static partial void LogNotTold(ILogger logger, Exception exception, string tenantId);
}
