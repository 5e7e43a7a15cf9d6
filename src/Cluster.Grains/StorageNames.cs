namespace Cluster.Grains;

/// <summary>Names of the grain storage providers, shared by the silo configuration and the grains.</summary>
public static class StorageNames
{
    /// <summary>The one grain storage: Azure Table (Azurite locally), or memory in tests.</summary>
    public const string Default = "scim";
}
