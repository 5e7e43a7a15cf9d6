using static Cluster.Scim.Tests.Patching.PatchTestHelpers;

namespace Cluster.Scim.Tests.Patching;

public class PatchApplierGroupTests
{
    private const string Group = """
        {"id":"g-1","displayName":"Sales","externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
         "members":[{"value":"u1"},{"value":"u2","display":"User Two"}],
         "meta":{"resourceType":"Group"}}
        """;

    private const string Empty = """{"id":"g-1","displayName":"Sales","meta":{"resourceType":"Group"}}""";

    [Fact]
    public void AddMembers_DefaultDialectWithNullRef()
    {
        var result = PatchGroup(Empty, """
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
             "Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"f648f8d5ea4e4cd38e9c"},{"value":"u2"}]}]}
            """);
        AssertJson("""
            {"id":"g-1","displayName":"Sales","members":[{"value":"f648f8d5ea4e4cd38e9c"},{"value":"u2"}],"meta":{"resourceType":"Group"}}
            """, result);
    }

    /// <summary>A member's value (and $ref, type) is set when it is added: changing it in place is refused (RFC 7643 §7, immutable).</summary>
    [Theory]
    [InlineData("""{"op":"replace","path":"members[value eq \"u1\"].value","value":"u9"}""")]
    [InlineData("""{"op":"add","path":"members[value eq \"u1\"].value","value":"u9"}""")]
    [InlineData("""{"op":"remove","path":"members[value eq \"u1\"].type"}""")]
    [InlineData("""{"op":"replace","path":"members.value","value":"u9"}""")]
    public void MemberValueChangedInPlace_IsRefusedAsImmutable(string operation) =>
        AssertScimError(400, "mutability", () => PatchGroup(Group, Ops(operation)));

    [Fact]
    public void AddExistingMember_NotDuplicated()
    {
        var result = PatchGroup(Group, Ops("""{"op":"Add","path":"members","value":[{"value":"u1"},{"value":"u3","type":"User"}]}"""));
        AssertJson("""[{"value":"u1"},{"value":"u2","display":"User Two"},{"value":"u3","type":"User"}]""", result["members"]);
    }

    [Fact]
    public void RemoveMembersWithValueArray_RemovesOnlyThoseMembers()
    {
        var result = PatchGroup(Group, """
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
             "Operations":[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"u1"}]}]}
            """);
        AssertJson("""{"id":"g-1","displayName":"Sales","externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","members":[{"value":"u2","display":"User Two"}],"meta":{"resourceType":"Group"}}""", result);
    }

    [Fact]
    public void RemoveMembersWithValueArray_UnknownMemberIsNoOp()
    {
        var result = PatchGroup(Group, Ops("""{"op":"Remove","path":"members","value":[{"value":"u1091"}]}"""));
        AssertJson(Group, result);
    }

    [Fact]
    public void RemoveMembersWithEmptyValueArray_RemovesNothing()
    {
        var result = PatchGroup(Group, Ops("""{"op":"Remove","path":"members","value":[]}"""));
        AssertJson(Group, result);
    }

    [Fact]
    public void RemoveMember_FlagDialectFilterPath()
    {
        var result = PatchGroup(
            """{"displayName":"G","members":[{"value":"7f4bc1a3-285e-48ae-8202-5accb43efb0e"},{"value":"u2"}]}""",
            Ops("""{"op":"remove","path":"members[value eq \"7f4bc1a3-285e-48ae-8202-5accb43efb0e\"]"}"""));
        AssertJson("""{"displayName":"G","members":[{"value":"u2"}]}""", result);
    }

    [Fact]
    public void RemoveMember_FilterMatchingNothing_IsNoOp()
    {
        var result = PatchGroup(Group, Ops("""{"op":"remove","path":"members[value eq \"nobody\"]"}"""));
        AssertJson(Group, result);
    }

    [Fact]
    public void RemoveLastMember_DropsMembersAttribute()
    {
        var result = PatchGroup(
            """{"displayName":"G","members":[{"value":"u1"}]}""",
            Ops("""{"op":"remove","path":"members[value eq \"u1\"]"}"""));
        AssertJson("""{"displayName":"G"}""", result);
    }

    [Fact]
    public void RemoveMembersWithoutValue_RemovesAll()
    {
        var result = PatchGroup(Group, Ops("""{"op":"remove","path":"members"}"""));
        AssertJson("""{"id":"g-1","displayName":"Sales","externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","meta":{"resourceType":"Group"}}""", result);
    }

    [Fact]
    public void ReplaceMembers_ValidatorAddMemberShape()
    {
        var result = PatchGroup(Group, Ops("""{"op":"replace","path":"members","value":[{"value":"u9"},{"value":"u8","$ref":null}]}"""));
        AssertJson("""[{"value":"u9"},{"value":"u8"}]""", result["members"]);
    }

    [Fact]
    public void AddThenRemoveSameMember_AppliedInOrder()
    {
        var result = PatchGroup(Empty, Ops(
            """{"op":"add","path":"members","value":[{"value":"u5"}]}""",
            """{"op":"remove","path":"members[value eq \"u5\"]"}"""));
        AssertJson(Empty, result);

        var readded = PatchGroup(Empty, Ops(
            """{"op":"Remove","path":"members","value":[{"value":"u5"}]}""",
            """{"op":"Add","path":"members","value":[{"value":"u5"}]}"""));
        AssertJson("""[{"value":"u5"}]""", readded["members"]);
    }

    [Fact]
    public void AddSingleMemberObject_IsWrapped()
    {
        var result = PatchGroup(Empty, Ops("""{"op":"add","path":"members","value":{"value":"u7"}}"""));
        AssertJson("""[{"value":"u7"}]""", result["members"]);
    }

    [Fact]
    public void ReplaceDisplayName()
    {
        var result = PatchGroup(Empty, Ops("""{"op":"Replace","path":"displayName","value":"1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}"""));
        AssertJson("""{"id":"g-1","displayName":"1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName","meta":{"resourceType":"Group"}}""", result);
    }

    [Fact]
    public void PathlessReplace_ExternalIdAndDisplayName()
    {
        var result = PatchGroup(Empty, Ops("""{"op":"replace","value":{"externalId":"ext-1"}}""", """{"op":"replace","value":{"displayName":"y"}}"""));
        AssertJson("""{"id":"g-1","displayName":"y","externalId":"ext-1","meta":{"resourceType":"Group"}}""", result);
    }

    [Fact]
    public void RemoveDisplayName_IsMutability()
    {
        AssertScimError(400, "mutability", () => PatchGroup(Group, Ops("""{"op":"remove","path":"displayName"}""")));
    }

    [Fact]
    public void ManagerPathOnGroup_IsInvalidPath()
    {
        AssertScimError(400, "invalidPath", () => PatchGroup(Group, Ops("""{"op":"add","path":"manager","value":"x"}""")));
    }

    [Fact]
    public void AddMembersAsBareStrings_IsInvalidValue()
    {
        AssertScimError(400, "invalidValue", () => PatchGroup(Group, Ops("""{"op":"add","path":"members","value":["u1"]}""")));
    }
}
