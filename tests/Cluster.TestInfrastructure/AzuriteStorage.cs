using Azure;
using Azure.Data.Tables;

namespace Cluster.TestInfrastructure;

/// <summary>
/// The Azure Storage the storage tests use: Azurite, started by <c>tests/run.sh</c>, which exports
/// <c>SCIM_TEST_STORAGE_CONNECTION_STRING</c>. Without it, Azurite on its default ports.
/// </summary>
public static class AzuriteStorage
{
    public const string EnvironmentVariable = "SCIM_TEST_STORAGE_CONNECTION_STRING";

    /// <summary>The table Orleans' Azure Table reminder service keeps every service's reminders in.</summary>
    public const string ReminderTable = "OrleansReminders";

    public static string ConnectionString =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } value ? value : "UseDevelopmentStorage=true";

    /// <summary>
    /// The reminder rows of one Orleans service (<c>Cluster:ServiceId</c>): their PartitionKeys are <c>{serviceId}_{hash}</c>.
    /// None when no reminder was ever registered (then there is no table).
    /// </summary>
    public static async Task<List<TableEntity>> RemindersAsync(string serviceId)
    {
        var rows = new List<TableEntity>();
        try
        {
            var filter = TableClient.CreateQueryFilter($"PartitionKey ge {serviceId + "_"} and PartitionKey lt {serviceId + "`"}");
            await foreach (var row in Reminders().QueryAsync<TableEntity>(filter))
            {
                rows.Add(row);
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
        }

        return rows;
    }

    /// <summary>Deletes the reminder rows of one Orleans service (a test's own <c>ServiceId</c>), so no other silo on this Azurite loads them.</summary>
    public static async Task DeleteRemindersAsync(string serviceId)
    {
        foreach (var row in await RemindersAsync(serviceId))
        {
            await Reminders().DeleteEntityAsync(row);
        }
    }

    private static TableClient Reminders() => new TableServiceClient(ConnectionString).GetTableClient(ReminderTable);
}
