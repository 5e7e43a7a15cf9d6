using Cluster.Abstractions;
using Cluster.Grains.Tenants;

namespace Cluster.Grains.Tests.Tenants;

/// <summary>
/// Invariant 13 for kinds of data added later (the portal's provisioning log, …): every grain with persistent state is either
/// tenant data that offboarding erases (<see cref="TenantData.Grains"/>) or is said not to be (<see cref="TenantData.NotTenantData"/>).
/// </summary>
public sealed class TenantDataTests
{
    [Fact]
    public void EveryGrainWithPersistentStateIsRegisteredAsTenantDataOrSaidNotToBe()
    {
        var withState = typeof(TenantGrain).Assembly.GetTypes()
            .Where(t => typeof(Grain).IsAssignableFrom(t) && !t.IsAbstract)
            .Where(t => t.GetConstructors().SelectMany(c => c.GetParameters()).Any(p => p.IsDefined(typeof(PersistentStateAttribute), false)))
            .ToList();
        Assert.Contains(typeof(TenantGrain), withState);
        foreach (var grain in withState)
        {
            var interfaces = grain.GetInterfaces().Where(i => i.Assembly == typeof(ITenantGrain).Assembly).ToList();
            Assert.True(
                interfaces.Any(i => TenantData.Grains.Contains(i) || TenantData.NotTenantData.Contains(i)),
                $"{grain.Name} stores state: list its grain interface in TenantData.Grains (offboarding erases it) or, if it holds no tenant's data, in TenantData.NotTenantData.");
        }

        Assert.Empty(TenantData.Grains.Intersect(TenantData.NotTenantData));
    }
}
