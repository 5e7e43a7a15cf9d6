using System.Text.Json.Nodes;
using Cluster.Scim.Patching;
using Cluster.Scim.Schema;
using static Cluster.Scim.Tests.Patching.PatchTestHelpers;

namespace Cluster.Scim.Tests.Patching;

public class PatchApplierUserTests
{
    private const string User = """
        {"id":"u-1","userName":"bjensen@example.com","displayName":"Babs",
         "name":{"givenName":"Barbara","familyName":"Jensen"},
         "active":true,
         "emails":[{"value":"bjensen@example.com","type":"work","primary":true}],
         "meta":{"resourceType":"User","version":"W/\"1\""}}
        """;

    private const string Minimal = """{"id":"u-1","userName":"bjensen@example.com","meta":{"resourceType":"User"}}""";

    [Fact]
    public void AddsThatWouldGrowAnAttributePastItsLimitAreRefusedBeforeAnyIsApplied()
    {
        // Seventy adds of 1,000 addresses each (no "value": compared pairwise) would grow the array to 70,000 elements,
        // billions of comparisons, before the final check; a request now adds at most 1,000 elements in all, checked
        // before any is applied.
        var adds = Enumerable.Range(0, 70).Select(op =>
            $$"""{"op":"add","path":"addresses","value":[{{string.Join(",", Enumerable.Range(0, 1000).Select(i => $$"""{"country":"c{{op}}-{{i}}"}"""))}}]}""");
        var error = AssertScimError(400, "invalidValue", () => PatchUser(Minimal, Ops([.. adds])));
        Assert.Contains("1000", error.Message, StringComparison.Ordinal);

        // Adding the same elements again and again never grows the array, but each add still compares every element given
        // with every element present: a request adds at most 1,000 elements in all.
        var same = $$"""{"op":"add","path":"addresses","value":[{{string.Join(",", Enumerable.Range(0, 600).Select(i => $$"""{"country":"c{{i}}"}"""))}}]}""";
        AssertScimError(400, "invalidValue", () => PatchUser(Minimal, Ops(same, same)));

        // At the limit is fine.
        var fits = PatchUser(Minimal, Ops($$"""{"op":"add","path":"addresses","value":[{{string.Join(",", Enumerable.Range(0, 1000).Select(i => $$"""{"country":"c{{i}}"}"""))}}]}"""));
        Assert.Equal(1000, fits["addresses"]!.AsArray().Count);
    }

