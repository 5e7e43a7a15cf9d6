using System.Text.Json.Nodes;
using Cluster.Scim.Errors;
using Cluster.Scim.Filtering;
using Cluster.Scim.Patching;
using Cluster.Scim.Projection;
using Cluster.Scim.Resources;
using Cluster.Scim.Tests.Schema;

namespace Cluster.Scim.Tests.Resources;

/// <summary>
/// A configured extension goes through the same definitions as the built-in ones: normalization (types, unknown names,
/// readOnly, writeOnly), required (core, extension-when-present, required extension), PATCH paths, filters and projection.
/// </summary>
public sealed class ExtensionAttributeTests
{
    private const string Acme = AcmeExtension.Urn;

    [Fact]
    public void NormalizeStoresExtensionValuesUnderTheirUrn_WriteOnlyKept_ReadOnlyDropped()
    {
        var stored = Normalize($$$$"""
            {"userName":"a","urn:IETF:params:scim:schemas:extension:ACME:2.0:User":{"SITE":"Berlin","pin":"1234","score":5,"office":{"Floor":2}},
             "{{{{Acme}}}}:badgeId":"B-1","tags":"solo","password":"secret"}
            """);
        Assert.Equal(
            $$$$"""{"userName":"a","{{{{Acme}}}}":{"site":"Berlin","pin":"1234","office":{"floor":2},"badgeId":"B-1","tags":["solo"]}}""",
            stored.ToJsonString());
    }

    [Theory]
    [InlineData("""{"site":1}""", "invalidValue")]
    [InlineData("""{"site":"x","office":{"floor":"2"}}""", "invalidValue")]
    [InlineData("""{"site":"x","tags":[true]}""", "invalidValue")]
    [InlineData("""{"site":"x","office":"north"}""", "invalidValue")]
    [InlineData("""{"site":"x","nope":"1"}""", "invalidSyntax")]
    [InlineData("""{"site":"x","office":{"nope":"1"}}""", "invalidSyntax")]
    [InlineData("""{"badgeId":"B"}""", "invalidValue")]
    [InlineData("""{"site":""}""", "invalidValue")]
    [InlineData("\"not an object\"", "invalidValue")]
    public void BadExtensionValues(string acme, string scimType)
    {
        var ex = Assert.Throws<ScimException>(() => Normalize($$"""{"userName":"a","{{Acme}}":{{acme}}}"""));
        Assert.Equal(scimType, ex.ScimType);
    }

    [Fact]
    public void RequiredRules()
    {
        Assert.Equal("invalidValue", Assert.Throws<ScimException>(() => Normalize("""{"displayName":"no userName"}""")).ScimType);
        Assert.Equal("invalidValue", Assert.Throws<ScimException>(() => ResourceNormalizer.Normalize(Obj("""{"externalId":"x"}"""), AcmeExtension.Group)).ScimType);

        // The extension is optional: absent is fine; a readOnly or writeOnly-only extension value still needs site.
        Assert.Equal("""{"userName":"a"}""", Normalize("""{"userName":"a"}""").ToJsonString());
        Assert.Equal("""{"userName":"a"}""", Normalize($$$$"""{"userName":"a","{{{{Acme}}}}":{"score":1}}""").ToJsonString());
        Assert.Throws<ScimException>(() => Normalize($$$$"""{"userName":"a","{{{{Acme}}}}":{"pin":"1"}}"""));

        // An extension the resource type requires must be present.
        var required = Cluster.Scim.Schema.ScimSchemas.Build([new() { Schema = "urn:must:User", Required = true, Attributes = [new() { Name = "x" }] }]).User;
        var ex = Assert.Throws<ScimException>(() => ResourceNormalizer.Normalize(Obj("""{"userName":"a"}"""), required));
        Assert.Equal("invalidValue", ex.ScimType);
        Assert.Contains("urn:must:User", ex.Message, StringComparison.Ordinal);
        Assert.NotNull(ResourceNormalizer.Normalize(Obj("""{"userName":"a","urn:must:User":{"x":"1"}}"""), required));
        var withRequired = Obj("""{"userName":"a","urn:must:User":{"x":"1"}}""");
        foreach (var operation in new[] { """{"op":"remove","path":"urn:must:User"}""", """{"op":"replace","value":{"urn:must:User":null}}""" })
        {
            var removed = Assert.Throws<ScimException>(() => PatchApplier.Apply(
                withRequired,
                PatchRequest.Parse(JsonNode.Parse($$"""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{{operation}}]}""")),
                required));
            Assert.Equal("mutability", removed.ScimType);
        }

        // A required sub-attribute is required when its complex value is present.
        var withSub = Cluster.Scim.Schema.ScimSchemas.Build([new()
        {
            Schema = "urn:sub:User",
            Attributes = [new() { Name = "card", Type = "complex", SubAttributes = [new() { Name = "number", Required = true }, new() { Name = "label" }] }],
        }]).User;
        Assert.Equal("invalidValue", Assert.Throws<ScimException>(() => ResourceNormalizer.Normalize(Obj("""{"userName":"a","urn:sub:User":{"card":{"label":"x"}}}"""), withSub)).ScimType);
    }

