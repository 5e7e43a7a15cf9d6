using Azure;
using Azure.Data.Tables;
using Cluster.TestInfrastructure;

namespace Cluster.Persistence.Tests;

/// <summary>
/// Fails a storage test at once, with a message that says what to do, when the Azure Storage emulator is not there.
/// These tests must never pass silently without storage.
/// </summary>
internal static class AzuriteProbe
{
    public static async Task EnsureReachableAsync(string connectionString)
    {
        var options = new TableClientOptions();
        // No retry: a closed port fails at once (connection refused). A slow answer is not a missing Azurite: other test
        // classes' clusters keep the one emulator busy, and 5 s was not always enough on a loaded 2-core machine.
        options.Retry.MaxRetries = 0;
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(60);
        try
        {
            await new TableServiceClient(connectionString, options).GetPropertiesAsync();
        }
        catch (Exception e) when (e is RequestFailedException or HttpRequestException or OperationCanceledException or TaskCanceledException)
        {
            throw new InvalidOperationException(
                $"Azure Storage (Azurite) is not reachable ({Describe(connectionString)}): {e.Message.Split('\n')[0].Trim()}. " +
                $"These tests need a real Azurite: run tests/run.sh (it starts Azurite and exports {AzuriteStorage.EnvironmentVariable}), " +
                $"or start Azurite yourself (npx azurite --skipApiVersionCheck --loose) and set {AzuriteStorage.EnvironmentVariable} to its connection string.",
                e);
        }
    }

    // The table endpoint only: never echo an account key.
    private static string Describe(string connectionString) =>
        connectionString.Split(';').FirstOrDefault(p => p.StartsWith("TableEndpoint=", StringComparison.OrdinalIgnoreCase))
        ?? (connectionString.Contains("UseDevelopmentStorage=true", StringComparison.OrdinalIgnoreCase) ? "UseDevelopmentStorage=true, table endpoint 127.0.0.1:10002" : "table endpoint from the connection string");
}