    [Fact]
    public void PathlessKeysValueFiltersAndRemovesByValueAreBoundedBeforeAnyIsApplied()
    {
        // Each key of a pathless value is applied as its own path: 36,000 value-filter keys in one operation (about 1 MiB)
        // matched each new key against every element the keys before it had created, about 6.5 × 10^8 filter evaluations
        // (minutes of a silo's CPU, a 503 to the client), before the final check refused the result. Keys now count as
        // operations, and a value filter that creates an element counts as an element added.
        string FilterKeys(int from, int count) => string.Join(",", Enumerable.Range(from, count).Select(i => $"\"ims[type eq k{i}].value\":\"a\""));
        var keys = AssertScimError(400, "invalidValue", () => PatchUser(Minimal, Ops("""{"op":"add","value":{""" + FilterKeys(0, 36_000) + "}}")));
        Assert.Contains("at most 1000 attributes", keys.Message, StringComparison.Ordinal);

        // 1,002 targets in 501 operations of two plain keys each.
        var pair = """{"op":"replace","value":{"displayName":"a","nickName":"b"}}""";
        AssertScimError(400, "invalidValue", () => PatchUser(Minimal, Ops([.. Enumerable.Repeat(pair, 501)])));

        // 900 elements added with a path, then 101 value-filter paths that each create one.
        var created = Enumerable.Range(0, 101).Select(i => $$"""{"op":"add","path":"ims[type eq \"k{{i}}\"].value","value":"a"}""");
        var list = $$"""{"op":"add","path":"ims","value":[{{string.Join(",", Enumerable.Range(0, 900).Select(i => $$"""{"value":"v{{i}}"}"""))}}]}""";
        var adds = AssertScimError(400, "invalidValue", () => PatchUser(Minimal, Ops([list, .. created])));
        Assert.Contains("add at most 1000 elements", adds.Message, StringComparison.Ordinal);

        // An add of one object to a multi-valued attribute is one element too.
        var thousand = $$"""{"op":"add","path":"ims","value":[{{string.Join(",", Enumerable.Range(0, 1000).Select(i => $$"""{"value":"v{{i}}"}"""))}}]}""";
        AssertScimError(400, "invalidValue", () => PatchUser(Minimal, Ops(thousand, """{"op":"add","path":"addresses","value":{"country":"x"}}""")));

        // A remove by value compares each element given with each present (pairwise without a string "value").
        var addresses = string.Join(",", Enumerable.Range(0, 600).Select(i => $$"""{"country":"c{{i}}"}"""));
        var remove = $$"""{"op":"remove","path":"addresses","value":[{{addresses}}]}""";
        var removes = AssertScimError(400, "invalidValue", () => PatchUser(Minimal, Ops(remove, remove)));
        Assert.Contains("remove", removes.Message, StringComparison.Ordinal);

        // Within the bounds: 1,000 value-filter keys create 1,000 elements; removes of 1,000 elements in all apply.
        var fits = PatchUser(Minimal, Ops("""{"op":"add","value":{""" + FilterKeys(0, 1000) + "}}"));
        Assert.Equal(1000, fits["ims"]!.AsArray().Count);
        var withAddresses = PatchUser(Minimal, Ops($$"""{"op":"add","path":"addresses","value":[{{addresses}}]}"""));
        var half = $$"""{"op":"remove","path":"addresses","value":[{{string.Join(",", Enumerable.Range(0, 500).Select(i => $$"""{"country":"c{{i}}"}"""))}}]}""";
        var rest = PatchUser(withAddresses.ToJsonString(), Ops(half, half));
        Assert.Equal(100, rest["addresses"]!.AsArray().Count);
    }

    // ---- §2.5.1 default dialect ----

    [Fact]
    public void DefaultDialect_ReplaceWorkEmailAndFamilyName()
    {
        var result = PatchUser(User, """
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
             "Operations":[
               {"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},
               {"op":"Replace","path":"name.familyName","value":"updatedFamilyName"}]}
            """);
        AssertJson("""
            {"id":"u-1","userName":"bjensen@example.com","displayName":"Babs",
             "name":{"givenName":"Barbara","familyName":"updatedFamilyName"},
             "active":true,
             "emails":[{"value":"updatedEmail@microsoft.com","type":"work","primary":true}],
             "meta":{"resourceType":"User","version":"W/\"1\""}}
            """, result);
    }

    [Fact]
    public void DefaultDialect_MultipleAttributes()
    {
        var result = PatchUser(Minimal, """
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
              {"op":"Replace","path":"displayName","value":"Pvlo"},
              {"op":"Replace","path":"emails[type eq \"work\"].value","value":"TestBcwqnm@test.microsoft.com"},
              {"op":"Replace","path":"name.givenName","value":"Gtfd"},
              {"op":"Replace","path":"name.familyName","value":"Pkqf"},
              {"op":"Replace","path":"externalId","value":"Eqpj"},
              {"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"Eqpj"}]}
            """);
        AssertJson("""
            {"id":"u-1","userName":"bjensen@example.com","displayName":"Pvlo",
             "emails":[{"type":"work","value":"TestBcwqnm@test.microsoft.com"}],
             "name":{"givenName":"Gtfd","familyName":"Pkqf"},
             "externalId":"Eqpj",
             "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"Eqpj"},
             "meta":{"resourceType":"User"}}
            """, result);
    }

