using System.Text.Json.Nodes;
using Cluster.Scim.Errors;
using Cluster.Scim.Filtering;

namespace Cluster.Scim.Tests.Filtering;

public class FilterParserTests
{
    private const string Enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    [Theory]
    // every operator, case-insensitive
    [InlineData("userName eq \"bjensen\"", "userName eq \"bjensen\"")]
    [InlineData("userName EQ \"bjensen\"", "userName eq \"bjensen\"")]
    [InlineData("title ne \"x\"", "title ne \"x\"")]
    [InlineData("name.familyName co \"O'Malley\"", "name.familyName co \"O'Malley\"")]
    [InlineData("userName Sw \"J\"", "userName sw \"J\"")]
    [InlineData("userName ew \"son\"", "userName ew \"son\"")]
    [InlineData("title pr", "title pr")]
    [InlineData("title PR", "title pr")]
    [InlineData("meta.lastModified gt \"2011-05-13T04:42:34Z\"", "meta.lastModified gt \"2011-05-13T04:42:34Z\"")]
    [InlineData("meta.lastModified ge \"2011-05-13T04:42:34Z\"", "meta.lastModified ge \"2011-05-13T04:42:34Z\"")]
    [InlineData("meta.lastModified lt \"2011-05-13T04:42:34Z\"", "meta.lastModified lt \"2011-05-13T04:42:34Z\"")]
    [InlineData("meta.lastModified le \"2011-05-13T04:42:34Z\"", "meta.lastModified le \"2011-05-13T04:42:34Z\"")]
    // literals
    [InlineData("active eq true", "active eq true")]
    [InlineData("active eq FALSE", "active eq false")]
    [InlineData("title eq Null", "title eq null")]
    [InlineData("x eq 42", "x eq 42")]
    [InlineData("x eq -1.5e3", "x eq -1.5e3")]
    // precedence: and binds tighter than or; left associative
    [InlineData("a pr or b pr and c pr", "(a pr or (b pr and c pr))")]
    [InlineData("a pr and b pr or c pr", "((a pr and b pr) or c pr)")]
    [InlineData("a pr and b pr and c pr", "((a pr and b pr) and c pr)")]
    [InlineData("a pr AND b pr Or c pr", "((a pr and b pr) or c pr)")]
    [InlineData("(a pr or b pr) and c pr", "((a pr or b pr) and c pr)")]
    [InlineData("((a pr))", "a pr")]
    [InlineData("not (a pr)", "not (a pr)")]
    [InlineData("NOT(a pr or b pr) and c pr", "(not ((a pr or b pr)) and c pr)")]
    [InlineData("userType eq \"Employee\" and (emails co \"example.com\" or emails.value co \"example.org\")",
        "(userType eq \"Employee\" and (emails co \"example.com\" or emails.value co \"example.org\"))")]
    // value paths
    [InlineData("emails[type eq \"work\" and value co \"@example.com\"]", "emails[(type eq \"work\" and value co \"@example.com\")]")]
    [InlineData("emails[not (type eq \"work\")]", "emails[not (type eq \"work\")]")]
    [InlineData("userType eq \"Employee\" and emails[type eq \"work\" and value co \"@example.com\"]",
        "(userType eq \"Employee\" and emails[(type eq \"work\" and value co \"@example.com\")])")]
    // URN paths
    [InlineData(Enterprise + ":employeeNumber eq \"1\"", Enterprise + ":employeeNumber eq \"1\"")]
    [InlineData(Enterprise + ":manager.value eq \"abc\"", Enterprise + ":manager.value eq \"abc\"")]
    [InlineData("urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"", "urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"")]
    // whitespace tolerance
    [InlineData("  userName   eq\t\"x\"  ", "userName eq \"x\"")]
    // Entra forms
    [InlineData("userName eq \"Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee\"", "userName eq \"Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee\"")]
    [InlineData("externalId eq \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\"", "externalId eq \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\"")]
    [InlineData("emails[type eq \"work\"].value eq \"x@y.com\"", "emails[(type eq \"work\" and value eq \"x@y.com\")]")]
    [InlineData("emails[type eq \"work\"].value pr", "emails[(type eq \"work\" and value pr)]")]
    [InlineData("displayName eq \"Group One\"", "displayName eq \"Group One\"")]
    [InlineData("id eq \"g\" and members eq \"u\"", "(id eq \"g\" and members eq \"u\")")]
    [InlineData("id eq \"g\" and members[value eq \"u\"]", "(id eq \"g\" and members[value eq \"u\"])")]
    [InlineData("id eq \"x\" and manager eq \"y\"", "(id eq \"x\" and manager eq \"y\")")]
    // legacy unquoted values
    [InlineData("externalId eq jyoung", "externalId eq \"jyoung\"")]
    [InlineData("id eq 54D382A4-4A1B-4A2C-9D3E-1F2A3B4C5D6E and manager eq 2819c223-7f76-453a-919d-413861904646",
        "(id eq \"54D382A4-4A1B-4A2C-9D3E-1F2A3B4C5D6E\" and manager eq \"2819c223-7f76-453a-919d-413861904646\")")]
    [InlineData("userName eq a@b.com", "userName eq \"a@b.com\"")]
    public void Parses(string filter, string expected)
    {
        var node = FilterParser.Parse(filter);
        Assert.Equal(expected, FilterFormatter.Format(node));

        // The canonical form re-parses to the same canonical form.
        Assert.Equal(expected, FilterFormatter.Format(FilterParser.Parse(expected)));
    }

