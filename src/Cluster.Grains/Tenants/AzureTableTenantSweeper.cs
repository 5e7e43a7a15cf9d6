using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Cluster.Grains.Tenants;

/// <summary>
/// The storage sweep on Azure Table storage (and Azurite). Orleans' <c>AzureTableGrainStorage</c> keys a grain's rows by
/// PartitionKey = <c>{ServiceId}_{grainId}</c>, where a grain id is <c>{grainType}/{key}</c>, with <c>/ \ # ?</c> replaced
/// by <c>_</c> (<c>AzureTableUtils.SanitizeTableProperty</c>), and RowKey = the state's row name (<see cref="State.StorageRowNames"/>).
/// Every key of a tenant's data starts with <c>{tenantId}/</c>, so for each grain type of <see cref="TenantData.Grains"/> the
/// tenant's rows are exactly the PartitionKeys in [<c>{ServiceId}_{type}_{tenantId}_</c>, <c>…{tenantId}`</c>) (<c>`</c>
/// follows <c>_</c>): one range query each. Tenant ids never hold <c>_</c> (<see cref="GrainKeys.NewTenantId"/>: hex), so no
/// other tenant's rows fall in that range; <c>PersistenceOffboardingTests</c> checks the layout against Azurite.
/// </summary>
public sealed class AzureTableTenantSweeper(TableClient table, IOptions<ClusterOptions> cluster, IGrainFactory grains) : ITenantStorageSweeper
{
    // Deletes sent at once (each row is its own partition: no batch transactions).
    private const int ParallelDeletes = 16;

    private string[]? _types;

    public async Task<int> SweepAsync(string tenantId, int maxRows, CancellationToken cancellationToken)
    {
        var deleted = 0;
        foreach (var type in _types ??= [.. TenantData.Grains.Select(g => TenantData.GrainTypeOf(grains, g).ToString()!)])
        {
            var prefix = PartitionKeyOf(cluster.Value.ServiceId, type, tenantId + "/");
            var filter = TableClient.CreateQueryFilter($"PartitionKey ge {prefix} and PartitionKey lt {prefix[..^1] + (char)(prefix[^1] + 1)}");
            deleted += await DeleteAsync(filter, maxRows - deleted, cancellationToken);
            if (deleted >= maxRows)
            {
                break;
            }
        }

        return deleted;
    }

    public async Task EraseTenantRowsAsync(string tenantId, CancellationToken cancellationToken)
    {
        var partitionKey = PartitionKeyOf(cluster.Value.ServiceId, TenantData.GrainTypeOf(grains, typeof(ITenantGrain)).ToString()!, tenantId);
        await DeleteAsync(TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey}"), int.MaxValue, cancellationToken);
    }

    /// <summary>The PartitionKey under which Orleans stores the rows of grain <c>{grainType}/{key}</c> of service <paramref name="serviceId"/>.</summary>
    public static string PartitionKeyOf(string serviceId, string grainType, string key) =>
        $"{serviceId}_{grainType}/{key}".Replace('/', '_').Replace('\\', '_').Replace('#', '_').Replace('?', '_');

    private async Task<int> DeleteAsync(string filter, int max, CancellationToken cancellationToken)
    {
        var rows = new List<(string PartitionKey, string RowKey)>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, Math.Min(max, 1000), ["PartitionKey", "RowKey"], cancellationToken))
        {
            rows.Add((row.PartitionKey, row.RowKey));
            if (rows.Count >= max)
            {
                break;
            }
        }

        var deleted = 0;
        foreach (var batch in rows.Chunk(ParallelDeletes))
        {
            var results = await Task.WhenAll(batch.Select(r => DeleteRowAsync(r.PartitionKey, r.RowKey, cancellationToken)));
            deleted += results.Count(d => d);
        }

        return deleted;
    }

    private async Task<bool> DeleteRowAsync(string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        try
        {
            return (await table.DeleteEntityAsync(partitionKey, rowKey, ETag.All, cancellationToken)).Status != 404;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false; // gone already (a grain cleared it, or another sweep)
        }
    }
}
