using Cluster.Abstractions;
using Cluster.Gateway.Querying;
using Cluster.Scim.Filtering;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests;

/// <summary>State lives in grain storage, not in activations: it survives the deactivation of every grain involved.</summary>
[Collection(ClusterFixture.Collection)]
public sealed class DeactivationTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task UserAndIndexesSurviveDeactivation()
    {
        var tenantId = GrainKeys.NewTenantId();
        var id = await Grains.CreateUserAsync(tenantId, "alice@contoso.com", externalId: "ext-1", workEmail: "alice@contoso.com");
        Assert.Equal(200, (await Grains.User(tenantId, id).PatchAsync(Users.RenamePatch("alice.renamed@contoso.com"))).Status);
        var before = await Grains.User(tenantId, id).GetAsync();
        Assert.Equal(2, before.Version);

        IAddressable[] grains =
        [
            Grains.User(tenantId, id),
            Grains.IndexEntry(tenantId, IndexNames.UserName, "alice.renamed@contoso.com"),
            Grains.IndexEntry(tenantId, IndexNames.UserName, "alice@contoso.com"),
            Grains.IndexEntry(tenantId, IndexNames.UserExternalId, "ext-1"),
            Grains.IndexEntry(tenantId, IndexNames.UserWorkEmail, "alice@contoso.com"),
            Grains.DirectoryOf(tenantId, id),
        ];
        await DeactivateAllAsync(grains);

        var after = await Grains.User(tenantId, id).GetAsync();
        Assert.Equal(200, after.Status);
        Assert.Equal(before.Resource, after.Resource);
        Assert.Equal(before.Version, after.Version);

        var queries = new ResourceQueries(Grains);
        var byName = await queries.QueryAsync(ResourceKind.User, tenantId, FilterParser.Parse("userName eq \"ALICE.RENAMED@contoso.com\""), 1, 10);
        Assert.Equal(id, Assert.Single(byName.Page)["id"]!.GetValue<string>());
        Assert.Equal(0, (await queries.QueryAsync(ResourceKind.User, tenantId, FilterParser.Parse("userName eq \"alice@contoso.com\""), 1, 10)).Total);
        Assert.Equal(1, (await queries.QueryAsync(ResourceKind.User, tenantId, FilterParser.Parse("externalId eq \"ext-1\""), 1, 10)).Total);
        Assert.Equal([id], await Grains.DirectoryIdsAsync(tenantId));

        // The reactivated user still enforces uniqueness and still owns its name.
        var duplicate = await Grains.User(tenantId, GrainKeys.NewResourceId()).CreateAsync(Users.Resource("alice.renamed@contoso.com"));
        Assert.Equal(409, duplicate.Status);
        await Invariants.AssertConsistentAsync(Grains, tenantId, [id], (IndexNames.UserName, "alice@contoso.com"));

        // And later writes continue from the stored version.
        var patched = await Grains.User(tenantId, id).PatchAsync(Users.RenamePatch("alice.third@contoso.com"));
        Assert.Equal(3, patched.Version);
    }

    [Fact]
    public async Task DeletedUserStaysDeletedAfterDeactivation()
    {
        var tenantId = GrainKeys.NewTenantId();
        var id = await Grains.CreateUserAsync(tenantId, "bob@contoso.com");
        Assert.Equal(204, (await Grains.User(tenantId, id).DeleteAsync()).Status);

        await DeactivateAllAsync([Grains.User(tenantId, id), Grains.IndexEntry(tenantId, IndexNames.UserName, "bob@contoso.com"), Grains.DirectoryOf(tenantId, id)]);

        Assert.Equal(404, (await Grains.User(tenantId, id).GetAsync()).Status);
        Assert.Empty(await Grains.IndexEntry(tenantId, IndexNames.UserName, "bob@contoso.com").LookupAsync());
        Assert.Empty(await Grains.DirectoryIdsAsync(tenantId));
        await Grains.CreateUserAsync(tenantId, "bob@contoso.com");
    }

    [Fact]
    public async Task TenantTokensSurviveDeactivation()
    {
        var tenantId = GrainKeys.NewTenantId();
        var tenant = Grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenantId));
        var first = (await tenant.CreateAsync("Contoso"))!;
        var second = (await tenant.IssueTokenAsync())!;
        var infoBefore = (await tenant.GetInfoAsync())!;

        await DeactivateAllAsync([tenant]);

        var credentials = await tenant.GetCredentialsAsync();
        Assert.True(credentials.Exists);
        Assert.Equal(2, credentials.TokenHashes.Count);
        Assert.Contains(credentials.TokenHashes, h => h.AsSpan().SequenceEqual(Cluster.Grains.Tenants.TenantGrain.HashSecret(first.Secret)));
        Assert.Contains(credentials.TokenHashes, h => h.AsSpan().SequenceEqual(Cluster.Grains.Tenants.TenantGrain.HashSecret(second.Secret)));
        var infoAfter = (await tenant.GetInfoAsync())!;
        Assert.Equal(("Contoso", infoBefore.CreatedAt), (infoAfter.Name, infoAfter.CreatedAt));
        Assert.Equal(infoBefore.Tokens, infoAfter.Tokens);
        Assert.Null(await tenant.CreateAsync("Again"));
    }

    private async Task DeactivateAllAsync(IEnumerable<IAddressable> grains)
    {
        foreach (var grain in grains)
        {
            var grainId = grain.GetGrainId();
            Assert.True(fixture.Cluster.TryGetGrainContext(grainId, out _), $"{grainId} should be active before the test deactivates it");
            await fixture.Cluster.DeactivateAsync(grain);
            Assert.False(fixture.Cluster.TryGetGrainContext(grainId, out _), $"{grainId} is still active");
        }
    }
}