    [Theory]
    [InlineData(@"userName eq ""a\""b""", "a\"b")]
    [InlineData(@"userName eq ""a\\b""", "a\\b")]
    [InlineData(@"userName eq ""caf\u00e9""", "café")]
    [InlineData(@"userName eq ""caf\u00E9""", "café")]
    [InlineData(@"userName eq ""a\/b\tc\nd\re\bf\fg""", "a/b\tc\nd\re\bf\fg")]
    [InlineData(@"userName eq """"", "")]
    [InlineData(@"userName eq ""with (parens) [brackets] and or""", "with (parens) [brackets] and or")]
    public void DecodesJsonStringEscapes(string filter, string expected)
    {
        var node = Assert.IsType<ComparisonFilter>(FilterParser.Parse(filter));
        Assert.Equal(expected, node.Value!.GetValue<string>());
    }

    [Fact]
    public void BuildsTheExpectedTree()
    {
        var node = FilterParser.Parse(Enterprise + ":manager.value eq \"abc\" and not (active eq true)");
        var and = Assert.IsType<AndFilter>(node);
        var comparison = Assert.IsType<ComparisonFilter>(and.Left);
        Assert.Equal(Enterprise, comparison.Path.SchemaUrn);
        Assert.Equal("manager", comparison.Path.AttributeName);
        Assert.Equal("value", comparison.Path.SubAttributeName);
        Assert.Equal(ComparisonOperator.Eq, comparison.Operator);
        var not = Assert.IsType<NotFilter>(and.Right);
        var inner = Assert.IsType<ComparisonFilter>(not.Inner);
        Assert.True(inner.Value!.GetValue<bool>());
    }

    [Fact]
    public void ParsesNullAsNullValueAndNumbersAsNumbers()
    {
        Assert.Null(Assert.IsType<ComparisonFilter>(FilterParser.Parse("title eq null")).Value);
        var number = Assert.IsType<ComparisonFilter>(FilterParser.Parse("x gt 10")).Value!;
        Assert.Equal(System.Text.Json.JsonValueKind.Number, number.GetValueKind());
        var quotedNumber = Assert.IsType<ComparisonFilter>(FilterParser.Parse("x eq \"10\"")).Value!;
        Assert.Equal(System.Text.Json.JsonValueKind.String, quotedNumber.GetValueKind());
    }

