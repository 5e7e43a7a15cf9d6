using System.Text.Json.Nodes;
using Cluster.Scim.Errors;
using Cluster.Scim.Filtering;
using Cluster.Scim.Schema;

namespace Cluster.Scim.Tests.Filtering;

public class FilterEvaluatorTests
{
    private const string Enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    private static readonly JsonObject User = JsonNode.Parse("""
        {
          "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
          "id": "2819c223-7f76-453a-919d-413861904646",
          "externalId": "0A21F0F2-8d2a-4f8e-bf98-7363c4aed4ef",
          "userName": "Barbara.Jensen@Example.com",
          "name": { "givenName": "Barbara", "familyName": "Jensen" },
          "displayName": "Babs Jensen",
          "title": "",
          "active": true,
          "emails": [
            { "value": "bjensen@example.com", "type": "work", "primary": true },
            { "value": "babs@jensen.org", "type": "home" }
          ],
          "phoneNumbers": [],
          "addresses": [ { "type": "work", "streetAddress": "100 Universal City Plaza", "primary": true } ],
          "meta": {
            "resourceType": "User",
            "created": "2010-01-23T04:56:22Z",
            "lastModified": "2011-05-13T04:42:34Z",
            "version": "W/\"3694e05e9dff590\""
          },
          "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "701984",
            "department": "Tour Operations",
            "manager": { "value": "26118915-6090-4610-87e4-49d8ca9f808d" }
          }
        }
        """)!.AsObject();

    private static readonly JsonObject Group = JsonNode.Parse("""
        {
          "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
          "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
          "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
          "displayName": "Tour Guides",
          "members": [
            { "value": "2819c223-7f76-453a-919d-413861904646", "type": "User" },
            { "value": "902c246b-6245-4190-8e05-00816be7344a" }
          ],
          "meta": { "resourceType": "Group", "created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T04:42:34Z" }
        }
        """)!.AsObject();

