using System.Text.Json.Nodes;
using Cluster.Scim.Resources;
using Cluster.Scim.Schema;
using static Cluster.Scim.Tests.Patching.PatchTestHelpers;

namespace Cluster.Scim.Tests.Resources;

public class ResourceNormalizerTests
{
    private static JsonObject User(string json) => ResourceNormalizer.Normalize(Obj(json), ScimSchemas.UserResource);

    private static JsonObject Group(string json) => ResourceNormalizer.Normalize(Obj(json), ScimSchemas.GroupResource);

    [Fact]
    public void EntraCreateBody_DropsMetaSchemasAndEmptyRoles()
    {
        var result = User("""
            {
              "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                          "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
              "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
              "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
              "active": true,
              "emails": [{"primary": true, "type": "work", "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"}],
              "meta": {"resourceType": "User"},
              "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
              "roles": []
            }
            """);
        AssertJson("""
            {
              "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
              "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
              "active": true,
              "emails": [{"primary": true, "type": "work", "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"}],
              "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"}
            }
            """, result);
    }

    [Fact]
    public void LegacyCreateBody_NullsAndMalformedUrnKeyAreDropped()
    {
        var result = User("""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
             "userName":"UserName123","active":true,"addresses":null,"displayName":"John Smith",
             "emails":[{"primary":true,"type":"work","value":"john.smith@example.com"}],
             "externalId":"John.Smith","name":{"familyName":"Smith","givenName":"John"},
             "phoneNumbers":null,"title":null,
             "urn:ietf:params:scim:schemas:extension:enterprise:2.0User":{"manager":null,"department":"x"},
             "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":null,"manager":null,"employeeNumber":"E1"}}
            """);
        AssertJson("""
            {"userName":"UserName123","active":true,"displayName":"John Smith",
             "emails":[{"primary":true,"type":"work","value":"john.smith@example.com"}],
             "externalId":"John.Smith","name":{"familyName":"Smith","givenName":"John"},
             "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"E1"}}
            """, result);
    }

    [Fact]
    public void CaseVariantKeysAndUrn_MapToCanonicalNames()
    {
        var result = User("""
            {"UserName":"a","NAME":{"GivenName":"G"},"Emails":[{"Value":"a@b","Type":"work","Primary":"True"}],
             "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER":{"Department":"D","Manager":{"Value":"m1"}}}
            """);
        AssertJson($$$$$"""
            {"userName":"a","name":{"givenName":"G"},"emails":[{"value":"a@b","type":"work","primary":true}],
             "{{{{{Ent}}}}}":{"department":"D","manager":{"value":"m1"}}}
            """, result);
    }

    [Fact]
    public void FlatUrnPrefixedKeysAndBareExtensionNames_AreStoredUnderTheUrn()
    {
        var result = User("""
            {"userName":"a",
             "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"42",
             "department":"D",
             "urn:ietf:params:scim:schemas:core:2.0:User:title":"T"}
            """);
        AssertJson($$$$$"""{"userName":"a","{{{{{Ent}}}}}":{"employeeNumber":"42","department":"D"},"title":"T"}""", result);
    }

