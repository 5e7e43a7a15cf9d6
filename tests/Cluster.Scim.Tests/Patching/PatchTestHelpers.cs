using System.Text.Json.Nodes;
using Cluster.Scim.Errors;
using Cluster.Scim.Patching;
using Cluster.Scim.Schema;

namespace Cluster.Scim.Tests.Patching;

internal static class PatchTestHelpers
{
    public const string Ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    public static JsonObject Obj(string json) => JsonNode.Parse(json)!.AsObject();

    public static JsonObject PatchUser(string resource, string body) =>
        PatchApplier.Apply(Obj(resource), PatchRequest.Parse(JsonNode.Parse(body)), ScimSchemas.UserResource);

    public static JsonObject PatchGroup(string resource, string body) =>
        PatchApplier.Apply(Obj(resource), PatchRequest.Parse(JsonNode.Parse(body)), ScimSchemas.GroupResource);

    /// <summary>Wraps operations into a PatchOp body.</summary>
    public static string Ops(params string[] operations) =>
        $$"""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{{string.Join(",", operations)}}]}""";

    public static void AssertJson(string expected, JsonNode? actual)
    {
        var expectedNode = JsonNode.Parse(expected);
        Assert.True(
            JsonNode.DeepEquals(expectedNode, actual),
            $"Expected:\n{expectedNode?.ToJsonString()}\nActual:\n{actual?.ToJsonString()}");
    }

    public static ScimException AssertScimError(int status, string scimType, Action action)
    {
        var ex = Assert.Throws<ScimException>(action);
        Assert.Equal(status, ex.Status);
        Assert.Equal(scimType, ex.ScimType);
        return ex;
    }
}