    [Theory]
    // case-insensitive userName / displayName / emails, attribute names in any case
    [InlineData("userName eq \"barbara.jensen@example.com\"", true)]
    [InlineData("USERNAME Eq \"BARBARA.JENSEN@EXAMPLE.COM\"", true)]
    [InlineData("userName eq \"someone\"", false)]
    [InlineData("userName sw \"barbara\"", true)]
    [InlineData("userName ew \"EXAMPLE.COM\"", true)]
    [InlineData("userName co \"jensen@\"", true)]
    [InlineData("userName co \"nobody\"", false)]
    [InlineData("displayName eq \"babs jensen\"", true)]
    [InlineData("name.givenName eq \"barbara\"", true)]
    [InlineData("Name.GivenName eq \"barbara\"", true)]
    [InlineData("name.familyName gt \"A\"", true)]
    [InlineData("name.familyName lt \"A\"", false)]
    [InlineData("name.familyName ge \"jensen\"", true)]
    [InlineData("name.familyName le \"JENSEN\"", true)]
    // caseExact id; externalId is case-insensitive by product rule
    [InlineData("id eq \"2819c223-7f76-453a-919d-413861904646\"", true)]
    [InlineData("id eq \"2819C223-7F76-453A-919D-413861904646\"", false)]
    [InlineData("externalId eq \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\"", true)]
    [InlineData("externalId eq 0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef", true)]
    [InlineData("urn:ietf:params:scim:schemas:core:2.0:User:id eq \"2819c223-7f76-453a-919d-413861904646\"", true)]
    // enterprise extension with and without URN
    [InlineData(Enterprise + ":employeeNumber eq \"701984\"", true)]
    [InlineData("employeeNumber eq \"701984\"", true)]
    [InlineData("EmployeeNumber eq \"1\"", false)]
    [InlineData("department eq \"tour operations\"", true)]
    [InlineData(Enterprise + ":manager.value eq \"26118915-6090-4610-87e4-49d8ca9f808d\"", true)]
    [InlineData("manager.value eq \"26118915-6090-4610-87e4-49d8ca9f808d\"", true)]
    [InlineData("manager eq \"26118915-6090-4610-87e4-49d8ca9f808d\"", true)]
    [InlineData("manager eq \"26118915-6090-4610-87E4-49D8CA9F808D\"", false)]
    [InlineData("id eq \"2819c223-7f76-453a-919d-413861904646\" and manager eq \"26118915-6090-4610-87e4-49d8ca9f808d\"", true)]
    [InlineData("id eq \"2819c223-7f76-453a-919d-413861904646\" and manager eq \"someone-else\"", false)]
    [InlineData("manager pr", true)]
    [InlineData("costCenter pr", false)]
    // dates
    [InlineData("meta.lastModified gt \"2011-05-13T04:42:33Z\"", true)]
    [InlineData("meta.lastModified gt \"2011-05-13T04:42:34Z\"", false)]
    [InlineData("meta.lastModified ge \"2011-05-13T04:42:34Z\"", true)]
    [InlineData("meta.lastModified eq \"2011-05-13T06:42:34+02:00\"", true)]
    [InlineData("meta.created lt \"2011-01-01T00:00:00Z\"", true)]
    [InlineData("meta.created le \"2009-01-01T00:00:00Z\"", false)]
    [InlineData("meta.created sw \"2010-01\"", true)]
    // booleans, including Entra's string booleans
    [InlineData("active eq true", true)]
    [InlineData("active eq false", false)]
    [InlineData("active eq \"true\"", true)]
    [InlineData("active eq \"True\"", true)]
    [InlineData("active eq \"False\"", false)]
    [InlineData("active ne false", true)]
    [InlineData("emails[primary eq \"True\"].value eq \"bjensen@example.com\"", true)]
    // pr and null
    [InlineData("userName pr", true)]
    [InlineData("title pr", false)]
    [InlineData("nickName pr", false)]
    [InlineData("emails pr", true)]
    [InlineData("phoneNumbers pr", false)]
    [InlineData("emails.type pr", true)]
    [InlineData("nickName eq null", true)]
    [InlineData("userName eq null", false)]
    [InlineData("userName ne null", true)]
    [InlineData("nickName ne \"x\"", true)]
    // not / or / and
    [InlineData("not (userName eq \"x\")", true)]
    [InlineData("not (userName pr)", false)]
    [InlineData("userName eq \"x\" or displayName eq \"Babs Jensen\"", true)]
    [InlineData("userName eq \"x\" or displayName eq \"y\"", false)]
    [InlineData("userName pr and (title pr or active eq true)", true)]
    [InlineData("userName pr and not (title pr or active eq true)", false)]
    // multi-valued attributes and value paths
    [InlineData("emails eq \"BABS@jensen.org\"", true)]
    [InlineData("emails.value eq \"bjensen@example.com\"", true)]
    [InlineData("emails.value co \"jensen.org\"", true)]
    [InlineData("emails.value eq \"nobody@example.com\"", false)]
    [InlineData("emails.type eq \"home\"", true)]
    [InlineData("emails[type eq \"work\"].value eq \"BJENSEN@example.com\"", true)]
    [InlineData("emails[type eq \"work\"].value eq \"babs@jensen.org\"", false)]
    [InlineData("emails[type eq \"home\" and value co \"jensen\"]", true)]
    [InlineData("emails[type eq \"home\" and primary eq true]", false)]
    [InlineData("emails[not (type eq \"work\")]", true)]
    [InlineData("emails[type eq \"work\"] and addresses[streetAddress sw \"100\"]", true)]
    [InlineData("phoneNumbers[type eq \"work\"]", false)]
    [InlineData(Enterprise + ":manager[value pr]", true)]
    [InlineData("emails ne \"bjensen@example.com\"", false)]
    public void MatchesUser(string filter, bool expected) =>
        Assert.Equal(expected, FilterEvaluator.Matches(FilterParser.Parse(filter), User, ScimSchemas.UserResource));

