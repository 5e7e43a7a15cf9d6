using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests;

/// <summary>
/// <see cref="GrainReferences.Grain{T}"/> resolves an interface's Orleans types once and makes every later reference from
/// them: each reference must be the one Orleans' own <c>GetGrain&lt;T&gt;</c> makes (same grain id, same interface type),
/// including for an interface its grain class implements beside its main one.
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed class GrainReferencesTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public void AReferenceIsTheOneOrleansMakesForEveryKindOfGrain()
    {
        var tenantId = GrainKeys.NewTenantId();
        Same<IUserGrain>(GrainKeys.User(tenantId, "u1"));
        Same<IUserGrain>(GrainKeys.User(tenantId, "u2"));
        Same<IGroupGrain>(GrainKeys.Group(tenantId, "g1"));
        Same<IEventLogGrain>(GrainKeys.EventLog(tenantId));
        Same<IDisabledUserCount>(GrainKeys.EventLog(tenantId));
        Same<ITenantGrain>(GrainKeys.Tenant(tenantId));
        Same<IIndexEntryGrain>(GrainKeys.IndexEntry(tenantId, IndexNames.UserName, "0a1b2c"));
    }

    [Fact]
    public async Task ACallThroughEitherReferenceReachesTheSameGrain()
    {
        var tenantId = GrainKeys.NewTenantId();
        var id = await Grains.CreateUserAsync(tenantId, "same@contoso.com");

        var viaOrleans = await Grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, id)).GetAsync();
        var viaCache = await Grains.Grain<IUserGrain>(GrainKeys.User(tenantId, id)).GetAsync();

        Assert.True(viaOrleans.IsSuccess);
        Assert.Equal(viaOrleans, viaCache);
    }

    private void Same<T>(string key) where T : IGrainWithStringKey
    {
        var expected = (GrainReference)(object)Grains.GetGrain<T>(key);
        var actual = (GrainReference)(object)Grains.Grain<T>(key);
        Assert.Equal(expected.GrainId, actual.GrainId);
        Assert.Equal(expected.InterfaceType, actual.InterfaceType);
        Assert.IsAssignableFrom<T>(actual);
    }
}
