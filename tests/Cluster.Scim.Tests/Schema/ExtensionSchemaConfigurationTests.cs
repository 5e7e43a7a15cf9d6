using Cluster.Scim.Schema;

namespace Cluster.Scim.Tests.Schema;

/// <summary>
/// <c>Scim:Extensions</c> is validated when a host starts: every mistake fails start-up with a message naming the entry
/// and the rule, instead of a server that silently accepts or advertises something it cannot honour.
/// </summary>
public sealed class ExtensionSchemaConfigurationTests
{
    [Fact]
    public void ValidConfigurationBuildsResourceTypesWithTheExtensions()
    {
        var set = ScimSchemas.Build(AcmeExtension.Options());

        Assert.Equal([ScimConstants.EnterpriseUserSchema, AcmeExtension.Urn], set.User.Extensions.Select(e => e.Schema.Id));
        Assert.Equal([AcmeExtension.GroupUrn], set.Group.Extensions.Select(e => e.Schema.Id));
        var acme = set.User.FindExtension(AcmeExtension.Urn)!;
        Assert.Equal("AcmeUser", acme.Name);
        Assert.Equal("Group", set.Group.Extensions[0].Schema.Name); // default: the URN's last segment
        Assert.Equal(Mutability.Immutable, acme.FindAttribute("badgeId")!.Mutability);
        var pin = acme.FindAttribute("pin")!;
        Assert.Equal((Mutability.WriteOnly, Returned.Never, true), (pin.Mutability, pin.Returned, pin.Stored));
        Assert.Equal(AttributeType.Integer, acme.FindAttribute("score")!.Type);
        Assert.Equal(AttributeType.Integer, acme.FindAttribute("office")!.FindSubAttribute("floor")!.Type);
        Assert.True(acme.FindAttribute("tags")!.MultiValued);
        Assert.True(acme.FindAttribute("site")!.Required);
        Assert.Equal(5, set.Schemas.Count);

        // The one resolver finds extension attributes with and without their URN.
        Assert.Same(acme, set.User.Resolve(AttributePath.Parse($"{AcmeExtension.Urn}:site"))!.Schema);
        Assert.Same(acme, set.User.Resolve(AttributePath.Parse("office.floor"))!.Schema);
    }

    [Fact]
    public void NoConfigurationServesTheBuiltInsOnly()
    {
        var set = ScimSchemas.Build(null);
        Assert.Equal([ScimConstants.EnterpriseUserSchema], set.User.Extensions.Select(e => e.Schema.Id));
        Assert.Empty(set.Group.Extensions);
        Assert.Equal(3, set.Schemas.Count);
    }

    [Fact]
    public void ValuesAreCaseInsensitiveAndRequiredExtensionIsKept()
    {
        var set = ScimSchemas.Build([new()
        {
            Schema = "urn:example:params:Thing:1.0:User",
            Required = true,
            Attributes = [new() { Name = "level", Type = "Decimal", Mutability = "READONLY", Returned = "Request" }],
        }]);
        var extension = set.User.Extensions.Single(e => e.Schema.Id == "urn:example:params:Thing:1.0:User");
        Assert.True(extension.Required);
        var level = extension.Schema.FindAttribute("level")!;
        Assert.Equal((AttributeType.Decimal, Mutability.ReadOnly, Returned.Request), (level.Type, level.Mutability, level.Returned));
    }

