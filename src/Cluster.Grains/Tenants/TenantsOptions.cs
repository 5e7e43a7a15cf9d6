using System.ComponentModel.DataAnnotations;

namespace Cluster.Grains.Tenants;

/// <summary>
/// The tenant lifecycle on silos. Section <c>Tenants</c> (environment: <c>Tenants__OffboardingGraceSeconds</c>, ...),
/// validated at start-up.
/// </summary>
public sealed class TenantsOptions
{
    public const string SectionName = "Tenants";

    /// <summary>
    /// Seconds between a delete (the tenant's credentials stop at once; every gateway refuses them within
    /// <c>Gateway:TokenCacheSeconds</c>, at most 5) and the start of the erase: time for requests authenticated before the
    /// delete to finish, so none writes after the sweep (a call held by a crashed silo can take
    /// <c>Cluster:ResponseTimeoutSeconds</c>, 30 by default). Default 60 (0–3600). The verification sweeps after the erase
    /// catch a straggler anyway.
    /// </summary>
    [Range(0, 3600)]
    public double OffboardingGraceSeconds { get; set; } = 60;

    /// <summary>Most rows one erase step deletes (a step is one timer tick of the tenant grain). Default 500 (1–10,000).</summary>
    [Range(1, 10_000)]
    public int OffboardingStepRows { get; set; } = 500;

    /// <summary>Seconds between the last erase pass and the verification pass that must find nothing. Default 5 (0–600).</summary>
    [Range(0, 600)]
    public double OffboardingVerifySeconds { get; set; } = 5;
}