    [Theory]
    [InlineData("displayName eq \"tour guides\"", true)]
    [InlineData("displayName eq \"Tour Guides\"", true)]
    [InlineData("displayName eq \"Tour\"", false)]
    [InlineData("externalId eq \"8AA1A0C0-C4C3-4BC0-B4A5-2EF676900159\"", true)]
    [InlineData("members eq \"902c246b-6245-4190-8e05-00816be7344a\"", true)]
    [InlineData("members eq \"902C246B-6245-4190-8E05-00816BE7344A\"", false)]
    [InlineData("members eq \"nobody\"", false)]
    [InlineData("id eq \"e9e30dba-f08f-4109-8486-d5c6a331660a\" and members eq \"2819c223-7f76-453a-919d-413861904646\"", true)]
    [InlineData("id eq \"e9e30dba-f08f-4109-8486-d5c6a331660a\" and members eq \"nobody\"", false)]
    [InlineData("id eq \"e9e30dba-f08f-4109-8486-d5c6a331660a\" and members[value eq \"2819c223-7f76-453a-919d-413861904646\"]", true)]
    [InlineData("id eq \"e9e30dba-f08f-4109-8486-d5c6a331660a\" and members[value eq \"nobody\"]", false)]
    [InlineData("members.value eq \"2819c223-7f76-453a-919d-413861904646\"", true)]
    [InlineData("members[type eq \"user\"]", true)]
    [InlineData("members pr", true)]
    [InlineData("meta.resourceType eq \"Group\"", true)]
    public void MatchesGroup(string filter, bool expected) =>
        Assert.Equal(expected, FilterEvaluator.Matches(FilterParser.Parse(filter), Group, ScimSchemas.GroupResource));

    [Fact]
    public void GroupWithoutMembersDoesNotMatchMembersFilters()
    {
        var group = JsonNode.Parse("""{"id":"g","displayName":"Empty","members":[]}""")!.AsObject();
        Assert.False(FilterEvaluator.Matches(FilterParser.Parse("members eq \"u\""), group, ScimSchemas.GroupResource));
        Assert.False(FilterEvaluator.Matches(FilterParser.Parse("members pr"), group, ScimSchemas.GroupResource));
        Assert.True(FilterEvaluator.Matches(FilterParser.Parse("members eq null"), group, ScimSchemas.GroupResource));
    }

    [Fact]
    public void ComparesNumbersNumerically()
    {
        var integer = new AttributeDefinition { Name = "level", Type = AttributeType.Integer };
        var score = new AttributeDefinition { Name = "score", Type = AttributeType.Decimal };
        var parent = new AttributeDefinition { Name = "x", Type = AttributeType.Complex, MultiValued = true, SubAttributes = [integer, score] };
        var element = JsonNode.Parse("""{"level": 10, "score": 2.50}""")!.AsObject();
        bool M(string f) => FilterEvaluator.MatchesElement(FilterParser.Parse(f), element, parent);
        Assert.True(M("level gt 9"));
        Assert.False(M("level gt 10"));
        Assert.True(M("level eq 10.0"));
        Assert.True(M("level eq 1e1"));
        Assert.True(M("level le \"10\""));
        Assert.True(M("score eq 2.5"));
        Assert.True(M("score lt 100"));
        Assert.False(M("score ge 3"));
        Assert.True(M("level gt -1e300"));
    }

    [Fact]
    public void MatchesElementUsesSubAttributeNames()
    {
        var emails = ScimSchemas.User.FindAttribute("emails")!;
        var work = JsonNode.Parse("""{"value":"a@b.com","type":"work","primary":true}""")!.AsObject();
        Assert.True(FilterEvaluator.MatchesElement(FilterParser.Parse("type eq \"WORK\""), work, emails));
        Assert.True(FilterEvaluator.MatchesElement(FilterParser.Parse("type eq \"work\" and primary eq \"true\""), work, emails));
        Assert.False(FilterEvaluator.MatchesElement(FilterParser.Parse("type eq \"home\""), work, emails));

        var members = ScimSchemas.Group.FindAttribute("members")!;
        var member = JsonNode.Parse("""{"value":"u1","$ref":null}""")!.AsObject();
        Assert.True(FilterEvaluator.MatchesElement(PatchValueFilter("members[value eq \"u1\"]"), member, members));
        Assert.False(FilterEvaluator.MatchesElement(PatchValueFilter("members[value eq \"U1\"]"), member, members));

        var ex = Assert.Throws<ScimException>(() => FilterEvaluator.MatchesElement(FilterParser.Parse("nope eq \"x\""), work, emails));
        Assert.Equal(ScimErrorType.InvalidFilter, ex.ScimType);
    }