    public static TheoryData<string, string> Invalid() => new()
    {
        { """{"Schema":"","Attributes":[{"Name":"a"}]}""", "'Schema' must be a URN" },
        { """{"Schema":"acme:2.0:User","Attributes":[{"Name":"a"}]}""", "'Schema' must be a URN" },
        { """{"Schema":"urn:acme:2.0 User","Attributes":[{"Name":"a"}]}""", "'Schema' must be a URN" },
        { """{"Schema":"urn:acme:User:","Attributes":[{"Name":"a"}]}""", "'Schema' must be a URN" },
        { """{"Schema":"urn:acme:User[x]","Attributes":[{"Name":"a"}]}""", "'Schema' must be a URN" },
        { """{"Schema":"urn:acme:scim:2.0","Attributes":[{"Name":"a"}]}""", "'Schema' must be a URN" }, // no PATCH path could name it
        { """{"Schema":"urn:acme:user:v2.0","Attributes":[{"Name":"a"}]}""", "'Schema' must be a URN" },
        { """{"Schema":"urn:ietf:params:scim:schemas:core:2.0:User","Attributes":[{"Name":"a"}]}""", "already defined" },
        { """{"Schema":"URN:IETF:params:scim:schemas:extension:enterprise:2.0:User","Attributes":[{"Name":"a"}]}""", "already defined" },
        { """{"Schema":"urn:acme:User","ResourceType":"Device","Attributes":[{"Name":"a"}]}""", "'ResourceType' must be 'User' or 'Group'" },
        { """{"Schema":"urn:acme:User","Attributes":[]}""", "at least one attribute" },
        { """{"Schema":"urn:acme:User","Attributes":[{"Name":"1st"}]}""", "a name must start with a letter" },
        { """{"Schema":"urn:acme:User","Attributes":[{"Name":"a.b"}]}""", "a name must start with a letter" },
        { """{"Schema":"urn:acme:User","Attributes":[{"Name":"a"},{"Name":"A"}]}""", "defined twice" },
        { """{"Schema":"urn:acme:User","Attributes":[{"Name":"a","Type":"text"}]}""", "unknown 'Type' 'text'" },
        { """{"Schema":"urn:acme:User","Attributes":[{"Name":"a","Type":"1"}]}""", "unknown 'Type' '1'" },
        { """{"Schema":"urn:acme:User","Attributes":[{"Name":"a","Mutability":"writeOnce"}]}""", "unknown 'Mutability' 'writeOnce'" },
        { """{"Schema":"urn:acme:User","Attributes":[{"Name":"a","Returned":"sometimes"}]}""", "unknown 'Returned' 'sometimes'" },
        { """{"Schema":"urn:acme:User","Attributes":[{"Name":"a","Uniqueness":"server"}]}""", "'Uniqueness' must be 'none'" },
        { """{"Schema":"urn:acme:User","Attributes":[{"Name":"a","Mutability":"writeOnly","Returned":"default"}]}""", "must have 'Returned' never" },
        { """{"Schema":"urn:acme:User","Attributes":[{"Name":"a","Mutability":"readOnly","Required":true}]}""", "cannot be required" },
        { """{"Schema":"urn:acme:User","Attributes":[{"Name":"a","Type":"complex"}]}""", "needs 'SubAttributes'" },
        { """{"Schema":"urn:acme:User","Attributes":[{"Name":"a","SubAttributes":[{"Name":"b"}]}]}""", "only complex attributes" },
        { """{"Schema":"urn:acme:User","Attributes":[{"Name":"a","Type":"complex","SubAttributes":[{"Name":"b","Type":"complex","SubAttributes":[{"Name":"c"}]}]}]}""", "cannot be complex" },
        { """{"Schema":"urn:acme:User","Attributes":[{"Name":"a","Type":"complex","SubAttributes":[{"Name":"b","Mutability":"readOnly"}]}]}""", "not supported on sub-attributes" },
        { """{"Schema":"urn:acme:User","Attributes":[{"Name":"a","Type":"complex","SubAttributes":[{"Name":"b","Returned":"always"}]}]}""", "not supported on sub-attributes" },
        { """{"Schema":"urn:acme:User","Attributes":[{"Name":"a","Type":"complex","SubAttributes":[{"Name":"b","Returned":"request"}]}]}""", "not supported on sub-attributes" },
        { """{"Schema":"urn:acme:User","Attributes":[{"Name":"a","Type":"complex","MultiValued":true,"SubAttributes":[{"Name":"b","Mutability":"immutable"}]}]}""", "is not enforced" },
        { """{"Schema":"urn:acme:User","Attributes":[{"Name":"userName"}]}""", "clashes with the core User attribute" },
        { """{"Schema":"urn:acme:User","Attributes":[{"Name":"externalId"}]}""", "clashes with the core User attribute" },
        { """{"Schema":"urn:acme:Group","ResourceType":"Group","Attributes":[{"Name":"Members"}]}""", "clashes with the core Group attribute" },
        { """{"Schema":"urn:acme:User","Attributes":[{"Name":"department"}]}""", "already defined by extension 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void InvalidConfigurationFailsWithAClearMessage(string extension, string message)
    {
        var options = System.Text.Json.JsonSerializer.Deserialize<ExtensionSchemaOptions>(extension)!;
        var error = Assert.Throws<InvalidOperationException>(() => ScimSchemas.Build([new() { Schema = "urn:ok:User", Attributes = [new() { Name = "fine" }] }, options]));
        Assert.StartsWith("Invalid Scim:Extensions[1]", error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateSchemaAndAttributeAcrossExtensionsFail()
    {
        var duplicate = Assert.Throws<InvalidOperationException>(() => ScimSchemas.Build([.. AcmeExtension.Options(), .. AcmeExtension.Options()]));
        Assert.Contains($"Scim:Extensions[2] ({AcmeExtension.Urn}): the schema URN is already defined", duplicate.Message, StringComparison.Ordinal);

        var clash = Assert.Throws<InvalidOperationException>(() => ScimSchemas.Build(
        [
            .. AcmeExtension.Options(),
            new() { Schema = "urn:other:User", Attributes = [new() { Name = "SITE" }] },
        ]));
        Assert.Contains($"attribute 'SITE' is already defined by extension '{AcmeExtension.Urn}'", clash.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSameConfigurationHasTheSameFingerprint()
    {
        Assert.Equal(ScimSchemas.Build(AcmeExtension.Options()).Fingerprint, ScimSchemas.Build(AcmeExtension.Options()).Fingerprint);
        var changed = AcmeExtension.Options();
        changed[0].Attributes[1].Mutability = "readWrite";
        Assert.NotEqual(ScimSchemas.Build(AcmeExtension.Options()).Fingerprint, ScimSchemas.Build(changed).Fingerprint);
    }
}
