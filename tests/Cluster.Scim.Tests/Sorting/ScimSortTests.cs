using System.Text.Json.Nodes;
using Cluster.Scim.Errors;
using Cluster.Scim.Filtering;
using Cluster.Scim.Schema;
using Cluster.Scim.Sorting;

namespace Cluster.Scim.Tests.Sorting;

/// <summary>RFC 7644 §3.4.2.3 sortBy/sortOrder, the shared value order, and filters across resource types.</summary>
public class ScimSortTests
{
    private const string Enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    private static readonly ResourceTypeDefinition UserType = ScimSchemas.UserResource;
    private static readonly ResourceTypeDefinition GroupType = ScimSchemas.GroupResource;

    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("ascending", false)]
    [InlineData("Ascending", false)]
    [InlineData("DESCENDING", true)]
    [InlineData(" descending ", true)]
    public void SortOrderIsCaseInsensitiveAndDefaultsToAscending(string? sortOrder, bool descending) =>
        Assert.Equal(descending, ScimSort.Parse("userName", sortOrder)!.Descending);

    [Theory]
    [InlineData("userName", "sideways")]
    [InlineData("userName", "asc")]
    [InlineData(null, "desc")]
    [InlineData("name..familyName", null)]
    [InlineData("1abc", null)]
    public void BadParametersAreInvalidValue(string? sortBy, string? sortOrder)
    {
        var e = Assert.Throws<ScimException>(() => ScimSort.Parse(sortBy, sortOrder));
        Assert.Equal(ScimErrorType.InvalidValue, e.ScimType);
    }

    [Fact]
    public void NoSortByMeansNoSort() => Assert.Null(ScimSort.Parse(" ", "descending"));

    [Theory]
    [InlineData("nickNamez")]
    [InlineData("name")]
    [InlineData("urn:ietf:params:scim:schemas:core:2.0:Group:displayName")]
    [InlineData("name.nope")]
    [InlineData("meta.location")] // computed when shown: every resource would sort as having no value
    public void UnknownOrComplexAttributesAreInvalidValue(string sortBy)
    {
        var e = Assert.Throws<ScimException>(() => ScimSort.Parse(sortBy, null)!.Validate([UserType]));
        Assert.Equal(ScimErrorType.InvalidValue, e.ScimType);
    }

    [Fact]
    public void AnAttributeOfOneOfSeveralTypesIsValid()
    {
        ScimSort.Parse("userName", null)!.Validate([UserType, GroupType]);
        Assert.Null(ScimSort.Parse("userName", null)!.For(GroupType));
        Assert.Throws<ScimException>(() => ScimSort.Parse("userName", null)!.Validate([GroupType]));
    }

    [Theory]
    [InlineData("name.familyName", "JENSEN")]
    [InlineData("NAME.FAMILYNAME", "JENSEN")]
    [InlineData("urn:ietf:params:scim:schemas:core:2.0:User:name.familyName", "JENSEN")]
    [InlineData("emails", "BJENSEN@EXAMPLE.COM")]
    [InlineData("emails.type", "WORK")]
    [InlineData("phoneNumbers.value", "111")]
    [InlineData("department", "TOUR OPERATIONS")]
    [InlineData(Enterprise + ":manager", "m1")]
    [InlineData("meta.created", "2010-01-23T04:56:22.0000000Z")]
    [InlineData("active", "true")]
    [InlineData("title", null)]
    [InlineData("x509Certificates.value", null)]
    public void KeysFollowThePrimaryThenFirstRule(string sortBy, string? key)
    {
        var user = JsonNode.Parse("""
            {"userName":"bjensen","name":{"familyName":"Jensen"},"active":true,
             "emails":[{"value":"babs@jensen.org","type":"home"},{"value":"bjensen@example.com","type":"work","primary":true}],
             "phoneNumbers":[{"value":"111"},{"value":"000"}],
             "meta":{"created":"2010-01-23T05:56:22+01:00"},
             "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Tour Operations","manager":{"value":"m1"}}}
            """)!.AsObject();
        Assert.Equal(key, ScimSort.Parse(sortBy, null)!.For(UserType)!.KeyOf(user));
    }

    [Fact]
    public void OrderFollowsTheAttributeType()
    {
        var text = UserType.Resolve(AttributePath.Parse("userName"))!.Target;
        var caseExact = UserType.Resolve(AttributePath.Parse("id"))!.Target;
        var externalId = UserType.Resolve(AttributePath.Parse("externalId"))!.Target;
        Assert.Equal(0, ScimValueOrder.Compare(Key(JsonValue.Create("ABC"), text), Key(JsonValue.Create("abc"), text), text));
        Assert.Equal(0, ScimValueOrder.Compare(Key(JsonValue.Create("\u00C9mile"), text), Key(JsonValue.Create("e\u0301MILE"), text), text));
        Assert.True(ScimValueOrder.Compare(Key(JsonValue.Create("B"), text), Key(JsonValue.Create("a"), text), text) > 0);
        Assert.True(ScimValueOrder.Compare(Key(JsonValue.Create("B"), caseExact), Key(JsonValue.Create("a"), caseExact), caseExact) < 0);
        Assert.Equal(0, ScimValueOrder.Compare(Key(JsonValue.Create("ABC"), externalId), Key(JsonValue.Create("abc"), externalId), externalId));

        var integer = new AttributeDefinition { Name = "n", Type = AttributeType.Integer };
        Assert.True(ScimValueOrder.Compare(Key(JsonValue.Create(10), integer), Key(JsonValue.Create(9), integer), integer) > 0);
        Assert.True(ScimValueOrder.Compare(Key(JsonValue.Create(1.5m), integer), Key(JsonValue.Create("1e1"), integer), integer) < 0);

        var date = UserType.Resolve(AttributePath.Parse("meta.created"))!.Target;
        Assert.True(ScimValueOrder.Compare(Key(JsonValue.Create("2020-01-01T00:30:00+01:00"), date), Key(JsonValue.Create("2019-12-31T23:45:00Z"), date), date) < 0);
        Assert.Null(ScimValueOrder.Key(JsonValue.Create("not a date"), date));

        var boolean = UserType.Resolve(AttributePath.Parse("active"))!.Target;
        Assert.True(ScimValueOrder.Compare(Key(JsonValue.Create(false), boolean), Key(JsonValue.Create("True"), boolean), boolean) < 0);
    }

    [Fact]
    public void MissingValuesSortLastAscendingAndFirstDescendingTiesById()
    {
        var target = UserType.Resolve(AttributePath.Parse("title"))!.Target;
        var ascending = ScimSort.Parse("title", null)!;
        var descending = ScimSort.Parse("title", "descending")!;
        Assert.True(ascending.Compare(null, "a", "x", "b", target) > 0);
        Assert.True(descending.Compare(null, "a", "x", "b", target) < 0);
        Assert.True(ascending.Compare("X", "b", "X", "a", target) > 0);
        Assert.True(descending.Compare("X", "b", "X", "a", target) > 0);
        Assert.True(descending.Compare("A", "a", "B", "b", target) > 0);
    }

    [Fact]
    public void FiltersAcrossTypesMatchNothingOnAttributesATypeLacks()
    {
        var group = JsonNode.Parse("""{"displayName":"Admins","members":[{"value":"u1"}]}""")!.AsObject();
        var filter = FilterParser.Parse("title pr or displayName sw \"Adm\"");
        FilterEvaluator.ValidateAcross(filter, [UserType, GroupType]);
        Assert.True(FilterEvaluator.MatchesAcross(filter, group, GroupType));
        Assert.False(FilterEvaluator.MatchesAcross(FilterParser.Parse("title ne \"x\""), group, GroupType));
        Assert.True(FilterEvaluator.MatchesAcross(FilterParser.Parse("not (title pr)"), group, GroupType));
        Assert.False(FilterEvaluator.MatchesAcross(FilterParser.Parse("emails[type eq \"work\"]"), group, GroupType));

        Assert.False(FilterEvaluator.CanMatch(FilterParser.Parse("userName eq \"x\" and displayName pr"), GroupType));
        Assert.True(FilterEvaluator.CanMatch(FilterParser.Parse("userName eq \"x\" or displayName pr"), GroupType));
        Assert.True(FilterEvaluator.CanMatch(FilterParser.Parse("not (userName eq \"x\")"), GroupType));
        Assert.True(FilterEvaluator.CanMatch(FilterParser.Parse("userName eq \"x\""), UserType));

        var unknown = Assert.Throws<ScimException>(() => FilterEvaluator.ValidateAcross(FilterParser.Parse("displayName pr and nope pr"), [UserType, GroupType]));
        Assert.Equal(ScimErrorType.InvalidFilter, unknown.ScimType);
        var mistyped = Assert.Throws<ScimException>(() => FilterEvaluator.ValidateAcross(FilterParser.Parse("active gt true"), [UserType, GroupType]));
        Assert.Equal(ScimErrorType.InvalidFilter, mistyped.ScimType);
    }

    private static string Key(JsonNode node, AttributeDefinition target) => ScimValueOrder.Key(node, target)!;
}
