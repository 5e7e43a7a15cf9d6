using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Scim.Resources;
using Cluster.Scim.Schema;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests;

/// <summary>
/// The grains enforce <c>immutable</c> (RFC 7644 §3.5.1) on every update path — PUT and PATCH, users and groups — with the
/// test extension the cluster runs with (<see cref="TestExtension"/>): a refused change is 400 <c>mutability</c> and
/// writes nothing (invariant 10).
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed class ImmutableAttributeTests(ClusterFixture fixture)
{
    private const string Acme = TestExtension.UserUrn;

    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task UserImmutableValueIsSetOnceAndThenRefusedOnPutAndPatch()
    {
        var tenantId = GrainKeys.NewTenantId();
        var user = Grains.User(tenantId, GrainKeys.NewResourceId());
        Assert.Equal(201, (await user.CreateAsync(UserResource("""{"site":"Berlin"}"""))).Status);

        var set = await user.PatchAsync(Patch($$"""{"op":"add","path":"{{Acme}}:badgeId","value":"B-1"}"""));
        Assert.Equal(200, set.Status);

        foreach (var refused in new Func<Task<ScimResult>>[]
        {
            () => user.PatchAsync(Patch($$"""{"op":"replace","path":"{{Acme}}:badgeId","value":"B-2"}""")),
            () => user.PatchAsync(Patch($$"""{"op":"remove","path":"{{Acme}}:badgeId"}""")),
            () => user.ReplaceAsync(UserResource("""{"site":"Berlin","badgeId":"B-2"}""")),
            () => user.ReplaceAsync(UserResource(null)),
        })
        {
            var result = await refused();
            Assert.Equal((400, "mutability"), (result.Status, result.ScimType));
            var now = await user.GetAsync();
            Assert.Equal((set.Resource, set.Version), (now.Resource, now.Version));
        }

        var repeated = await user.ReplaceAsync(UserResource("""{"site":"Paris","badgeId":"B-1"}"""));
        Assert.Equal((200, set.Version + 1), (repeated.Status, repeated.Version));
        Assert.Equal("B-1", JsonNode.Parse(repeated.Resource!)![Acme]!["badgeId"]!.GetValue<string>());
    }

    [Fact]
    public async Task GroupImmutableValueIsRefusedOnPutAndPatch()
    {
        var tenantId = GrainKeys.NewTenantId();
        var group = Grains.Group(tenantId, GrainKeys.NewResourceId());
        var created = await group.CreateAsync(GroupResource("""{"code":"C-1"}"""));
        Assert.Equal(201, created.Status);
        var before = await group.GetAsync();

        var patched = await group.PatchAsync(Patch($$"""{"op":"replace","path":"{{TestExtension.GroupUrn}}:code","value":"C-2"}"""));
        Assert.Equal((400, "mutability"), (patched.Status, patched.ScimType));
        var replaced = await group.ReplaceAsync(GroupResource("""{"costCode":"X"}"""));
        Assert.Equal((400, "mutability"), (replaced.Status, replaced.ScimType));
        var after = await group.GetAsync();
        Assert.Equal((before.Resource, before.Version), (after.Resource, after.Version));
    }

    [Fact]
    public async Task WriteOnlyValueIsStoredButNeverLeavesTheGrain()
    {
        var tenantId = GrainKeys.NewTenantId();
        var id = GrainKeys.NewResourceId();
        var user = Grains.User(tenantId, id);
        var created = await user.CreateAsync(UserResource("""{"site":"Berlin","pin":"4711"}"""));
        Assert.Equal(201, created.Status);

        // Storage holds it (an operator's writeOnly attribute is kept, unlike the core password) ...
        var stored = Assert.IsType<Cluster.Grains.State.ResourceState>(StorageProbe.LastWrittenState(GrainKeys.User(tenantId, id), "user"));
        Assert.Equal("4711", JsonNode.Parse(stored.Json)![Acme]!["pin"]!.GetValue<string>());

        // ... but no answer of the grain carries it: not the create, the read, a PUT or a PATCH.
        var answers = new List<ScimResult>
        {
            created,
            await user.GetAsync(),
            await user.ReplaceAsync(UserResource("""{"site":"Paris","pin":"4712"}""")),
            await user.PatchAsync(Patch($$"""{"op":"replace","path":"{{Acme}}:site","value":"Rome"}""")),
        };
        Assert.All(answers, a => Assert.True(a.IsSuccess));
        Assert.All(answers, a => Assert.DoesNotContain("pin", a.Resource!, StringComparison.Ordinal));
        Assert.Equal(["Berlin", "Berlin", "Paris", "Rome"], answers.Select(a => JsonNode.Parse(a.Resource!)![Acme]!["site"]!.GetValue<string>()));
        stored = Assert.IsType<Cluster.Grains.State.ResourceState>(StorageProbe.LastWrittenState(GrainKeys.User(tenantId, id), "user"));
        Assert.Equal("4712", JsonNode.Parse(stored.Json)![Acme]!["pin"]!.GetValue<string>());

        // A client never sees the value, so a PUT that omits it keeps it (a read-modify-PUT must not erase it).
        Assert.Equal(200, (await user.ReplaceAsync(UserResource("""{"site":"Oslo"}"""))).Status);
        stored = Assert.IsType<Cluster.Grains.State.ResourceState>(StorageProbe.LastWrittenState(GrainKeys.User(tenantId, id), "user"));
        Assert.Equal(("Oslo", "4712"), (JsonNode.Parse(stored.Json)![Acme]!["site"]!.GetValue<string>(), JsonNode.Parse(stored.Json)![Acme]!["pin"]!.GetValue<string>()));
    }

    private static string UserResource(string? acme) => ResourceNormalizer.Normalize(
        JsonNode.Parse($$"""{"userName":"immutable@contoso.com"{{(acme is null ? "" : $",\"{Acme}\":{acme}")}}}""")!.AsObject(),
        ScimSchemas.UserResource).ToJsonString();

    private static string GroupResource(string acme) => ResourceNormalizer.Normalize(
        JsonNode.Parse($$"""{"displayName":"Immutable","{{TestExtension.GroupUrn}}":{{acme}}}""")!.AsObject(),
        ScimSchemas.GroupResource).ToJsonString();

    private static string Patch(string operation) =>
        $$"""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{{operation}}]}""";
}