    [Theory]
    [InlineData("Add")]
    [InlineData("add")]
    public void SingleValuedAdd_NickName(string op)
    {
        var result = PatchUser(Minimal, Ops($$$$$"""{"op":"{{{{{op}}}}}","path":"nickName","value":"Babs"}"""));
        AssertJson("""{"id":"u-1","userName":"bjensen@example.com","nickName":"Babs","meta":{"resourceType":"User"}}""", result);
    }

    [Fact]
    public void ReplaceUserName()
    {
        var result = PatchUser(Minimal, Ops("""{"op":"Replace","path":"userName","value":"5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}"""));
        AssertJson("""{"id":"u-1","userName":"5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com","meta":{"resourceType":"User"}}""", result);
    }

    [Fact]
    public void ReplaceNameSubAttribute_CreatesNameWhenMissing()
    {
        var result = PatchUser(Minimal, Ops("""{"op":"Replace","path":"name.familyName","value":"Jensen"}"""));
        AssertJson("""{"id":"u-1","userName":"bjensen@example.com","name":{"familyName":"Jensen"},"meta":{"resourceType":"User"}}""", result);
    }

    [Fact]
    public void ValueFilterPath_CreatesMissingAddressAndPhones()
    {
        var result = PatchUser(Minimal, Ops(
            """{"op":"Add","path":"addresses[type eq \"work\"].streetAddress","value":"1 Main St"}""",
            """{"op":"Add","path":"addresses[type eq \"work\"].locality","value":"Springfield"}""",
            """{"op":"Replace","path":"phoneNumbers[type eq \"mobile\"].value","value":"+1 555 0100"}""",
            """{"op":"Add","path":"phoneNumbers[type eq \"work\"].value","value":"+1 555 0101"}""",
            """{"op":"Add","path":"emails[type eq \"work\"].value","value":"b@x.com"}""",
            """{"op":"Add","path":"emails[type eq \"work\"].primary","value":"True"}"""));
        AssertJson("""
            {"id":"u-1","userName":"bjensen@example.com",
             "addresses":[{"type":"work","streetAddress":"1 Main St","locality":"Springfield"}],
             "phoneNumbers":[{"type":"mobile","value":"+1 555 0100"},{"type":"work","value":"+1 555 0101"}],
             "emails":[{"type":"work","value":"b@x.com","primary":true}],
             "meta":{"resourceType":"User"}}
            """, result);
    }

    [Fact]
    public void ValueFilterPath_UpdatesOnlyMatchingElement()
    {
        var result = PatchUser(
            """{"userName":"a","emails":[{"value":"h@x","type":"home"},{"value":"w@x","type":"work"}]}""",
            Ops("""{"op":"replace","path":"emails[type eq \"work\"].value","value":"new@x"}"""));
        AssertJson("""{"userName":"a","emails":[{"value":"h@x","type":"home"},{"value":"new@x","type":"work"}]}""", result);
    }

    [Fact]
    public void ValueFilterPath_WithAndCreatesElementFromAllEqComparisons()
    {
        var result = PatchUser(Minimal, Ops("""{"op":"add","path":"emails[type eq \"work\" and primary eq true].value","value":"w@x"}"""));
        AssertJson("""{"id":"u-1","userName":"bjensen@example.com","emails":[{"type":"work","primary":true,"value":"w@x"}],"meta":{"resourceType":"User"}}""", result);
    }

    [Fact]
    public void ValueFilterPath_WithOrAndNoMatch_IsNoTarget()
    {
        AssertScimError(400, "noTarget", () => PatchUser(Minimal, Ops(
            """{"op":"add","path":"emails[type eq \"work\" or type eq \"home\"].value","value":"w@x"}""")));
    }

    [Fact]
    public void ValueFilterPath_ReplaceWholeElementKeepsFilterValues()
    {
        var result = PatchUser(User, Ops("""{"op":"replace","path":"emails[type eq \"work\"]","value":{"value":"n@x"}}"""));
        Assert.Equal("""[{"type":"work","value":"n@x"}]""", result["emails"]!.ToJsonString());
    }

