using Azure.Data.Tables;

namespace Cluster.Benchmarks;

/// <summary>
/// Bytes of a tenant's grain-state rows as Azure Table Storage sizes an entity (the documented formula: 4 bytes +
/// 2 per PartitionKey and RowKey character + per property 8 bytes + 2 per name character + its value: 4 + 2 per
/// character for a string, 4 + length for binary, 8 for Int64/Double/DateTime, 4 for Int32, 1 for Boolean, 16 for a
/// Guid). Unlike the growth of Azurite's database file this does not depend on the emulator's format, and it works
/// when Azurite keeps its data in memory.
/// </summary>
public static class StorageSize
{
    /// <summary>Grain types (Orleans' short names) whose keys start with a tenant id; PartitionKey = {serviceId}_{type}_{key}, '/' stored as '_'.</summary>
    private static readonly string[] TenantGrainTypes = ["tenant", "user", "indexentry", "directory", "group", "groupmembers"];

    /// <summary>Total bytes and rows of every grain-state row of <paramref name="tenantId"/>.</summary>
    public static async Task<(long Bytes, int Rows)> OfTenantAsync(TableClient table, string serviceId, string tenantId)
    {
        long bytes = 0;
        var rows = 0;
        foreach (var type in TenantGrainTypes)
        {
            // The tenant's own row ({prefix}) and its resources' rows ({prefix}_...); '`' sorts right after '_'.
            var prefix = $"{serviceId}_{type}_{tenantId}";
            var filter = TableClient.CreateQueryFilter($"PartitionKey ge {prefix} and PartitionKey lt {prefix + "`"}");
            await foreach (var entity in table.QueryAsync<TableEntity>(filter))
            {
                bytes += EntityBytes(entity);
                rows++;
            }
        }

        return (bytes, rows);
    }

    private static long EntityBytes(TableEntity entity)
    {
        long size = 4 + (2L * (entity.PartitionKey.Length + entity.RowKey.Length));
        foreach (var (name, value) in entity)
        {
            if (name is "PartitionKey" or "RowKey" or "odata.etag")
            {
                continue;
            }

            size += 8 + (2L * name.Length) + value switch
            {
                string s => 4 + (2L * s.Length),
                byte[] b => 4 + b.Length,
                BinaryData d => 4 + d.ToMemory().Length,
                bool => 1,
                int => 4,
                Guid => 16,
                _ => 8, // long, double, DateTimeOffset (Timestamp)
            };
        }

        return size;
    }
}
