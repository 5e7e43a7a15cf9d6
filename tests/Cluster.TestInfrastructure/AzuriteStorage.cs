namespace Cluster.TestInfrastructure;

/// <summary>
/// The Azure Storage the storage tests use: Azurite, started by <c>tests/run.sh</c>, which exports
/// <c>SCIM_TEST_STORAGE_CONNECTION_STRING</c>. Without it, Azurite on its default ports.
/// </summary>
public static class AzuriteStorage
{
    public const string EnvironmentVariable = "SCIM_TEST_STORAGE_CONNECTION_STRING";

    public static string ConnectionString =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } value ? value : "UseDevelopmentStorage=true";
}