    [Fact]
    public void SettingPrimaryClearsOtherPrimaries()
    {
        var result = PatchUser(User, Ops("""{"op":"add","path":"emails","value":[{"value":"h@x","type":"home","primary":"True"}]}"""));
        AssertJson("""[{"value":"bjensen@example.com","type":"work","primary":false},{"value":"h@x","type":"home","primary":true}]""", result["emails"]);
    }

    // ---- §2.6 disable / enable ----

    [Theory]
    [InlineData("""{"op":"Replace","path":"active","value":"False"}""", false)]
    [InlineData("""{"op":"replace","path":"active","value":false}""", false)]
    [InlineData("""{"op":"Replace","path":"active","value":"false"}""", false)]
    [InlineData("""{"op":"Replace","path":"active","value":"True"}""", true)]
    [InlineData("""{"op":"replace","path":"active","value":true}""", true)]
    [InlineData("""{"op":"replace","value":{"active":"False"}}""", false)]
    public void Active_AcceptsBooleansAndStringBooleans(string operation, bool expected)
    {
        var result = PatchUser(User, Ops(operation));
        Assert.Equal(expected ? "true" : "false", result["active"]!.ToJsonString());
    }

    [Fact]
    public void Active_NonBooleanString_IsInvalidValue()
    {
        AssertScimError(400, "invalidValue", () => PatchUser(User, Ops("""{"op":"Replace","path":"active","value":"yes"}""")));
    }

    // ---- §2.5.2 aadOptscim062020 dialect: pathless with dotted and URN keys ----

    [Fact]
    public void FlagDialect_PathlessReplaceWithDottedAndUrnKeys()
    {
        var result = PatchUser(User, """
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
              {"op":"replace","path":"emails[type eq \"work\"].value","value":"TestMhvaes@test.microsoft.com"},
              {"op":"replace","value":{
                  "displayName":"Bjfe",
                  "name.givenName":"Kkom",
                  "name.familyName":"Unua",
                  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"Aklq"}}]}
            """);
        AssertJson("""
            {"id":"u-1","userName":"bjensen@example.com","displayName":"Bjfe",
             "name":{"givenName":"Kkom","familyName":"Unua"},
             "active":true,
             "emails":[{"value":"TestMhvaes@test.microsoft.com","type":"work","primary":true}],
             "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"Aklq"},
             "meta":{"resourceType":"User","version":"W/\"1\""}}
            """, result);
        Assert.False(result.ContainsKey("name.givenName"));
    }

    [Fact]
    public void FlagDialect_PathlessAddWithDottedKeys()
    {
        var result = PatchUser(Minimal, Ops("""
            {"op":"add","value":{"displayName":"Foo Bar","title":"Bar Foo","name.givenName":"Foo","name.familyName":"Bar","name.formatted":"Foo Bar"}}
            """));
        AssertJson("""
            {"id":"u-1","userName":"bjensen@example.com","displayName":"Foo Bar","title":"Bar Foo",
             "name":{"givenName":"Foo","familyName":"Bar","formatted":"Foo Bar"},"meta":{"resourceType":"User"}}
            """, result);
    }

    [Fact]
    public void Pathless_NestedComplexObjectMergesSubAttributes()
    {
        var result = PatchUser(User, Ops("""{"op":"replace","value":{"Name":{"GivenName":"Bab"}}}"""));
        AssertJson("""{"givenName":"Bab","familyName":"Jensen"}""", result["name"]);
    }

    [Fact]
    public void Pathless_ExtensionUrnObject()
    {
        var result = PatchUser(
            $$$$$"""{"userName":"a","{{{{{Ent}}}}}":{"employeeNumber":"1"}}""",
            Ops($$$$$"""{"op":"replace","value":{"{{{{{Ent}}}}}":{"department":"Sales"}}}"""));
        AssertJson($$$$$"""{"userName":"a","{{{{{Ent}}}}}":{"employeeNumber":"1","department":"Sales"}}""", result);
    }

    [Fact]
    public void Pathless_UnknownKey_IsInvalidPath()
    {
        AssertScimError(400, "invalidPath", () => PatchUser(User, Ops("""{"op":"replace","value":{"favoriteColor":"red"}}""")));
    }

