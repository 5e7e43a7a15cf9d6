using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests;

[Collection(ClusterFixture.Collection)]
public sealed class UserUniquenessTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task FiftyConcurrentCreatesOfOneUserNameGiveExactlyOneWinner()
    {
        var tenantId = GrainKeys.NewTenantId();
        var ids = Enumerable.Range(0, 50).Select(_ => GrainKeys.NewResourceId()).ToArray();
        var results = await Task.WhenAll(ids.Select((id, i) =>
            Grains.User(tenantId, id).CreateAsync(Users.Resource(i % 2 == 0 ? "Same.Name@contoso.com" : "same.name@CONTOSO.com"))));

        Assert.Single(results, r => r.Status == 201);
        Assert.Equal(49, results.Count(r => r.Status == 409 && r.ScimType == "uniqueness"));

        var winner = ids[Array.FindIndex(results, r => r.Status == 201)];
        Assert.Equal([winner], await Grains.IndexEntry(tenantId, IndexNames.UserName, "SAME.NAME@CONTOSO.COM").LookupAsync());
        await Invariants.AssertConsistentAsync(Grains, tenantId, ids);
    }

    [Fact]
    public async Task ConcurrentRenamesToOneNameGiveExactlyOneWinner()
    {
        var tenantId = GrainKeys.NewTenantId();
        var ids = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            ids.Add(await Grains.CreateUserAsync(tenantId, $"user{i}@contoso.com"));
        }

        var results = await Task.WhenAll(ids.Select((id, i) =>
            Grains.User(tenantId, id).PatchAsync(Users.RenamePatch(i % 2 == 0 ? "Target@contoso.com" : "TARGET@contoso.com"))));

        Assert.Single(results, r => r.Status == 200);
        Assert.Equal(19, results.Count(r => r.Status == 409 && r.ScimType == "uniqueness"));

        // The losers keep their old names.
        for (var i = 0; i < ids.Count; i++)
        {
            var current = await Grains.User(tenantId, ids[i]).GetAsync();
            Assert.Equal(results[i].Status == 200 ? (i % 2 == 0 ? "Target@contoso.com" : "TARGET@contoso.com") : $"user{i}@contoso.com", Users.UserNameOf(current));
        }

        await Invariants.AssertConsistentAsync(Grains, tenantId, ids, (IndexNames.UserName, "target@contoso.com"));
    }

    [Fact]
    public async Task RenameThatConflictsLeavesTheUserUnchanged()
    {
        var tenantId = GrainKeys.NewTenantId();
        var taken = await Grains.CreateUserAsync(tenantId, "taken@contoso.com");
        var mover = await Grains.CreateUserAsync(tenantId, "mover@contoso.com", externalId: "ext-1");
        var before = await Grains.User(tenantId, mover).GetAsync();

        // By PATCH (with another attribute changed in the same request) and by PUT: both 409, nothing changes.
        var patch = await Grains.User(tenantId, mover).PatchAsync("""
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
              {"op":"replace","path":"externalId","value":"ext-2"},
              {"op":"replace","path":"userName","value":"TAKEN@contoso.com"}]}
            """);
        var put = await Grains.User(tenantId, mover).ReplaceAsync(Users.Resource("Taken@Contoso.com", externalId: "ext-3"));

        Assert.Equal((409, "uniqueness"), (patch.Status, patch.ScimType));
        Assert.Equal((409, "uniqueness"), (put.Status, put.ScimType));
        var after = await Grains.User(tenantId, mover).GetAsync();
        Assert.Equal(before.Resource, after.Resource);
        Assert.Equal(before.Version, after.Version);

        Assert.Equal([taken], await Grains.IndexEntry(tenantId, IndexNames.UserName, "taken@contoso.com").LookupAsync());
        Assert.Equal([mover], await Grains.IndexEntry(tenantId, IndexNames.UserName, "mover@contoso.com").LookupAsync());
        Assert.Equal([mover], await Grains.IndexEntry(tenantId, IndexNames.UserExternalId, "ext-1").LookupAsync());
        Assert.Empty(await Grains.IndexEntry(tenantId, IndexNames.UserExternalId, "ext-2").LookupAsync());
        Assert.Empty(await Grains.IndexEntry(tenantId, IndexNames.UserExternalId, "ext-3").LookupAsync());
        await Invariants.AssertConsistentAsync(Grains, tenantId, [taken, mover], (IndexNames.UserExternalId, "ext-2"), (IndexNames.UserExternalId, "ext-3"));
    }

    [Theory]
    [InlineData("alice@contoso.com", "ALICE@CONTOSO.COM")]
    [InlineData("Alice@Contoso.com", "alice@contoso.com")]
    [InlineData("bJöRn@contoso.com", "BJÖRN@CONTOSO.COM")]
    public async Task UserNamesCollideCaseInsensitively(string first, string second)
    {
        var tenantId = GrainKeys.NewTenantId();
        var owner = await Grains.CreateUserAsync(tenantId, first);

        var create = await Grains.User(tenantId, GrainKeys.NewResourceId()).CreateAsync(Users.Resource(second));
        Assert.Equal((409, "uniqueness"), (create.Status, create.ScimType));

        var other = await Grains.CreateUserAsync(tenantId, "other@contoso.com");
        var rename = await Grains.User(tenantId, other).PatchAsync(Users.RenamePatch(second));
        Assert.Equal(409, rename.Status);

        // The holder itself may change the case of its own name.
        var recase = await Grains.User(tenantId, owner).PatchAsync(Users.RenamePatch(second));
        Assert.Equal(200, recase.Status);
        Assert.Equal(second, Users.UserNameOf(await Grains.User(tenantId, owner).GetAsync()));
        await Invariants.AssertConsistentAsync(Grains, tenantId, [owner, other], (IndexNames.UserName, first));
    }

    [Fact]
    public async Task AUserNameFreedByDeleteOrRenameCanBeTakenAgain()
    {
        var tenantId = GrainKeys.NewTenantId();
        var deleted = await Grains.CreateUserAsync(tenantId, "gone@contoso.com");
        var renamed = await Grains.CreateUserAsync(tenantId, "old@contoso.com");

        Assert.Equal(204, (await Grains.User(tenantId, deleted).DeleteAsync()).Status);
        Assert.Equal(200, (await Grains.User(tenantId, renamed).PatchAsync(Users.RenamePatch("new@contoso.com"))).Status);

        var a = await Grains.CreateUserAsync(tenantId, "GONE@contoso.com");
        var b = await Grains.CreateUserAsync(tenantId, "OLD@contoso.com");
        await Invariants.AssertConsistentAsync(Grains, tenantId, [deleted, renamed, a, b]);
    }
}
