using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests;

/// <summary>Invariant 10 at the grain: a PATCH applies all of its operations or none, and a no-op writes nothing.</summary>
[Collection(ClusterFixture.Collection)]
public sealed class PatchAtomicityTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    public static TheoryData<string> InvalidSecondOperations => new()
    {
        """{"op":"replace","path":"noSuchAttribute","value":"x"}""",
        """{"op":"replace","path":"id","value":"other"}""",
        """{"op":"remove","path":"userName"}""",
        """{"op":"replace","path":"active","value":"maybe"}""",
        """{"op":"frobnicate","path":"displayName","value":"x"}""",
        """{"op":"replace","path":"emails[type eq","value":"x"}""",
    };

    [Theory]
    [MemberData(nameof(InvalidSecondOperations))]
    public async Task APatchWhoseSecondOperationIsInvalidChangesNothing(string secondOperation)
    {
        var tenantId = GrainKeys.NewTenantId();
        var id = await Grains.CreateUserAsync(tenantId, "ivan@contoso.com", externalId: "ext-1");
        var user = Grains.User(tenantId, id);
        var before = await user.GetAsync();

        var result = await user.PatchAsync($$"""
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
              {"op":"replace","path":"userName","value":"ivan.renamed@contoso.com"},
              {{secondOperation}}]}
            """);

        Assert.Equal(400, result.Status);
        Assert.NotNull(result.ScimType);
        var after = await user.GetAsync();
        Assert.Equal(before.Resource, after.Resource);
        Assert.Equal(before.Version, after.Version);

        // The first operation's new name was never claimed: anyone may take it, and the old one still belongs to the user.
        Assert.Empty(await Grains.IndexEntry(tenantId, IndexNames.UserName, "ivan.renamed@contoso.com").LookupAsync());
        Assert.Equal(409, (await Grains.User(tenantId, GrainKeys.NewResourceId()).CreateAsync(Users.Resource("ivan@contoso.com"))).Status);
        await Grains.CreateUserAsync(tenantId, "ivan.renamed@contoso.com");

        // The grain is still usable, from the same state.
        var next = await user.PatchAsync("""{"Operations":[{"op":"replace","path":"displayName","value":"Ivan"}]}""");
        Assert.Equal((200, before.Version + 1), (next.Status, next.Version));
        Assert.Equal("ivan@contoso.com", Users.UserNameOf(next));
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("[]")]
    [InlineData("""{"Operations":[]}""")]
    public async Task AMalformedPatchBodyIs400AndChangesNothing(string body)
    {
        var tenantId = GrainKeys.NewTenantId();
        var id = await Grains.CreateUserAsync(tenantId, "judy@contoso.com");
        var before = await Grains.User(tenantId, id).GetAsync();

        var result = await Grains.User(tenantId, id).PatchAsync(body);

        Assert.Equal(400, result.Status);
        var after = await Grains.User(tenantId, id).GetAsync();
        Assert.Equal((before.Resource, before.Version), (after.Resource, after.Version));
    }

    [Fact]
    public async Task ARepeatedIdenticalPatchWritesNothingTheSecondTime()
    {
        var tenantId = GrainKeys.NewTenantId();
        var id = await Grains.CreateUserAsync(tenantId, "ken@contoso.com");
        var user = Grains.User(tenantId, id);
        const string patch = """
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
              {"op":"replace","path":"displayName","value":"Ken"},
              {"op":"add","path":"emails[type eq \"work\"].value","value":"ken@contoso.com"}]}
            """;

        var first = await user.PatchAsync(patch);
        var second = await user.PatchAsync(patch);

        Assert.Equal((200, 2L), (first.Status, first.Version));
        Assert.Equal((200, 2L), (second.Status, second.Version));
        Assert.Equal(first.Resource, second.Resource);
        var stored = await user.GetAsync();
        Assert.Equal((first.Resource, 2L), (stored.Resource, stored.Version));

        // A PUT of the same content is a no-op too.
        var put = await user.ReplaceAsync(Users.Resource("ken@contoso.com", workEmail: "ken@contoso.com", displayName: "Ken"));
        Assert.Equal((200, 2L, first.Resource), (put.Status, put.Version, put.Resource));
        await Invariants.AssertConsistentAsync(Grains, tenantId, [id]);
    }
}