    [Fact]
    public void Pathless_SchemasKeyIgnored_MalformedUrnKeyIgnored()
    {
        var result = PatchUser(Minimal, Ops("""
            {"op":"replace","value":{"schemas":["x"],"urn:ietf:params:scim:schemas:extension:enterprise:2.0User":{"department":"x"},"title":"T"}}
            """));
        AssertJson("""{"id":"u-1","userName":"bjensen@example.com","title":"T","meta":{"resourceType":"User"}}""", result);
    }

    [Fact]
    public void Pathless_NonObjectValue_IsInvalidValue()
    {
        AssertScimError(400, "invalidValue", () => PatchUser(User, Ops("""{"op":"replace","value":"x"}""")));
    }

    // ---- manager (§2.5.1, §3.4, §7.1) ----

    [Theory]
    [InlineData("""{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2"}""")]
    [InlineData("""{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2"}""")]
    [InlineData("""{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2"}}""")]
    [InlineData("""{"op":"Add","path":"manager","value":[{"$ref":"http://example.com/scim/Users/2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2","value":"2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2"}]}""")]
    [InlineData("""{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value","value":"2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2"}""")]
    [InlineData("""{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager":"2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2"}}""")]
    [InlineData("""{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"Value":"2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2","displayName":"Boss","$ref":"../Users/2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2"}}""")]
    public void Manager_AllShapesStoredAsValueObject(string operation)
    {
        var result = PatchUser(Minimal, Ops(operation));
        AssertJson($$$$$"""
            {"id":"u-1","userName":"bjensen@example.com",
             "{{{{{Ent}}}}}":{"manager":{"value":"2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2"}},
             "meta":{"resourceType":"User"}}
            """, result);
    }

    [Fact]
    public void Manager_ReplaceExisting()
    {
        var result = PatchUser(
            $$$$$"""{"userName":"a","{{{{{Ent}}}}}":{"department":"D","manager":{"value":"m1"}}}""",
            Ops($$$$$"""{"op":"replace","path":"{{{{{Ent}}}}}:manager","value":{"value":"m2"}}"""));
        AssertJson($$$$$"""{"userName":"a","{{{{{Ent}}}}}":{"department":"D","manager":{"value":"m2"}}}""", result);
    }

    [Theory]
    [InlineData("""{"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}""")]
    [InlineData("""{"op":"remove","path":"manager[value eq \"m1\"]"}""")]
    [InlineData("""{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":""}}""")]
    [InlineData("""{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":""}""")]
    [InlineData("""{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":null}""")]
    public void Manager_Removal(string operation)
    {
        var result = PatchUser(
            $$$$$"""{"userName":"a","{{{{{Ent}}}}}":{"department":"D","manager":{"value":"m1"}}}""",
            Ops(operation));
        AssertJson($$$$$"""{"userName":"a","{{{{{Ent}}}}}":{"department":"D"}}""", result);
    }

    [Fact]
    public void Manager_RemovalOfOnlyExtensionValueDropsExtensionObject()
    {
        var result = PatchUser(
            $$$$$"""{"userName":"a","{{{{{Ent}}}}}":{"manager":{"value":"m1"}}}""",
            Ops($$$$$"""{"op":"Remove","path":"{{{{{Ent}}}}}:manager"}"""));
        AssertJson("""{"userName":"a"}""", result);
    }

    [Fact]
    public void Manager_RemoveWithNonMatchingFilter_IsNoOp()
    {
        var result = PatchUser(
            $$$$$"""{"userName":"a","{{{{{Ent}}}}}":{"manager":{"value":"m1"}}}""",
            Ops("""{"op":"remove","path":"manager[value eq \"other\"]"}"""));
        AssertJson($$$$$"""{"userName":"a","{{{{{Ent}}}}}":{"manager":{"value":"m1"}}}""", result);
    }

    // ---- roles (§2.5.1 Q10) ----

