using Cluster.Scim.Errors;
using Cluster.Scim.Filtering;
using Cluster.Scim.Patching;

namespace Cluster.Scim.Tests.Filtering;

public class PatchPathTests
{
    private const string Enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    [Theory]
    // path, urn, attribute, attribute's sub-attribute, value filter (formatted), sub-attribute after the filter
    [InlineData("userName", null, "userName", null, null, null)]
    [InlineData("name.givenName", null, "name", "givenName", null, null)]
    [InlineData("emails[type eq \"work\"].value", null, "emails", null, "type eq \"work\"", "value")]
    [InlineData("emails[type eq \"work\" and primary eq true]", null, "emails", null, "(type eq \"work\" and primary eq true)", null)]
    [InlineData("members[value eq \"id\"]", null, "members", null, "value eq \"id\"", null)]
    [InlineData("members[value eq \"7f4bc1a3-285e-48ae-8202-5accb43efb0e\"]", null, "members", null, "value eq \"7f4bc1a3-285e-48ae-8202-5accb43efb0e\"", null)]
    [InlineData(Enterprise + ":manager", Enterprise, "manager", null, null, null)]
    [InlineData(Enterprise + ":manager.value", Enterprise, "manager", "value", null, null)]
    [InlineData(Enterprise + ":employeeNumber", Enterprise, "employeeNumber", null, null, null)]
    [InlineData("manager[value eq \"x\"]", null, "manager", null, "value eq \"x\"", null)]
    [InlineData("addresses[type eq \"work\"].streetAddress", null, "addresses", null, "type eq \"work\"", "streetAddress")]
    [InlineData("urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq \"work\"].value", "urn:ietf:params:scim:schemas:core:2.0:User", "emails", null, "type eq \"work\"", "value")]
    [InlineData("  active ", null, "active", null, null, null)]
    public void Parses(string text, string? urn, string attribute, string? attributeSub, string? filter, string? sub)
    {
        var path = PatchPath.Parse(text);
        Assert.Equal(urn, path.Attribute.SchemaUrn);
        Assert.Equal(attribute, path.Attribute.AttributeName);
        Assert.Equal(attributeSub, path.Attribute.SubAttributeName);
        Assert.Equal(filter, path.ValueFilter is null ? null : FilterFormatter.Format(path.ValueFilter));
        Assert.Equal(sub, path.SubAttribute);
        Assert.Equal(path.ToString(), PatchPath.Parse(path.ToString()).ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("emails[")]
    [InlineData("emails[type eq \"work\"")]
    [InlineData("emails[type eq]")]
    [InlineData("emails[type eq \"work\"].")]
    [InlineData("emails[type eq \"work\"].value.display")]
    [InlineData("emails[type eq \"work\"] extra")]
    [InlineData("emails[type eq \"work\"][value eq \"x\"]")]
    [InlineData("emails[members[value eq \"x\"]]")]
    [InlineData("name.givenName[value eq \"x\"]")]
    [InlineData("userName eq \"x\"")]
    [InlineData("a.b.c")]
    [InlineData("urn:")]
    [InlineData("1abc")]
    [InlineData("(userName)")]
    [InlineData("\"userName\"")]
    public void RejectsMalformedPaths(string text)
    {
        var ex = Assert.Throws<ScimException>(() => PatchPath.Parse(text));
        Assert.Equal(400, ex.Status);
        Assert.Equal(ScimErrorType.InvalidPath, ex.ScimType);
    }
}
