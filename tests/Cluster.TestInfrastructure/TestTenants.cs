using Cluster.Grains.Tenants;

namespace Cluster.TestInfrastructure;

/// <summary>
/// The <c>Tenants</c> settings every test host gets: offboarding waits 1 s (not 60) for requests in flight before it erases,
/// and verifies half a second after its last erase pass, so tests of deletes finish in seconds.
/// </summary>
public static class TestTenants
{
    /// <summary>Configuration keys as in appsettings.</summary>
    public static IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        [$"{TenantsOptions.SectionName}:{nameof(TenantsOptions.OffboardingGraceSeconds)}"] = "1",
        [$"{TenantsOptions.SectionName}:{nameof(TenantsOptions.OffboardingVerifySeconds)}"] = "0.5",
    };
}