    [Theory]
    [InlineData("usrName eq \"x\"")]
    [InlineData("name.givenNam eq \"x\"")]
    [InlineData("emails.nope eq \"x\"")]
    [InlineData("emails[nope eq \"x\"]")]
    [InlineData("emails[type eq \"work\"].nope eq \"x\"")]
    [InlineData("emails[value.x eq \"x\"]")]
    [InlineData("userName[value eq \"x\"]")]
    [InlineData("urn:ietf:params:scim:schemas:extension:unknown:2.0:User:employeeNumber eq \"1\"")]
    [InlineData("urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq \"1\"")]
    [InlineData("members eq \"x\"")]
    [InlineData("name eq \"x\"")]
    [InlineData("meta eq \"x\"")]
    [InlineData("active gt true")]
    [InlineData("active co \"t\"")]
    [InlineData("active eq \"yes\"")]
    [InlineData("active eq 1")]
    [InlineData("meta.created gt \"yesterday\"")]
    [InlineData("meta.created gt 5")]
    [InlineData("userName gt null")]
    [InlineData("userName pr and (bogus pr or userName pr)")]
    [InlineData("not (bogus pr)")]
    [InlineData("meta.location pr")] // shown from the gateway's base URL, not stored: it would never match
    [InlineData("groups.$ref pr")]
    public void RejectsFiltersThatDoNotFitTheUserSchema(string filter)
    {
        var node = FilterParser.Parse(filter);
        var ex = Assert.Throws<ScimException>(() => FilterEvaluator.Validate(node, ScimSchemas.UserResource));
        Assert.Equal(400, ex.Status);
        Assert.Equal(ScimErrorType.InvalidFilter, ex.ScimType);
        Assert.Throws<ScimException>(() => FilterEvaluator.Matches(node, User, ScimSchemas.UserResource));
    }

    [Theory]
    [InlineData("userName eq \"x\"")]
    [InlineData("employeeNumber eq \"1\"")]
    [InlineData("members[bogus eq \"x\"]")]
    [InlineData("members.$ref eq \"https://scim.example/Users/u1\"")]
    [InlineData("members[$ref pr]")]
    [InlineData("meta.location pr")]
    public void RejectsFiltersThatDoNotFitTheGroupSchema(string filter)
    {
        var ex = Assert.Throws<ScimException>(() => FilterEvaluator.Validate(FilterParser.Parse(filter), ScimSchemas.GroupResource));
        Assert.Equal(ScimErrorType.InvalidFilter, ex.ScimType);
    }

    [Fact]
    public void ToleratesOddlyShapedStoredValues()
    {
        var odd = JsonNode.Parse($$"""
            {"userName": 5, "emails": {"value": "a@b.com"}, "name": "flat", "active": "False",
             "meta": {"created": "not a date"}, "{{Enterprise}}": {"manager": "bare-id"} }
            """)!.AsObject();
        bool M(string f) => FilterEvaluator.Matches(FilterParser.Parse(f), odd, ScimSchemas.UserResource);
        Assert.True(M("userName eq \"5\""));
        Assert.True(M("emails eq \"a@b.com\""));
        Assert.False(M("name.givenName pr"));
        Assert.True(M("active eq false"));
        Assert.False(M("meta.created gt \"2000-01-01T00:00:00Z\""));
        Assert.True(M("manager eq \"bare-id\""));
    }

    private static FilterNode PatchValueFilter(string path) => Cluster.Scim.Patching.PatchPath.Parse(path).ValueFilter!;
}
