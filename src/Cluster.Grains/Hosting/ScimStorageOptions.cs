namespace Cluster.Grains.Hosting;

/// <summary>Where grain state lives. Section <c>Storage</c> (environment: <c>Storage__Provider</c>, ...).</summary>
public sealed class ScimStorageOptions
{
    public const string SectionName = "Storage";

    /// <summary><c>AzureTable</c> (default; Azure Storage or Azurite) or <c>Memory</c> (tests, throwaway dev runs).</summary>
    public string Provider { get; set; } = "AzureTable";

    /// <summary>Azure Storage connection string. Default: Azurite on its standard ports.</summary>
    public string ConnectionString { get; set; } = "UseDevelopmentStorage=true";

    /// <summary>Azure Table that holds grain state.</summary>
    public string TableName { get; set; } = "ScimGrainState";
}
