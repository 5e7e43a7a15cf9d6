using System.Text.Json.Nodes;
using Cluster.Scim.Errors;
using Cluster.Scim.Filtering;
using Cluster.Scim.Patching;
using Cluster.Scim.Projection;
using Cluster.Scim.Resources;
using Cluster.Scim.Schema;
using Cluster.Scim.Sorting;

namespace Cluster.Scim.Tests.Resources;

/// <summary>
/// Values that never leave the server (writeOnly, <c>returned: never</c>) stay hidden on every path: under a
/// <c>returned: always</c> parent, in value filters, after their extension is removed from the configuration, and a PUT
/// that omits them keeps them. Also the bounds of sorting (key length, no sort by members).
/// </summary>
public sealed class HiddenValueTests
{
    private const string Urn = "urn:ietf:params:scim:schemas:extension:vault:2.0:User";

    private static readonly ResourceTypeDefinition User = ScimSchemas.Build(
    [
        new()
        {
            Schema = Urn,
            ResourceType = "User",
            Attributes =
            [
                new()
                {
                    Name = "creds", Type = "complex", MultiValued = true, Returned = "always",
                    SubAttributes = [new() { Name = "label" }, new() { Name = "secret", Mutability = "writeOnly", Returned = "never" }],
                },
                new() { Name = "key", Type = "complex", SubAttributes = [new() { Name = "value", Mutability = "writeOnly", Returned = "never" }, new() { Name = "kind" }] },
                new() { Name = "pin", Mutability = "writeOnly" },
            ],
        },
    ]).User;

    private static JsonObject Stored() => JsonNode.Parse($$$"""
        {"userName":"a@b.c","title":"T","{{{Urn}}}":{"creds":[{"label":"l1","secret":"s1"}],"key":{"value":"k1","kind":"rsa"},"pin":"1234"}}
        """)!.AsObject();

    [Fact]
    public void WriteOnlySubAttributeOfAnAlwaysReturnedParentIsNeverShown()
    {
        foreach (var shown in new[]
        {
            ScimProjection.WithoutHidden(Stored(), User),
            ScimProjection.Apply(Stored(), null, null, User),
            ScimProjection.Apply(Stored(), ["userName"], null, User),
            ScimProjection.Apply(Stored(), [$"{Urn}:creds"], null, User),
            ScimProjection.Apply(Stored(), [Urn], null, User),
        })
        {
            var text = shown.ToJsonString();
            Assert.DoesNotContain("s1", text, StringComparison.Ordinal);
            Assert.DoesNotContain("k1", text, StringComparison.Ordinal);
            Assert.DoesNotContain("1234", text, StringComparison.Ordinal);
        }

        Assert.Equal("l1", ScimProjection.WithoutHidden(Stored(), User)[Urn]!["creds"]![0]!["label"]!.GetValue<string>());
    }

    [Theory]
    [InlineData($"{Urn}:creds[secret eq \"s1\"]")]
    [InlineData($"{Urn}:creds.secret eq \"s1\"")]
    [InlineData($"{Urn}:key eq \"k1\"")]
    [InlineData($"{Urn}:key.value sw \"k\"")]
    [InlineData($"{Urn}:pin eq \"1234\"")]
    public void FiltersOnHiddenValuesAreInvalid(string filter)
    {
        var e = Assert.Throws<ScimException>(() => FilterEvaluator.Validate(FilterParser.Parse(filter), User));
        Assert.Equal(ScimErrorType.InvalidFilter, e.ScimType);
    }

    [Fact]
    public void DataOfAnExtensionNoLongerConfiguredIsNotShown()
    {
        var stored = JsonNode.Parse("""{"userName":"a@b.c","urn:ietf:params:scim:schemas:extension:gone:2.0:User":{"pin":"9"}}""")!.AsObject();
        Assert.Equal("""{"userName":"a@b.c"}""", ScimProjection.WithoutHidden(stored, User).ToJsonString());
        Assert.Equal("""{"userName":"a@b.c"}""", ScimProjection.Apply(stored, null, null, User).ToJsonString());

        // Its URN leaves "schemas" with it (in any case); the core schema and configured extensions stay, in their order.
        var listed = JsonNode.Parse($$$"""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:GONE:2.0:USER","{{{Urn}}}"],
             "userName":"a@b.c","{{{Urn}}}":{"key":{"kind":"k"}},"urn:ietf:params:scim:schemas:extension:gone:2.0:User":{"pin":"9"}}
            """)!.AsObject();
        var kept = $$$"""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","{{{Urn}}}"],"userName":"a@b.c","{{{Urn}}}":{"key":{"kind":"k"} } }""".Replace(" ", "", StringComparison.Ordinal);
        Assert.Equal(kept, ScimProjection.WithoutHidden(listed, User).ToJsonString());
        Assert.Equal(kept, ScimProjection.Apply(listed, null, ["emails"], User).ToJsonString());
        Assert.Equal("""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:vault:2.0:User"]}""",
            ScimProjection.Apply(listed, ["id"], null, User).ToJsonString());
    }

