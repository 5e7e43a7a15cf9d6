using System.Text.Json.Nodes;
using Cluster.Scim.Patching;
using Cluster.Scim.Resources;
using Cluster.Scim.Schema;

namespace Cluster.Scim.Tests.Resources;

/// <summary>A password (writeOnly) is accepted but never stored, so it can never leak from storage or a response.</summary>
public sealed class WriteOnlyAttributeTests
{
    [Fact]
    public void PasswordOnCreateIsNotStored()
    {
        var input = JsonNode.Parse("""{"userName":"a@b.c","password":"hunter2","Password":"again"}""")!.AsObject();
        var stored = ResourceNormalizer.Normalize(input, ScimSchemas.UserResource);
        Assert.Equal("""{"userName":"a@b.c"}""", stored.ToJsonString());
    }

    [Fact]
    public void PasswordSetByPatchIsNotStored()
    {
        var user = JsonNode.Parse("""{"userName":"a@b.c"}""")!.AsObject();
        var patch = PatchRequest.Parse(JsonNode.Parse("""{"Operations":[{"op":"replace","path":"password","value":"hunter2"}]}"""));
        var patched = PatchApplier.Apply(user, patch, ScimSchemas.UserResource);
        Assert.Null(patched["password"]);
        Assert.DoesNotContain("hunter2", patched.ToJsonString(), StringComparison.Ordinal);
    }
}
