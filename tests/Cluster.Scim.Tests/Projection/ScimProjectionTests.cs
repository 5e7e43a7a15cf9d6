using System.Text.Json.Nodes;
using Cluster.Scim.Projection;
using Cluster.Scim.Schema;
using static Cluster.Scim.Tests.Patching.PatchTestHelpers;

namespace Cluster.Scim.Tests.Projection;

public class ScimProjectionTests
{
    private const string User = """
        {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
         "id":"u-1","externalId":"e-1","userName":"a@b","password":"secret",
         "name":{"givenName":"A","familyName":"B"},
         "emails":[{"value":"a@b","type":"work","primary":true},{"value":"h@b","type":"home"}],
         "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D","manager":{"value":"m1"}},
         "meta":{"resourceType":"User","location":"https://x/Users/u-1"}}
        """;

    private const string Group = """
        {"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g-1","externalId":"x","displayName":"G",
         "members":[{"value":"u1"}],"meta":{"resourceType":"Group"}}
        """;

    private static JsonObject ProjectUser(string? attributes, string? excluded) =>
        ScimProjection.Apply(Obj(User), ScimProjection.ParseList(attributes), ScimProjection.ParseList(excluded), ScimSchemas.UserResource);

    [Fact]
    public void NoParameters_DropsOnlyReturnedNever()
    {
        var result = ProjectUser(null, null);
        var expected = Obj(User);
        expected.Remove("password");
        AssertJson(expected.ToJsonString(), result);
    }

    [Fact]
    public void AttributesId_KeepsIdAndSchemasOnly()
    {
        AssertJson("""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"id":"u-1"}""", ProjectUser("id", null));
    }

    [Fact]
    public void Attributes_SubAttributesAndCaseInsensitiveNames()
    {
        var result = ProjectUser("userName, NAME.givenName,emails.value,meta", null);
        AssertJson("""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
             "id":"u-1","userName":"a@b","name":{"givenName":"A"},"emails":[{"value":"a@b"},{"value":"h@b"}],
             "meta":{"resourceType":"User","location":"https://x/Users/u-1"}}
            """, result);
    }

    [Fact]
    public void Attributes_ExtensionAttributeAndWholeExtension()
    {
        var one = ProjectUser($"{Ent}:department", null);
        AssertJson($$$$$"""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","{{{{{Ent}}}}}"],"id":"u-1","{{{{{Ent}}}}}":{"department":"D"}}""", one);

        var whole = ProjectUser(Ent, null);
        AssertJson($$$$$"""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","{{{{{Ent}}}}}"],"id":"u-1","{{{{{Ent}}}}}":{"department":"D","manager":{"value":"m1"}}}""", whole);

        var sub = ProjectUser($"{Ent}:manager.value", null);
        AssertJson($$$$$"""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","{{{{{Ent}}}}}"],"id":"u-1","{{{{{Ent}}}}}":{"manager":{"value":"m1"}}}""", sub);
    }

    [Fact]
    public void Attributes_PasswordNeverReturnedEvenWhenAsked()
    {
        Assert.False(ProjectUser("password,userName", null).ContainsKey("password"));
    }

    [Fact]
    public void Attributes_UnknownNamesIgnored()
    {
        AssertJson("""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"id":"u-1","userName":"a@b"}""", ProjectUser("userName,shoeSize,bad..name,", null));
    }

    [Fact]
    public void Excluded_RemovesListedButNeverIdOrSchemas()
    {
        var result = ProjectUser(null, $"id,schemas,emails,name.familyName,{Ent}:manager,meta");
        AssertJson($$$$$"""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","{{{{{Ent}}}}}"],"id":"u-1","externalId":"e-1","userName":"a@b",
             "name":{"givenName":"A"},"{{{{{Ent}}}}}":{"department":"D"}}
            """, result);
    }

    [Fact]
    public void Excluded_WholeExtensionAndUnknownNames()
    {
        var result = ProjectUser(null, $"{Ent},nonsense");
        Assert.False(result.ContainsKey(Ent));
        Assert.True(result.ContainsKey("emails"));
    }

