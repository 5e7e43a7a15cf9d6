using System.ComponentModel.DataAnnotations;

namespace Microsoft.Extensions.Hosting;

/// <summary>How processes find each other. Section <c>Cluster</c> (environment: <c>Cluster__ClusterId</c>, ...). Not <c>Orleans</c>: Orleans binds that section itself.</summary>
public sealed class OrleansClusterOptions : IValidatableObject
{
    public const string SectionName = "Cluster";

    /// <summary>
    /// Which process serves HTTP (docs/architecture.md, "Topologies"): <c>split</c> (default), silos host grains and
    /// separate gateway processes (<c>Cluster.Gateway.Host</c>, Orleans clients) serve SCIM; <c>cohosted</c>, every silo
    /// also serves SCIM, the admin API, OAuth and the portal itself, and grain calls to local activations skip the network.
    /// </summary>
    [RegularExpression("^(?i)(cohosted|split)$", ErrorMessage = "must be cohosted or split.")]
    public string Topology { get; set; } = "split";

    /// <summary>True when <see cref="Topology"/> is <c>cohosted</c>.</summary>
    public bool IsCohosted => string.Equals(Topology, "cohosted", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Where a user, group or index entry activates (docs/architecture.md, "Placement"): <c>balanced</c> (default, Orleans'
    /// own resource-optimized placement: the silo with the most room) or <c>local</c> (Orleans' <c>PreferLocalPlacement</c>:
    /// the silo whose request first needs it, so a create's calls to its new grains stay in that process). Tenant-wide
    /// grains (tenant, directory partitions, event log) are placed the default way in both.
    /// </summary>
    [RegularExpression("^(?i)(balanced|local)$", ErrorMessage = "must be balanced or local.")]
    public string Placement { get; set; } = "balanced";

    /// <summary>True when <see cref="Placement"/> is <c>local</c>.</summary>
    public bool PlacesLocally => string.Equals(Placement, "local", StringComparison.OrdinalIgnoreCase);

    /// <summary>Cluster id: processes with the same id form one cluster.</summary>
    [Required(AllowEmptyStrings = false)]
    [RegularExpression("^[A-Za-z0-9-]{1,64}$", ErrorMessage = "must be 1–64 letters, digits or dashes.")]
    public string ClusterId { get; set; } = "scim-local";

    /// <summary>Service id: stays the same across deployments; part of every stored grain-state key.</summary>
    [Required(AllowEmptyStrings = false)]
    [RegularExpression("^[A-Za-z0-9-]{1,64}$", ErrorMessage = "must be 1–64 letters, digits or dashes.")]
    public string ServiceId { get; set; } = "scim";

    /// <summary><c>AzureTable</c> (membership table in Azure Storage / Azurite) or <c>Localhost</c> (one silo, development).</summary>
    [RegularExpression("^(?i)(azuretable|localhost)$", ErrorMessage = "must be AzureTable or Localhost.")]
    public string Membership { get; set; } = "AzureTable";

    /// <summary>Silo-to-silo port.</summary>
    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port on which the silo accepts Orleans clients (the gateways).</summary>
    [Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>IP address the silo advertises and listens on. Default 127.0.0.1; <c>auto</c> picks the host's address and listens on all (containers).</summary>
    public string AdvertisedIP { get; set; } = "127.0.0.1";

    // ----- Failure detection and lifecycle (issue 4). Defaults suit production; deploy/local/run.sh sets faster ones. -----

    /// <summary>Initial timeout of a liveness probe between silos, in seconds (Orleans <c>ClusterMembershipOptions.ProbeTimeout</c>; default 5).</summary>
    [Range(0.1, 600)]
    public double ProbeTimeoutSeconds { get; set; } = 5;

    /// <summary>Missed probes after which a silo suspects another (Orleans <c>NumMissedProbesLimit</c>; default 3).</summary>
    [Range(1, 100)]
    public int NumMissedProbesLimit { get; set; } = 3;

    /// <summary>Suspicions needed to declare a silo dead (Orleans <c>NumVotesForDeathDeclaration</c>; default 2).</summary>
    [Range(1, 100)]
    public int NumVotesForDeathDeclaration { get; set; } = 2;

    /// <summary>How often each silo re-reads the membership table, in seconds (Orleans <c>TableRefreshTimeout</c>; default 60).</summary>
    [Range(0.1, 3600)]
    public double TableRefreshSeconds { get; set; } = 60;

    /// <summary>
    /// How long a grain call may wait for its response before it fails with a <see cref="TimeoutException"/>, in seconds
    /// (Orleans <c>MessagingOptions.ResponseTimeout</c> of silos and clients; default 30). A call that was in flight to a
    /// silo that died waits this long before the gateway's retry policy can take over, so a shorter value shortens what
    /// clients see after a crash; it must stay above the slowest legitimate grain call (a write under storage load).
    /// </summary>
    [Range(0.1, 3600)]
    public double ResponseTimeoutSeconds { get; set; } = 30;

    /// <summary>Idle time after which a grain activation (tenant, user, index entry) is deactivated, in minutes (Orleans <c>GrainCollectionOptions.CollectionAge</c>; default 15).</summary>
    [Range(0.1, 10080)]
    public double CollectionAgeMinutes { get; set; } = 15;

    /// <summary>How long a stopping process (SIGTERM) may take to drain: in-flight requests, grain deactivation, leaving the cluster, in seconds (<c>HostOptions.ShutdownTimeout</c>; default 30).</summary>
    [Range(0, 3600)]
    public double ShutdownTimeoutSeconds { get; set; } = 30;

    /// <inheritdoc/>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.Equals(AdvertisedIP, "auto", StringComparison.OrdinalIgnoreCase) && !System.Net.IPAddress.TryParse(AdvertisedIP, out _))
        {
            yield return new ValidationResult("must be auto or an IP address.", [nameof(AdvertisedIP)]);
        }
    }
}
