using System.Text.Json.Nodes;
using Cluster.Scim.Patching;
using Cluster.Scim.Resources;
using Cluster.Scim.Schema;
using Cluster.Scim.Tests.Schema;

namespace Cluster.Scim.Tests.Resources;

/// <summary>
/// <see cref="MutabilityRules.CheckUpdate"/>: an immutable attribute can be set while it has no value, and after that every
/// update must carry a matching value (RFC 7644 §3.5.1); changing or removing it is 400 <c>mutability</c>.
/// </summary>
public sealed class MutabilityRulesTests
{
    private const string Acme = AcmeExtension.Urn;

    private static readonly string Current = $$$$"""
        {"id":"u1","userName":"a","{{{{Acme}}}}":{"site":"Berlin","badgeId":"B-1"},"meta":{"version":"W/\"1\""}}
        """;

    [Theory]
    [InlineData("""{"userName":"a","@":{"site":"Berlin","badgeId":"B-2"}}""")]
    [InlineData("""{"userName":"a","@":{"site":"Berlin"}}""")]
    [InlineData("""{"userName":"a"}""")]
    [InlineData("""{"userName":"a","@":{"site":"Berlin","badgeId":""}}""")]
    public void ChangingOrRemovingASetImmutableValueIsMutability(string updated)
    {
        var violation = MutabilityRules.CheckUpdate(Obj(Current), Obj(updated.Replace("@", Acme, StringComparison.Ordinal)), AcmeExtension.User);
        Assert.NotNull(violation);
        Assert.Equal((400, "mutability"), (violation.Status, violation.ScimType));
        Assert.Contains($"{Acme}:badgeId", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RepeatingTheValueIsFineAndACaseVariantKeepsTheStoredSpelling()
    {
        var same = Obj($$$$"""{"userName":"a","{{{{Acme}}}}":{"site":"Paris","badgeId":"B-1"}}""");
        Assert.Null(MutabilityRules.CheckUpdate(Obj(Current), same, AcmeExtension.User));

        var caseVariant = Obj($$$$"""{"userName":"a","{{{{Acme}}}}":{"site":"Paris","badgeId":"b-1"}}""");
        Assert.Null(MutabilityRules.CheckUpdate(Obj(Current), caseVariant, AcmeExtension.User));
        Assert.Equal("B-1", caseVariant[Acme]!["badgeId"]!.GetValue<string>());
        Assert.Equal("Paris", caseVariant[Acme]!["site"]!.GetValue<string>());
    }

    [Fact]
    public void AnAbsentImmutableValueMayBeSet()
    {
        var current = Obj($$$$"""{"userName":"a","{{{{Acme}}}}":{"site":"Berlin"}}""");
        Assert.Null(MutabilityRules.CheckUpdate(current, Obj($$$$"""{"userName":"a","{{{{Acme}}}}":{"site":"Berlin","badgeId":"B-9"}}"""), AcmeExtension.User));
        Assert.Null(MutabilityRules.CheckUpdate(Obj("""{"userName":"a"}"""), Obj($$$$"""{"userName":"a","{{{{Acme}}}}":{"site":"x","badgeId":"B-9"}}"""), AcmeExtension.User));
    }

    [Fact]
    public void OtherAttributesChangeFreely()
    {
        var updated = Obj($$$$"""{"userName":"b","displayName":"B","{{{{Acme}}}}":{"site":"Rome","badgeId":"B-1","pin":"9","tags":["t"]}}""");
        Assert.Null(MutabilityRules.CheckUpdate(Obj(Current), updated, AcmeExtension.User));
    }

    [Fact]
    public void PatchResultsAreCheckedTheSameWay()
    {
        var current = Obj(Current);
        var replaced = PatchApplier.Apply(current, Request($$"""{"op":"replace","path":"badgeId","value":"B-2"}"""), AcmeExtension.User);
        Assert.Equal("mutability", MutabilityRules.CheckUpdate(current, replaced, AcmeExtension.User)?.ScimType);

        var removed = PatchApplier.Apply(current, Request($$"""{"op":"remove","path":"{{Acme}}:badgeId"}"""), AcmeExtension.User);
        Assert.Equal("mutability", MutabilityRules.CheckUpdate(current, removed, AcmeExtension.User)?.ScimType);

        var unrelated = PatchApplier.Apply(current, Request("""{"op":"replace","path":"site","value":"Oslo"}"""), AcmeExtension.User);
        Assert.Null(MutabilityRules.CheckUpdate(current, unrelated, AcmeExtension.User));
    }

    [Fact]
    public void GroupExtensionAndMultiValuedImmutableSubAttributes()
    {
        var group = Obj($$$$"""{"displayName":"g","{{{{AcmeExtension.GroupUrn}}}}":{"code":"C-1"}}""");
        Assert.Equal("mutability", MutabilityRules.CheckUpdate(group, Obj("""{"displayName":"g"}"""), AcmeExtension.Group)?.ScimType);

        // members.value is immutable per element: members are added and removed whole, which this rule does not restrict.
        var withMembers = Obj("""{"displayName":"g","members":[{"value":"u1"}]}""");
        Assert.Null(MutabilityRules.CheckUpdate(withMembers, Obj("""{"displayName":"g","members":[{"value":"u2"}]}"""), ScimSchemas.Build(null).Group));
    }

    [Fact]
    public void ImmutableSubAttributeOfASingleValuedComplexAttribute()
    {
        var type = ScimSchemas.Build([new()
        {
            Schema = "urn:example:Device:User",
            Attributes = [new() { Name = "device", Type = "complex", SubAttributes = [new() { Name = "serial", Mutability = "immutable", CaseExact = true }, new() { Name = "label" }] }],
        }]).User;
        const string Urn = "urn:example:Device:User";
        var current = Obj($$$$"""{"userName":"a","{{{{Urn}}}}":{"device":{"serial":"S1","label":"x"}}}""");
        Assert.Null(MutabilityRules.CheckUpdate(current, Obj($$$$"""{"userName":"a","{{{{Urn}}}}":{"device":{"serial":"S1","label":"y"}}}"""), type));
        Assert.Equal("mutability", MutabilityRules.CheckUpdate(current, Obj($$$$"""{"userName":"a","{{{{Urn}}}}":{"device":{"serial":"s1"}}}"""), type)?.ScimType);
        Assert.Equal("mutability", MutabilityRules.CheckUpdate(current, Obj($$$$"""{"userName":"a","{{{{Urn}}}}":{"device":{"label":"y"}}}"""), type)?.ScimType);
    }

    private static JsonObject Obj(string json) => JsonNode.Parse(json)!.AsObject();

    private static PatchRequest Request(string operation) =>
        PatchRequest.Parse(JsonNode.Parse($$"""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{{operation}}]}"""));
}