    [Fact]
    public void AttributesWinOverExcluded()
    {
        AssertJson("""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"id":"u-1","userName":"a@b"}""", ProjectUser("userName", "userName"));
    }

    [Fact]
    public void Group_ExcludedMembers()
    {
        var result = ScimProjection.Apply(Obj(Group), null, ScimProjection.ParseList("members"), ScimSchemas.GroupResource);
        AssertJson("""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g-1","externalId":"x","displayName":"G","meta":{"resourceType":"Group"}}""", result);
    }

    [Fact]
    public void Group_AttributesId()
    {
        var result = ScimProjection.Apply(Obj(Group), ["id"], null, ScimSchemas.GroupResource);
        AssertJson("""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g-1"}""", result);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" , ")]
    public void ParseList_BlankIsNull(string? csv)
    {
        Assert.Null(ScimProjection.ParseList(csv));
    }

    /// <summary>
    /// An extension's <c>returned: always</c> attribute survives <c>excludedAttributes</c> naming the whole extension, as it
    /// survives naming the attribute itself (RFC 7643 §7); the extension's other attributes go. Until 2026-12-07 the whole
    /// extension went.
    /// </summary>
    [Fact]
    public void ExcludedAttributes_WholeExtensionKeepsItsAlwaysReturnedAttributes()
    {
        const string Urn = "urn:ietf:params:scim:schemas:extension:always:2.0:User";
        var type = ScimSchemas.Build([new() { Schema = Urn, ResourceType = "User", Attributes = [new() { Name = "tenantCode", Returned = "always" }, new() { Name = "site" }] }]).User;
        var user = Obj($$$"""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","{{{Urn}}}"],"id":"u-1","userName":"a@b","{{{Urn}}}":{"tenantCode":"T1","site":"S"}}""");

        var whole = ScimProjection.Apply(user, null, [Urn], type);
        AssertJson($$$"""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","{{{Urn}}}"],"id":"u-1","userName":"a@b","{{{Urn}}}":{"tenantCode":"T1"}}""", whole);
        var one = ScimProjection.Apply(user, null, [$"{Urn}:tenantCode", $"{Urn}:site"], type);
        AssertJson($$$"""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","{{{Urn}}}"],"id":"u-1","userName":"a@b","{{{Urn}}}":{"tenantCode":"T1"}}""", one);
        var enterprise = ProjectUser(null, Ent);
        Assert.False(enterprise.ContainsKey(Ent));
    }

    [Fact]
    public void ParseList_SplitsAndTrims()
    {
        Assert.Equal(["id", "name.givenName", "members"], ScimProjection.ParseList(" id ,name.givenName,,members"));
    }

    [Fact]
    public void ParseList_CountsRepeatsOnceAndRefusesMoreNamesThanAnyResourceHas()
    {
        // Each name is resolved for every resource rendered: half a million of them in a SearchRequest cost seconds per page.
        Assert.Equal(["userName", "id"], ScimProjection.ParseList(string.Join(',', Enumerable.Repeat("userName,USERNAME,id", 100_000))));
        Assert.Equal(ScimProjection.MaxListLength, ScimProjection.ParseList(string.Join(',', Enumerable.Range(0, ScimProjection.MaxListLength).Select(i => $"a{i}")))!.Count);
        AssertScimError(400, "invalidValue", () => ScimProjection.ParseList(string.Join(',', Enumerable.Range(0, ScimProjection.MaxListLength + 1).Select(i => $"a{i}"))));
    }

    [Fact]
    public void DoesNotMutateInput()
    {
        var input = Obj(User);
        var before = input.ToJsonString();
        ScimProjection.Apply(input, ["id"], null, ScimSchemas.UserResource);
        ScimProjection.Apply(input, null, ["emails"], ScimSchemas.UserResource);
        Assert.Equal(before, input.ToJsonString());
    }
}