    [Fact]
    public void PatchPathsReachExtensionAttributes()
    {
        var user = Obj($$$$"""{"id":"1","userName":"a","{{{{Acme}}}}":{"site":"Berlin"}}""");
        var patched = Patch(user,
            $$"""{"op":"add","path":"{{Acme}}:tags","value":["x","y"]}""",
            """{"op":"replace","path":"office.floor","value":4}""",
            """{"op":"add","path":"pin","value":"9999"}""",
            $$$$"""{"op":"replace","value":{"{{{{Acme}}}}:site":"Rome","badgeId":"B-7"}}""");
        Assert.Equal(
            $$$$"""{"id":"1","userName":"a","{{{{Acme}}}}":{"site":"Rome","tags":["x","y"],"office":{"floor":4},"pin":"9999","badgeId":"B-7"}}""",
            patched.ToJsonString());

        Assert.Equal("mutability", Assert.Throws<ScimException>(() => Patch(user, """{"op":"replace","path":"score","value":1}""")).ScimType);
        Assert.Equal("mutability", Assert.Throws<ScimException>(() => Patch(user, $$"""{"op":"remove","path":"{{Acme}}:site"}""")).ScimType);
        Assert.Equal("invalidPath", Assert.Throws<ScimException>(() => Patch(user, $$"""{"op":"replace","path":"{{Acme}}:nope","value":1}""")).ScimType);
        Assert.Equal("invalidValue", Assert.Throws<ScimException>(() => Patch(user, """{"op":"replace","path":"office.floor","value":"high"}""")).ScimType);
        Assert.Equal(
            """{"id":"1","userName":"a"}""",
            Patch(user, $$"""{"op":"remove","path":"{{Acme}}"}""").ToJsonString());
    }

    [Fact]
    public void RemovingValuesOfAMultiValuedStringAttributeRemovesOnlyThose()
    {
        // Until 2026-12-07 a remove with a value removed matching values of complex attributes only: ["a"] emptied tags.
        var user = Obj($$$$"""{"id":"1","userName":"a","{{{{Acme}}}}":{"site":"Berlin","tags":["a","b","c"]}}""");
        Assert.Equal(
            $$$$"""{"id":"1","userName":"a","{{{{Acme}}}}":{"site":"Berlin","tags":["b"]}}""",
            Patch(user, $$"""{"op":"remove","path":"{{Acme}}:tags","value":["a","c"]}""").ToJsonString());
        Assert.Equal(
            $$$$"""{"id":"1","userName":"a","{{{{Acme}}}}":{"site":"Berlin","tags":["a","b","c"]}}""",
            Patch(user, $$"""{"op":"remove","path":"{{Acme}}:tags","value":"z"}""").ToJsonString());
        Assert.Equal(
            $$$$"""{"id":"1","userName":"a","{{{{Acme}}}}":{"site":"Berlin"}}""",
            Patch(user, $$"""{"op":"remove","path":"{{Acme}}:tags"}""").ToJsonString());
    }

    [Theory]
    [InlineData("urn:ietf:params:scim:schemas:extension:acme:2.0:User:site eq \"berlin\"", true)]
    [InlineData("site eq \"Paris\"", false)]
    [InlineData("urn:ietf:params:scim:schemas:extension:acme:2.0:User:office.floor ge 2", true)]
    [InlineData("tags eq \"b\"", true)]
    [InlineData("badgeId pr", false)]
    public void FiltersUseExtensionAttributes(string filter, bool expected)
    {
        var user = Obj($$$$"""{"userName":"a","{{{{Acme}}}}":{"site":"Berlin","office":{"floor":2},"tags":["a","b"],"pin":"1"}}""");
        Assert.Equal(expected, FilterEvaluator.Matches(FilterParser.Parse(filter), user, AcmeExtension.User));
    }

    [Theory]
    [InlineData("pin eq \"1\"")]
    [InlineData("urn:ietf:params:scim:schemas:extension:acme:2.0:User:pin pr")]
    [InlineData("password eq \"x\"")]
    [InlineData("urn:ietf:params:scim:schemas:extension:acme:2.0:User:nope eq \"x\"")]
    public void InvalidExtensionFilters(string filter)
    {
        var ex = Assert.Throws<ScimException>(() => FilterEvaluator.Validate(FilterParser.Parse(filter), AcmeExtension.User));
        Assert.Equal("invalidFilter", ex.ScimType);
    }

    [Theory]
    [InlineData("urn:ietf:params:scim:schemas:extension:acme:2.0:User:site", null, """{"site":"Berlin"}""")]
    [InlineData("urn:ietf:params:scim:schemas:extension:acme:2.0:User", null, """{"site":"Berlin","office":{"floor":2}}""")]
    [InlineData("office.floor", null, """{"office":{"floor":2}}""")]
    [InlineData("pin", null, null)]
    [InlineData(null, "urn:ietf:params:scim:schemas:extension:acme:2.0:User:office", """{"site":"Berlin"}""")]
    [InlineData(null, null, """{"site":"Berlin","office":{"floor":2}}""")]
    public void ProjectionSelectsExtensionAttributesAndNeverReturnsWriteOnly(string? attributes, string? excluded, string? expected)
    {
        var user = Obj($$$$"""{"schemas":["x"],"id":"1","userName":"a","{{{{Acme}}}}":{"site":"Berlin","office":{"floor":2},"pin":"secret"}}""");
        var projected = ScimProjection.Apply(user, ScimProjection.ParseList(attributes), ScimProjection.ParseList(excluded), AcmeExtension.User);
        Assert.Equal(expected, projected[Acme]?.ToJsonString());
        Assert.DoesNotContain("secret", projected.ToJsonString(), StringComparison.Ordinal);
    }

    private static JsonObject Normalize(string json) => ResourceNormalizer.Normalize(Obj(json), AcmeExtension.User);

    private static JsonObject Patch(JsonObject user, params string[] operations) => PatchApplier.Apply(
        user,
        PatchRequest.Parse(JsonNode.Parse($$"""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{{string.Join(",", operations)}}]}""")),
        AcmeExtension.User);

    private static JsonObject Obj(string json) => JsonNode.Parse(json)!.AsObject();
}
