namespace Microsoft.Extensions.Hosting;

/// <summary>How processes find each other. Section <c>Cluster</c> (environment: <c>Cluster__ClusterId</c>, ...). Not <c>Orleans</c>: Orleans binds that section itself.</summary>
public sealed class OrleansClusterOptions
{
    public const string SectionName = "Cluster";

    /// <summary>Cluster id: processes with the same id form one cluster.</summary>
    public string ClusterId { get; set; } = "scim-local";

    /// <summary>Service id: stays the same across deployments; part of every stored grain-state key.</summary>
    public string ServiceId { get; set; } = "scim";

    /// <summary><c>AzureTable</c> (membership table in Azure Storage / Azurite) or <c>Localhost</c> (one silo, development).</summary>
    public string Membership { get; set; } = "AzureTable";

    /// <summary>Silo-to-silo port.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port on which the silo accepts Orleans clients (the gateways).</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>IP address the silo advertises and listens on. Default 127.0.0.1; <c>auto</c> picks the host's address and listens on all (containers).</summary>
    public string AdvertisedIP { get; set; } = "127.0.0.1";
}