    [Theory]
    [InlineData("\"False\"", false)]
    [InlineData("\"false\"", false)]
    [InlineData("\"TRUE\"", true)]
    [InlineData("true", true)]
    [InlineData("false", false)]
    public void StringBooleans_AreCoerced(string active, bool expected)
    {
        var result = User($$"""{"userName":"a","active":{{active}},"emails":[{"value":"x","primary":{{active}}}]}""");
        Assert.Equal(expected, result["active"]!.GetValue<bool>());
        Assert.Equal(expected, result["emails"]![0]!["primary"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("\"yes\"")]
    [InlineData("1")]
    [InlineData("\"\"")]
    [InlineData("{}")]
    public void NonBoolean_IsInvalidValue(string active)
    {
        AssertScimError(400, "invalidValue", () => User($$"""{"userName":"a","active":{{active}}}"""));
    }

    [Theory]
    [InlineData("\"m1\"")]
    [InlineData("""{"value":"m1"}""")]
    [InlineData("""{"Value":"m1","$ref":"https://x/Users/m1","displayName":"Boss"}""")]
    [InlineData("""[{"$ref":"https://x/Users/m1","value":"m1"}]""")]
    public void ManagerShapes_StoredAsValueObject(string manager)
    {
        var result = User($$$$$"""{"userName":"a","{{{{{Ent}}}}}":{"manager":{{{{{manager}}}}}}}""");
        AssertJson($$$$$"""{"userName":"a","{{{{{Ent}}}}}":{"manager":{"value":"m1"}}}""", result);
    }

    [Theory]
    [InlineData("\"\"")]
    [InlineData("""{"value":""}""")]
    [InlineData("null")]
    [InlineData("[]")]
    public void EmptyManager_MeansNoManager(string manager)
    {
        var result = User($$$$$"""{"userName":"a","{{{{{Ent}}}}}":{"manager":{{{{{manager}}}}}}}""");
        AssertJson("""{"userName":"a"}""", result);
    }

    [Fact]
    public void ManagerWithNumberId_IsInvalidValue()
    {
        AssertScimError(400, "invalidValue", () => User($$$$$"""{"userName":"a","{{{{{Ent}}}}}":{"manager":{"value":5}}}"""));
    }

    [Fact]
    public void StringsStayExactlyAsSent()
    {
        var result = User("""{"userName":"  MiXeD@Example.COM ","phoneNumbers":[{"value":"+1 (555) 010-0000","type":"work"}],"displayName":""}""");
        AssertJson("""{"userName":"  MiXeD@Example.COM ","phoneNumbers":[{"value":"+1 (555) 010-0000","type":"work"}],"displayName":""}""", result);
    }

    [Fact]
    public void RolesWithJsonStringValues_StayStrings()
    {
        var result = User("""{"userName":"a","roles":[{"primary":"False","value":"{\"id\":\"06b0\",\"value\":\"25\"}"}]}""");
        AssertJson("""{"userName":"a","roles":[{"primary":false,"value":"{\"id\":\"06b0\",\"value\":\"25\"}"}]}""", result);
    }

    [Fact]
    public void SingleObjectForMultiValued_IsWrapped_NullElementsDropped()
    {
        var result = User("""{"userName":"a","emails":{"value":"a@b"},"phoneNumbers":[null,{"value":"1"}]}""");
        AssertJson("""{"userName":"a","emails":[{"value":"a@b"}],"phoneNumbers":[{"value":"1"}]}""", result);
    }

    [Fact]
    public void ReadOnlyAttributesFromClient_AreIgnored()
    {
        var result = User("""{"id":"client-id","userName":"a","groups":[{"value":"g1"}],"meta":{"created":"x"},"schemas":["x"]}""");
        AssertJson("""{"userName":"a"}""", result);
    }

    [Theory]
    [InlineData("""{"userName":"a","favoriteColor":"red"}""")]
    [InlineData("""{"userName":"a","name":{"nick":"x"}}""")]
    [InlineData("""{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"shoeSize":"9"}}""")]
    [InlineData("""{"userName":"a","name.givenName":"x"}""")]
    [InlineData("""{"userName":"a","urn:example:custom":"notAnObject"}""")]
    public void UnknownAttribute_IsInvalidSyntax(string json)
    {
        AssertScimError(400, "invalidSyntax", () => User(json));
    }

    [Theory]
    [InlineData("""{"displayName":"x"}""")]
    [InlineData("""{"userName":null}""")]
    [InlineData("""{"userName":""}""")]
    public void MissingUserName_IsInvalidValue(string json)
    {
        AssertScimError(400, "invalidValue", () => User(json));
    }

    [Theory]
    [InlineData("""{"userName":42}""")]
    [InlineData("""{"userName":"a","name":"x"}""")]
    [InlineData("""{"userName":"a","emails":["a@b"]}""")]
    [InlineData("""{"userName":"a","title":true}""")]
    [InlineData("""{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":"x"}""")]
    public void WrongTypes_AreInvalidValue(string json)
    {
        AssertScimError(400, "invalidValue", () => User(json));
    }

    [Fact]
    public void DeepNesting_IsInvalidValue()
    {
        var deep = new string('[', 40) + new string(']', 40);
        AssertScimError(400, "invalidValue", () => User($$"""{"userName":"a","emails":{{deep}}}"""));
    }

    [Fact]
    public void HugeArray_IsInvalidValue()
    {
        var items = string.Join(",", Enumerable.Range(0, 1001).Select(i => $$"""{"value":"e{{i}}"}"""));
        AssertScimError(400, "invalidValue", () => User($$"""{"userName":"a","emails":[{{items}}]}"""));
    }

    [Fact]
    public void DoesNotMutateInput()
    {
        var input = Obj("""{"UserName":"a","active":"True","meta":{"x":1}}""");
        var before = input.ToJsonString();
        ResourceNormalizer.Normalize(input, ScimSchemas.UserResource);
        Assert.Equal(before, input.ToJsonString());
    }

    [Fact]
    public void EntraGroupCreate_AdscimSchemaAndMetaIgnored()
    {
        var result = Group("""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group",
                        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
             "externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
             "displayName":"displayName",
             "meta":{"resourceType":"Group"}}
            """);
        AssertJson("""{"externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","displayName":"displayName"}""", result);
    }

    [Fact]
    public void GroupMembers_DropNullRefKeepDisplayAndType()
    {
        var result = Group("""{"displayName":"G","members":[{"$ref":null,"value":"u1"},{"Value":"u2","display":"Two","type":"User"}]}""");
        AssertJson("""{"displayName":"G","members":[{"value":"u1"},{"value":"u2","display":"Two","type":"User"}]}""", result);
    }

    [Fact]
    public void GroupWithoutDisplayName_IsInvalidValue()
    {
        AssertScimError(400, "invalidValue", () => Group("""{"externalId":"x"}"""));
    }

    [Fact]
    public void ExtensionAttributeOnGroup_IsInvalidSyntax()
    {
        AssertScimError(400, "invalidSyntax", () => Group("""{"displayName":"G","department":"x"}"""));
    }

    [Fact]
    public void AtMostOneValueOfAMultiValuedAttributeIsPrimaryTheLastSentKeepsIt()
    {
        // RFC 7643 §2.4; until 2026-12-07 a body or a whole-attribute replace with two primaries stored both.
        var stored = User("""{"userName":"a","emails":[{"value":"a@x","primary":true},{"value":"b@x","primary":"True"},{"value":"c@x"}]}""");
        Assert.Equal(
            """[{"value":"a@x","primary":false},{"value":"b@x","primary":true},{"value":"c@x"}]""",
            stored["emails"]!.ToJsonString());
    }
}