    [Fact]
    public void Roles_AddWithJsonStringValues_AppendsAndKeepsStrings()
    {
        var result = PatchUser(
            """{"userName":"a","roles":[{"primary":true,"type":"WindowsAzureActiveDirectoryRole","value":"Admin"}]}""",
            Ops("""{"op":"Add","path":"roles","value":[{"value":"{\"id\":\"06b07648-ecfe-589f-9d2f-6325724a46ee\",\"value\":\"25\",\"displayName\":\"Role1234\"}"}]}"""));
        AssertJson("""
            {"userName":"a","roles":[
              {"primary":true,"type":"WindowsAzureActiveDirectoryRole","value":"Admin"},
              {"value":"{\"id\":\"06b07648-ecfe-589f-9d2f-6325724a46ee\",\"value\":\"25\",\"displayName\":\"Role1234\"}"}]}
            """, result);
    }

    [Fact]
    public void Roles_AddSameValueTwice_NotDuplicated()
    {
        var result = PatchUser(
            """{"userName":"a","roles":[{"value":"Admin"}]}""",
            Ops("""{"op":"Add","path":"roles","value":[{"value":"Admin"},{"value":"Reader","primary":"False"}]}"""));
        AssertJson("""{"userName":"a","roles":[{"value":"Admin"},{"value":"Reader","primary":false}]}""", result);
    }

    [Fact]
    public void Roles_ReplaceReplacesWholeArray()
    {
        var result = PatchUser(
            """{"userName":"a","roles":[{"value":"Admin"},{"value":"Old"}]}""",
            Ops("""{"op":"replace","path":"roles","value":[{"value":"R1","primary":"True"},{"value":"R2"}]}"""));
        AssertJson("""{"userName":"a","roles":[{"value":"R1","primary":true},{"value":"R2"}]}""", result);
    }

    // ---- nulls and empty strings (§7.2 SCIM_Null_Update_Test) ----

    [Fact]
    public void ReplaceWithEmptyString_StoresEmptyString()
    {
        var result = PatchUser(User, Ops("""{"op":"replace","path":"displayName","value":""}""", """{"op":"replace","path":"name.givenName","value":""}"""));
        Assert.Equal("\"\"", result["displayName"]!.ToJsonString());
        Assert.Equal("\"\"", result["name"]!["givenName"]!.ToJsonString());
    }

    [Fact]
    public void ReplaceWithNull_RemovesAttribute()
    {
        var result = PatchUser(User, Ops(
            """{"op":"replace","path":"displayName","value":null}""",
            """{"op":"replace","path":"name.givenName","value":null}""",
            """{"op":"replace","value":{"active":null}}"""));
        AssertJson("""
            {"id":"u-1","userName":"bjensen@example.com","name":{"familyName":"Jensen"},
             "emails":[{"value":"bjensen@example.com","type":"work","primary":true}],
             "meta":{"resourceType":"User","version":"W/\"1\""}}
            """, result);
    }

    [Fact]
    public void RemoveWithPath_RemovesAttributeAndSubAttribute()
    {
        var result = PatchUser(User, Ops(
            """{"op":"Remove","path":"displayName"}""",
            """{"op":"Remove","path":"name.familyName"}""",
            """{"op":"Remove","path":"emails[type eq \"work\"]"}"""));
        AssertJson("""{"id":"u-1","userName":"bjensen@example.com","name":{"givenName":"Barbara"},"active":true,"meta":{"resourceType":"User","version":"W/\"1\""}}""", result);
    }

    [Fact]
    public void RemoveWithFilterMatchingNothing_IsNoOp()
    {
        var result = PatchUser(User, Ops("""{"op":"remove","path":"emails[type eq \"home\"]"}""", """{"op":"remove","path":"nickName"}"""));
        AssertJson(User, result);
    }

    // ---- errors ----

    [Fact]
    public void RemoveWithoutPath_IsNoTarget()
    {
        AssertScimError(400, "noTarget", () => PatchUser(User, Ops("""{"op":"remove"}""")));
    }