    [Fact]
    public void AnAttributeRemovedFromAConfiguredExtensionIsNotShownAndDoesNotBlockAPatch()
    {
        // Stored while "pin" (writeOnly) and "site" were configured; "pin" was then removed from the extension, and "site"
        // with it, which leaves the extension configured.
        var narrowed = ScimSchemas.Build(
        [
            new() { Schema = Urn, ResourceType = "User", Attributes = [new() { Name = "label" }] },
        ]).User;
        var stored = JsonNode.Parse($$$"""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","{{{Urn}}}"],"userName":"a@b.c","active":true,"{{{Urn}}}":{"label":"l","pin":"1234","site":"s"}}
            """)!.AsObject();

        // Never shown: the grain projects such text, and the projection leaves out what the extension no longer defines.
        Assert.True(ScimProjection.MayHideValues(stored.ToJsonString(), narrowed));
        foreach (var shown in new[]
        {
            ScimProjection.WithoutHidden(stored, narrowed),
            ScimProjection.Apply(stored, null, null, narrowed),
            ScimProjection.Apply(stored, [Urn], null, narrowed),
        })
        {
            Assert.Equal("""{"label":"l"}""", shown[Urn]!.ToJsonString());
        }

        // Entra's disable (and any PATCH) still applies; the removed values are dropped from what is stored next.
        var patch = PatchRequest.Parse(JsonNode.Parse("""
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}
            """));
        var patched = PatchApplier.Apply(stored, patch, narrowed);
        Assert.False(patched["active"]!.GetValue<bool>());
        Assert.Equal("""{"label":"l"}""", patched[Urn]!.ToJsonString());
    }

    [Fact]
    public void OnlyTextThatMayHoldHiddenValuesIsProjectedByTheGrain()
    {
        // A configuration without writeOnly attributes: only the data of an extension no longer configured is hidden.
        var plain = ScimSchemas.Build([]).User;
        Assert.False(plain.HasHiddenStoredAttributes);
        const string Enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        const string Gone = "urn:ietf:params:scim:schemas:extension:gone:2.0:User";
        string[] shown =
        [
            """{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@b.c","meta":{}}""",
            $$$"""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","{{{Enterprise}}}"],"userName":"a@b.c","{{{Enterprise}}}":{"department":"R&D"}}""",
            $$$"""{"schemas":["{{{Enterprise.ToUpperInvariant()}}}"],"userName":"a@b.c","{{{Enterprise.ToUpperInvariant()}}}":{"department":"x"}}""",
            """{"userName":"a@b.c","title":"a \"urn:x:y\": in a value"}""",
        ];
        foreach (var json in shown)
        {
            Assert.False(ScimProjection.MayHideValues(json, plain), json);
            Assert.Equal(JsonNode.Parse(json)!.ToJsonString(), ScimProjection.WithoutHidden(JsonNode.Parse(json)!.AsObject(), plain).ToJsonString());
        }

        string[] hidden =
        [
            $$$"""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","{{{Gone}}}"],"userName":"a@b.c","{{{Gone}}}":{"pin":"9"}}""",
            $$$"""{"userName":"a@b.c","{{{Enterprise}}}":{"department":"R&D"},"{{{Gone.ToUpperInvariant()}}}":{"pin":"9"}}""",
        ];
        foreach (var json in hidden)
        {
            Assert.True(ScimProjection.MayHideValues(json, plain), json);
            Assert.DoesNotContain("\"pin\"", ScimProjection.WithoutHidden(JsonNode.Parse(json)!.AsObject(), plain).ToJsonString(), StringComparison.Ordinal);
        }

        // With a writeOnly attribute configured, every text is projected.
        Assert.True(ScimProjection.MayHideValues(shown[0], User));
    }

    [Fact]
    public void PutKeepsOmittedWriteOnlyValues()
    {
        var replacement = JsonNode.Parse("""{"userName":"a@b.c"}""")!.AsObject();
        MutabilityRules.KeepOmittedWriteOnly(Stored(), replacement, User);
        Assert.Equal("1234", replacement[Urn]!["pin"]!.GetValue<string>());
        Assert.Null(replacement[Urn]!["creds"]);

        var sent = JsonNode.Parse($$$"""{"userName":"a@b.c","{{{Urn}}}":{"pin":"5678"}}""")!.AsObject();
        MutabilityRules.KeepOmittedWriteOnly(Stored(), sent, User);
        Assert.Equal("5678", sent[Urn]!["pin"]!.GetValue<string>());
    }

    [Fact]
    public void SortKeysAreBoundedAndGroupsCannotBeSortedByMembers()
    {
        var keys = ScimSort.Parse("title", null)!.For(User)!;
        var longTitle = new string('x', 10_000);
        var resource = JsonNode.Parse($$"""{"userName":"a@b.c","title":"{{longTitle}}"}""")!.AsObject();
        Assert.Equal(SortKeys.MaxKeyLength, keys.KeyOf(resource)!.Length);

        var e = Assert.Throws<ScimException>(() => ScimSort.Parse("members.value", null)!.For(ScimSchemas.Build([]).Group));
        Assert.Equal(ScimErrorType.InvalidValue, e.ScimType);
    }
}