    [Fact]
    public void EntraValuePathFormPutsTheComparisonInsideTheValueFilter()
    {
        var node = Assert.IsType<ValuePathFilter>(FilterParser.Parse("emails[type eq \"work\"].value eq \"x\""));
        Assert.Equal("emails", node.Path.AttributeName);
        var and = Assert.IsType<AndFilter>(node.Filter);
        Assert.Equal("type", Assert.IsType<ComparisonFilter>(and.Left).Path.AttributeName);
        var value = Assert.IsType<ComparisonFilter>(and.Right);
        Assert.Equal("value", value.Path.AttributeName);
        Assert.Equal("x", value.Value!.GetValue<string>());
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("userName")]
    [InlineData("userName eq")]
    [InlineData("userName eq and")]
    [InlineData("userName eq or")]
    [InlineData("userName eq pr")]
    [InlineData("userName eq (")]
    [InlineData("userName xx \"a\"")]
    [InlineData("userName equals \"a\"")]
    [InlineData("userName eq \"a")]
    [InlineData("userName eq \"a\\\"")]
    [InlineData("userName eq \"a\\q\"")]
    [InlineData("userName eq \"\\u12\"")]
    [InlineData("userName eq \"\\u12G4\"")]
    [InlineData("userName eq \"a\" garbage")]
    [InlineData("userName eq \"a\" \"b\"")]
    [InlineData("userName eq \"a\" and")]
    [InlineData("userName eq \"a\" or or")]
    [InlineData("and eq \"a\"")]
    [InlineData("(userName eq \"a\"")]
    [InlineData("userName eq \"a\")")]
    [InlineData("((userName eq \"a\")")]
    [InlineData("()")]
    [InlineData("not userName eq \"a\"")]
    [InlineData("not")]
    [InlineData("not ()")]
    [InlineData("emails[type eq \"work\"")]
    [InlineData("emails type eq \"work\"]")]
    [InlineData("emails[]")]
    [InlineData("emails[type eq \"work\"].value")]
    [InlineData("emails[type eq \"work\"].value eq")]
    [InlineData("emails[type eq \"work\"]. eq \"x\"")]
    [InlineData("emails[type eq \"work\"].value.x eq \"x\"")]
    [InlineData("emails[type[value eq \"x\"] eq \"work\"]")]
    [InlineData("emails[type eq \"work\" and members[value eq \"x\"]]")]
    [InlineData("name.givenName[value eq \"x\"]")]
    [InlineData("\"userName\" eq \"a\"")]
    [InlineData("1abc eq \"a\"")]
    [InlineData("user/name eq \"a\"")]
    [InlineData("urn: eq \"a\"")]
    [InlineData("a.b.c eq \"a\"")]
    [InlineData("]")]
    [InlineData("userName eq \"a\" ]")]
    public void RejectsMalformedFilters(string filter)
    {
        var ex = Assert.Throws<ScimException>(() => FilterParser.Parse(filter));
        Assert.Equal(400, ex.Status);
        Assert.Equal(ScimErrorType.InvalidFilter, ex.ScimType);
        Assert.StartsWith("Invalid filter: ", ex.Message);
    }

    [Fact]
    public void RejectsNull()
    {
        var ex = Assert.Throws<ScimException>(() => FilterParser.Parse(null!));
        Assert.Equal(ScimErrorType.InvalidFilter, ex.ScimType);
    }

    [Fact]
    public void RejectsOverlongFiltersWithoutEchoingThem()
    {
        var filter = "userName eq \"" + new string('a', FilterParser.MaxLength) + "\"";
        var ex = Assert.Throws<ScimException>(() => FilterParser.Parse(filter));
        Assert.Equal(ScimErrorType.InvalidFilter, ex.ScimType);
        Assert.True(ex.Message.Length < 200, ex.Message);
    }

    [Fact]
    public void ErrorDetailsNeverEchoLongInput()
    {
        var ex = Assert.Throws<ScimException>(() => FilterParser.Parse("userName eq \"a\" " + new string('x', 5000)));
        Assert.True(ex.Message.Length < 200, ex.Message);
        ex = Assert.Throws<ScimException>(() => FilterParser.Parse(new string('y', 5000) + " eq"));
        Assert.True(ex.Message.Length < 200, ex.Message);
    }