    [Theory]
    [InlineData("""{"op":"replace","path":"id","value":"x"}""")]
    [InlineData("""{"op":"remove","path":"meta"}""")]
    [InlineData("""{"op":"add","path":"groups","value":[{"value":"g1"}]}""")]
    [InlineData("""{"op":"replace","value":{"id":"x"}}""")]
    [InlineData("""{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName","value":"x"}""")]
    public void ReadOnlyAttributes_AreMutabilityErrors(string operation)
    {
        AssertScimError(400, "mutability", () => PatchUser(User, Ops(operation)));
    }

    [Theory]
    [InlineData("""{"op":"remove","path":"userName"}""")]
    [InlineData("""{"op":"replace","path":"userName","value":null}""")]
    public void RemovingRequiredAttribute_IsMutability(string operation)
    {
        AssertScimError(400, "mutability", () => PatchUser(User, Ops(operation)));
    }

    [Theory]
    [InlineData("""{"op":"replace","path":"favoriteColor","value":"x"}""")]
    [InlineData("""{"op":"replace","path":"name.nickname","value":"x"}""")]
    [InlineData("""{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:shoeSize","value":"x"}""")]
    [InlineData("""{"op":"replace","path":"urn:example:unknown:2.0:User:x","value":"x"}""")]
    [InlineData("""{"op":"replace","path":"emails[foo eq \"x\"].value","value":"x"}""")]
    [InlineData("""{"op":"replace","path":"userName[value eq \"x\"]","value":"x"}""")]
    public void UnknownPath_IsInvalidPath(string operation)
    {
        AssertScimError(400, "invalidPath", () => PatchUser(User, Ops(operation)));
    }

    [Theory]
    [InlineData("""{"op":"replace","path":"displayName","value":42}""")]
    [InlineData("""{"op":"replace","path":"name","value":"x"}""")]
    [InlineData("""{"op":"replace","path":"emails","value":["x"]}""")]
    [InlineData("""{"op":"replace","path":"userName","value":{"a":1}}""")]
    [InlineData("""{"op":"replace","path":"userName","value":""}""")]
    public void WrongValueType_IsInvalidValue(string operation)
    {
        AssertScimError(400, "invalidValue", () => PatchUser(User, Ops(operation)));
    }

    [Fact]
    public void UnknownSubAttributeInValue_IsInvalidSyntax()
    {
        AssertScimError(400, "invalidSyntax", () => PatchUser(User, Ops("""{"op":"add","path":"emails","value":[{"value":"x","label":"y"}]}""")));
    }

    [Fact]
    public void Atomic_SecondOperationInvalid_InputUnchangedAndThrows()
    {
        var resource = Obj(User);
        var before = resource.ToJsonString();
        var request = PatchRequest.Parse(JsonNode.Parse(Ops(
            """{"op":"replace","path":"displayName","value":"Changed"}""",
            """{"op":"replace","path":"emails[type eq \"work\"].value","value":"changed@x"}""",
            """{"op":"replace","path":"id","value":"x"}""")));
        var ex = Assert.Throws<Cluster.Scim.Errors.ScimException>(() => PatchApplier.Apply(resource, request, ScimSchemas.UserResource));
        Assert.Equal("mutability", ex.ScimType);
        Assert.Equal(before, resource.ToJsonString());
    }

    [Fact]
    public void Apply_DoesNotMutateInputOnSuccess()
    {
        var resource = Obj(User);
        var before = resource.ToJsonString();
        PatchApplier.Apply(resource, PatchRequest.Parse(JsonNode.Parse(Ops("""{"op":"replace","path":"name.givenName","value":"X"}"""))), ScimSchemas.UserResource);
        Assert.Equal(before, resource.ToJsonString());
    }

