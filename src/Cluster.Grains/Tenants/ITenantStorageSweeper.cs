namespace Cluster.Grains.Tenants;

/// <summary>
/// Erases a tenant's rows from grain storage by what storage holds, not by what the tenant's live resources still reference:
/// stale index entries after crashes, chunks of large changes, discarded event pages… One implementation per storage
/// provider, chosen from <c>Storage:Provider</c> like the storage itself: <see cref="AzureTableTenantSweeper"/> (a range query
/// per grain type over the tenant's key prefix) and <see cref="MemoryTenantSweeper"/> (tests: what the tenant's directories
/// and log reach). Reminders are not its business (<see cref="TenantOffboarding"/> removes them through the reminder table).
/// </summary>
public interface ITenantStorageSweeper
{
    /// <summary>
    /// Deletes up to <paramref name="maxRows"/> rows of the tenant's data grains (<see cref="TenantData.Grains"/>); returns how
    /// many it deleted: 0 when none is left.
    /// </summary>
    Task<int> SweepAsync(string tenantId, int maxRows, CancellationToken cancellationToken);

    /// <summary>Deletes the rows of the tenant grain itself: the very last step of its offboarding.</summary>
    Task EraseTenantRowsAsync(string tenantId, CancellationToken cancellationToken);
}