    [Fact]
    public void NestingLimitIsEnforced()
    {
        string Nested(int depth) => new string('(', depth) + "a pr" + new string(')', depth);
        Assert.IsType<PresentFilter>(FilterParser.Parse(Nested(FilterParser.MaxDepth)));
        var ex = Assert.Throws<ScimException>(() => FilterParser.Parse(Nested(FilterParser.MaxDepth + 1)));
        Assert.Equal(ScimErrorType.InvalidFilter, ex.ScimType);

        var nots = string.Concat(Enumerable.Repeat("not (", 200)) + "a pr" + new string(')', 200);
        Assert.Throws<ScimException>(() => FilterParser.Parse(nots));
        Assert.Throws<ScimException>(() => FilterParser.Parse(new string('(', 9000)));
    }

    [Fact]
    public void LongFlatChainsParseUpToTheComparisonLimit()
    {
        Assert.IsType<AndFilter>(FilterParser.Parse(string.Join(" and ", Enumerable.Repeat("a pr", FilterParser.MaxComparisons))));
        Assert.IsType<OrFilter>(FilterParser.Parse(string.Join(" or ", Enumerable.Repeat("title eq \"x\"", FilterParser.MaxComparisons))));

        // One more, also counted inside value paths: hundreds of terms fit in the length limit and cost minutes of CPU.
        foreach (var filter in new[]
        {
            string.Join(" and ", Enumerable.Repeat("a pr", FilterParser.MaxComparisons + 1)),
            "emails[" + string.Join(" or ", Enumerable.Range(0, FilterParser.MaxComparisons + 1).Select(i => $"value eq \"v{i}\"")) + "]",
        })
        {
            var ex = Assert.Throws<ScimException>(() => FilterParser.Parse(filter));
            Assert.Equal(ScimErrorType.InvalidFilter, ex.ScimType);
            Assert.Contains("more than 100 comparisons", ex.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("userName eq \"\\ud800\"")]
    [InlineData("userName eq \"a\\udc00b\"")]
    [InlineData("emails[value eq \"\\uDBFF\"]")]
    public void AnUnpairedSurrogateEscapeInAStringIsInvalidFilter(string filter)
    {
        var ex = Assert.Throws<ScimException>(() => FilterParser.Parse(filter));
        Assert.Equal(ScimErrorType.InvalidFilter, ex.ScimType);
    }

    [Fact]
    public void APairedSurrogateEscapeIsOneCharacter() =>
        Assert.Equal("\U0001F600", Assert.IsType<ComparisonFilter>(FilterParser.Parse("userName eq \"\\ud83d\\ude00\"")).Value!.GetValue<string>());

    [Fact]
    public void GarbageNeverThrowsAnythingButInvalidFilter()
    {
        string[] fragments =
        [
            "userName", "emails", "members", "value", "type", "name.givenName", "manager", "active", "meta.created",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:", "urn:", ":", ".", ".value", "$ref",
            " eq ", " ne ", " co ", " gt ", " le ", " pr", " and ", " or ", "not ", "not(", "(", ")", "[", "]",
            "\"", "\"x\"", "\"2020-01-01T00:00:00Z\"", "\\", "\\u", "\\u00e9", "\\\"", " ", "1", "-0.5e3", "1e400", "true", "null",
            "\u0000", "\uD800", "é", "\t", "\n", "+", "%22",
        ];
        var random = new Random(12345);
        var user = JsonNode.Parse("""{"userName":"a","emails":[{"value":"x","type":"work"}],"active":true,"meta":{"created":"2020-01-01T00:00:00Z"}}""")!.AsObject();
        for (var i = 0; i < 20_000; i++)
        {
            string input;
            if (i % 4 == 0)
            {
                var chars = new char[random.Next(0, 40)];
                for (var c = 0; c < chars.Length; c++)
                {
                    chars[c] = (char)random.Next(0, 0x3000);
                }

                input = new string(chars);
            }
            else
            {
                input = string.Concat(Enumerable.Range(0, random.Next(1, 12)).Select(_ => fragments[random.Next(fragments.Length)]));
            }

            try
            {
                var node = FilterParser.Parse(input);
                _ = FilterFormatter.Format(node);
                _ = FilterEvaluator.Matches(node, user, Cluster.Scim.Schema.ScimSchemas.UserResource);
            }
            catch (ScimException ex)
            {
                Assert.True(ex.ScimType == ScimErrorType.InvalidFilter, $"Input {input}: {ex.ScimType}");
                Assert.Equal(400, ex.Status);
            }
        }
    }
}