    [Fact]
    public void Validator_MultipleOpsOnSameAttribute_AppliedInOrder()
    {
        var result = PatchUser(User, Ops(
            """{"op":"replace","path":"displayName","value":"One"}""",
            """{"op":"replace","path":"displayName","value":"Two"}""",
            """{"op":"add","path":"title","value":"T"}""",
            """{"op":"remove","path":"title"}"""));
        Assert.Equal("\"Two\"", result["displayName"]!.ToJsonString());
        Assert.False(result.ContainsKey("title"));
    }

    [Fact]
    public void Validator_ReplaceAttributesVerbose_LowercaseOpsAndStringPrimary()
    {
        var result = PatchUser(Minimal, Ops(
            """{"op":"replace","path":"userName","value":"dale.mohr@romaguera.uk"}""",
            """{"op":"replace","path":"active","value":true}""",
            """{"op":"replace","path":"displayName","value":"Dale"}""",
            """{"op":"replace","path":"title","value":"Engineer"}""",
            """{"op":"replace","path":"emails[type eq \"work\"].value","value":"dale@x.uk"}""",
            """{"op":"replace","path":"emails[type eq \"work\"].primary","value":true}""",
            """{"op":"replace","path":"preferredLanguage","value":"en-GB"}""",
            """{"op":"replace","path":"name.givenName","value":"Dale"}""",
            """{"op":"replace","path":"name.familyName","value":"Mohr"}""",
            """{"op":"replace","path":"name.formatted","value":"Dale Mohr"}""",
            """{"op":"replace","path":"addresses[type eq \"work\"].formatted","value":"F"}""",
            """{"op":"replace","path":"addresses[type eq \"work\"].postalCode","value":"PC"}""",
            """{"op":"replace","path":"addresses[type eq \"work\"].country","value":"UK"}""",
            """{"op":"replace","path":"phoneNumbers[type eq \"fax\"].value","value":"1"}""",
            """{"op":"replace","path":"roles","value":[{"primary":"True","display":"R","value":"r","type":"t"}]}""",
            """{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Dep"}""",
            """{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m9"}"""));
        AssertJson($$$$$"""
            {"id":"u-1","userName":"dale.mohr@romaguera.uk","active":true,"displayName":"Dale","title":"Engineer",
             "emails":[{"type":"work","value":"dale@x.uk","primary":true}],
             "preferredLanguage":"en-GB",
             "name":{"givenName":"Dale","familyName":"Mohr","formatted":"Dale Mohr"},
             "addresses":[{"type":"work","formatted":"F","postalCode":"PC","country":"UK"}],
             "phoneNumbers":[{"type":"fax","value":"1"}],
             "roles":[{"primary":true,"display":"R","value":"r","type":"t"}],
             "{{{{{Ent}}}}}":{"department":"Dep","manager":{"value":"m9"}},
             "meta":{"resourceType":"User"}}
            """, result);
    }

    [Fact]
    public void PathIsCaseInsensitive()
    {
        var result = PatchUser(User, Ops(
            """{"op":"Replace","path":"Name.FamilyName","value":"J"}""",
            """{"op":"Replace","path":"EMAILS[Type eq \"work\"].Value","value":"w@x"}""",
            """{"op":"Replace","path":"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:Department","value":"D"}"""));
        AssertJson($$$$$"""
            {"id":"u-1","userName":"bjensen@example.com","displayName":"Babs",
             "name":{"givenName":"Barbara","familyName":"J"},"active":true,
             "emails":[{"value":"w@x","type":"work","primary":true}],
             "{{{{{Ent}}}}}":{"department":"D"},
             "meta":{"resourceType":"User","version":"W/\"1\""}}
            """, result);
    }

    [Fact]
    public void ExtensionUrnAsPath_ReplacesListedExtensionAttributes()
    {
        var result = PatchUser(
            $$$$$"""{"userName":"a","{{{{{Ent}}}}}":{"employeeNumber":"1"}}""",
            Ops($$$$$"""{"op":"replace","path":"{{{{{Ent}}}}}","value":{"costCenter":"CC"}}"""));
        AssertJson($$$$$"""{"userName":"a","{{{{{Ent}}}}}":{"employeeNumber":"1","costCenter":"CC"}}""", result);
    }
}
