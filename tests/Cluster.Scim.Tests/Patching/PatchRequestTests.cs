using System.Text.Json.Nodes;
using Cluster.Scim.Patching;
using static Cluster.Scim.Tests.Patching.PatchTestHelpers;

namespace Cluster.Scim.Tests.Patching;

public class PatchRequestTests
{
    private static PatchRequest Parse(string json) => PatchRequest.Parse(JsonNode.Parse(json));

    [Fact]
    public void ParsesCapitalisedOpsPathAndValue()
    {
        var request = Parse("""
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
             "Operations":[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"x"},{"op":"Add","path":"nickName","value":"B"},{"op":"Remove","path":"title"}]}
            """);
        Assert.Equal([PatchOperationType.Replace, PatchOperationType.Add, PatchOperationType.Remove], request.Operations.Select(o => o.Op));
        var first = request.Operations[0];
        Assert.Equal("emails", first.Path!.Attribute.AttributeName);
        Assert.NotNull(first.Path.ValueFilter);
        Assert.Equal("value", first.Path.SubAttribute);
        Assert.Equal("\"x\"", first.Value!.ToJsonString());
        Assert.False(request.Operations[2].HasValue);
    }

    [Fact]
    public void OperationsKeyAndOpKeysAreCaseInsensitive_SchemasMayBeMissing()
    {
        var request = Parse("""{"operations":[{"OP":"REPLACE","Path":"displayName","Value":"x"}]}""");
        Assert.Equal(PatchOperationType.Replace, request.Operations[0].Op);
        Assert.Equal("displayName", request.Operations[0].Path!.Attribute.AttributeName);
    }

    [Fact]
    public void PathlessOperation_HasNullPath()
    {
        var request = Parse("""{"schemas":[],"Operations":[{"op":"replace","path":" ","value":{"displayName":"x"}}]}""");
        Assert.Null(request.Operations[0].Path);
        Assert.Null(request.Operations[0].RawPath);
    }

    [Fact]
    public void ExplicitNullValue_HasValueTrue()
    {
        var request = Parse("""{"Operations":[{"op":"replace","path":"title","value":null}]}""");
        Assert.True(request.Operations[0].HasValue);
        Assert.Null(request.Operations[0].Value);
    }

    [Theory]
    [InlineData("""[]""")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}""")]
    [InlineData("""{"Operations":[]}""")]
    [InlineData("""{"Operations":{"op":"add"}}""")]
    [InlineData("""{"Operations":["add"]}""")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"Operations":[{"op":"add","path":"title","value":"x"}]}""")]
    [InlineData("""{"schemas":"urn:ietf:params:scim:api:messages:2.0:PatchOp","Operations":[{"op":"add","path":"title","value":"x"}]}""")]
    [InlineData("""{"Operations":[{"op":"merge","path":"title","value":"x"}]}""")]
    [InlineData("""{"Operations":[{"path":"title","value":"x"}]}""")]
    [InlineData("""{"Operations":[{"op":1,"path":"title","value":"x"}]}""")]
    [InlineData("""{"Operations":[{"op":"add","path":"title"}]}""")]
    public void BadShape_IsInvalidSyntax(string json)
    {
        AssertScimError(400, "invalidSyntax", () => Parse(json));
    }

    [Theory]
    [InlineData("""{"Operations":[{"op":"add","path":"emails[type eq \"work\"","value":"x"}]}""")]
    [InlineData("""{"Operations":[{"op":"add","path":"emails[type zz \"work\"].value","value":"x"}]}""")]
    [InlineData("""{"Operations":[{"op":"add","path":"a..b","value":"x"}]}""")]
    [InlineData("""{"Operations":[{"op":"add","path":42,"value":"x"}]}""")]
    public void BadPath_IsInvalidPath(string json)
    {
        AssertScimError(400, "invalidPath", () => Parse(json));
    }

    [Fact]
    public void TooManyOperations_IsInvalidValue()
    {
        var ops = string.Join(",", Enumerable.Repeat("""{"op":"add","path":"title","value":"x"}""", PatchRequest.MaxOperations + 1));
        AssertScimError(400, "invalidValue", () => Parse($$"""{"Operations":[{{ops}}]}"""));
    }

    [Fact]
    public void ValueIsDetachedCopy()
    {
        var body = JsonNode.Parse("""{"Operations":[{"op":"add","path":"members","value":[{"value":"u1"}]}]}""")!;
        var request = PatchRequest.Parse(body);
        body["Operations"]![0]!["value"]![0]!["value"] = "changed";
        Assert.Equal("""[{"value":"u1"}]""", request.Operations[0].Value!.ToJsonString());
    }
}
