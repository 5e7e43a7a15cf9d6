using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Scim.Errors;
using Cluster.Scim.Filtering;
using Cluster.Scim.Patching;
using Cluster.Scim.Schema;
using CsCheck;

namespace Cluster.Scim.Tests.Properties;

/// <summary>
/// Property tests of the filter pipeline: random filters (every operator, and/or/not, parentheses, value paths, Entra's
/// <c>emails[type eq "work"].value eq "x"</c>, sub-attributes, dates, Booleans, caseExact attributes) are parsed and
/// evaluated over a fixed random population of 200 users and compared with a reference predicate generated alongside the
/// text; <see cref="FilterFormatter"/> output re-parses to the same tree; garbage, truncated and mutated filters either
/// parse or fail with <c>invalidFilter</c>, never with another exception. CsCheck draws the cases (<see cref="Choices"/>):
/// a failure is shrunk to the smallest failing filter found and printed with the seed that replays it.
/// </summary>
public sealed class FilterPropertyTests
{
    private const int Filters = 800;
    private static readonly ResourceTypeDefinition Type = ScimSchemas.UserResource;
    private static readonly PopUser[] Population = [.. Enumerable.Range(0, 200).Select(i => PopUser.Create(50_000 + i))];
    private static readonly Gen<GeneratedFilter<PopUser>> RandomFilter = Choices.Generator(g => new FilterGen(g, Population).Next());

    [Fact]
    public void RandomFilters_AgreeWithTheReferenceEvaluation()
    {
        var (total, selective) = (0, 0);
        RandomFilter.Sample(
            filter =>
            {
                var node = ParseValid(filter.Text, filter.Text);
                var hits = 0;
                foreach (var user in Population)
                {
                    var actual = FilterEvaluator.Matches(node, user.Json, Type);
                    if (actual != filter.Matches(user))
                    {
                        Assert.Fail($"{filter.Text}\nparsed as {FilterFormatter.Format(node)}\n"
                            + $"library says {actual}, reference says {!actual} for\n{PropertyJson.Show(user.Json)}");
                    }

                    hits += actual ? 1 : 0;
                }

                Interlocked.Increment(ref total);
                if (hits > 0 && hits < Population.Length)
                {
                    Interlocked.Increment(ref selective);
                }
            },
            iter: Filters,
            print: filter => filter.Text);

        // The property is only as good as the filters: most of them must split the population.
        Assert.True(selective * 2 > total, $"only {selective} of {total} filters matched some but not all users");
    }

    [Fact]
    public void FormattedFilters_ReparseToTheSameTree() =>
        RandomFilter.Sample(filter => AssertRoundTrip(ParseValid(filter.Text, filter.Text), filter.Text), iter: Filters, print: filter => filter.Text);

    [Theory]
    [InlineData("nickname2 eq \"x\"")]
    [InlineData("name eq \"Barbara\"")]
    [InlineData("name.middle pr")]
    [InlineData("active gt true")]
    [InlineData("active co \"t\"")]
    [InlineData("active eq \"maybe\"")]
    [InlineData("emails.primary sw \"t\"")]
    [InlineData("meta.created gt \"not a date\"")]
    [InlineData("userName co null")]
    [InlineData("emails[foo eq \"x\"]")]
    [InlineData("title[value eq \"x\"]")]
    [InlineData("name.givenName[value eq \"x\"]")]
    [InlineData("emails[type eq \"work\"][value eq \"x\"]")]
    [InlineData("emails[addresses[type eq \"work\"]]")]
    [InlineData("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:badge eq \"x\"")]
    [InlineData("urn:example:unknown:title eq \"x\"")]
    [InlineData("userName eq")]
    [InlineData("userName xx \"a\"")]
    [InlineData("(userName eq \"a\"")]
    [InlineData("userName eq \"a\")")]
    [InlineData("not userName eq \"a\"")]
    [InlineData("userName eq \"a\" and")]
    [InlineData("userName eq \"unterminated")]
    [InlineData("userName eq \"bad \\q escape\"")]
    [InlineData("")]
    public void SchemaOrSyntaxErrors_AreInvalidFilter(string text)
    {
        var ex = Assert.Throws<ScimException>(() =>
        {
            var node = FilterParser.Parse(text);
            FilterEvaluator.Validate(node, Type);
        });
        Assert.Equal(400, ex.Status);
        Assert.Equal(ScimErrorType.InvalidFilter, ex.ScimType);
    }

    [Fact]
    public void GarbageTruncatedAndMutatedFilters_ParseOrFailWithInvalidFilterOnly()
    {
        var (parsed, rejected) = (0, 0);
        var garbage = Choices.Generator(g => g.Int(0, 3) switch
        {
            0 => RandomChars(g),
            1 => TokenSoup(g),
            _ => Mutate(g, new FilterGen(g, Population).Next(2).Text),
        });
        garbage.Sample(
            text =>
            {
                if (CheckGarbage(text, "garbage"))
                {
                    Interlocked.Increment(ref parsed);
                }
                else
                {
                    Interlocked.Increment(ref rejected);
                }
            },
            iter: 3_000,
            print: text => JsonSerializer.Serialize(text));

        // Limits: longest input, deepest nesting, and inputs just past them.
        string[] extremes =
        [
            new string('(', 60) + "userName pr" + new string(')', 60),
            string.Concat(Enumerable.Repeat("not (", 60)) + "userName pr" + new string(')', 60),
            string.Concat(Enumerable.Repeat("userName pr and ", 700)) + "userName pr",
            "userName eq \"" + new string('x', FilterParser.MaxLength) + "\"",
            new string('[', 5_000),
            new string('"', 9_999),
            "\\u0000 eq \"\\u0000\"",
        ];
        foreach (var text in extremes)
        {
            CheckGarbage(text, "extreme input");
        }

        Assert.True(parsed > 100 && rejected > 1_000, $"parsed {parsed}, rejected {rejected}: the fuzzing is not exploring both sides");
    }

    [Fact]
    public void GarbageAndMutatedPatchPaths_ParseOrFailWithInvalidPathOnly()
    {
        string[] valid =
        [
            "emails[type eq \"work\"].value", "name.givenName", "members[value eq \"u1\"]",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", "addresses[type eq \"work\" and primary eq true].locality",
        ];
        var (parsed, rejected) = (0, 0);
        var paths = Choices.Generator(g => g.Chance(0.3) ? TokenSoup(g) : Mutate(g, g.Pick(valid)));
        paths.Sample(
            text =>
            {
                PatchPath path;
                try
                {
                    path = PatchPath.Parse(text);
                }
                catch (ScimException ex) when (ex.Status == 400 && ex.ScimType == ScimErrorType.InvalidPath)
                {
                    Interlocked.Increment(ref rejected);
                    return;
                }
                catch (Exception ex)
                {
                    Assert.Fail($"path {JsonSerializer.Serialize(text)} threw {ex.GetType().Name} ({(ex as ScimException)?.ScimType}): {ex.Message}");
                    return;
                }

                // Outside the try: a parsed path prints as a path that parses to the same path.
                Interlocked.Increment(ref parsed);
                Assert.Equal(path.ToString(), PatchPath.Parse(path.ToString()).ToString());
            },
            iter: 2_000,
            print: text => JsonSerializer.Serialize(text));

        Assert.True(parsed > 200 && rejected > 200, $"parsed {parsed}, rejected {rejected}: the fuzzing is not exploring both sides");
    }

    /// <summary>True when the text parsed. Parsing, formatting and evaluating may only ever fail with invalidFilter.</summary>
    private static bool CheckGarbage(string text, string context)
    {
        var shown = JsonSerializer.Serialize(text.Length > 300 ? text[..300] + "…" : text);
        FilterNode node;
        try
        {
            node = FilterParser.Parse(text);
        }
        catch (ScimException ex) when (ex.Status == 400 && ex.ScimType == ScimErrorType.InvalidFilter)
        {
            return false;
        }
        catch (Exception ex)
        {
            Assert.Fail($"{context}: parsing {shown} threw {ex.GetType().Name} ({(ex as ScimException)?.ScimType}): {ex.Message}");
            throw;
        }

        AssertRoundTrip(node, $"{context}: {shown}");
        try
        {
            foreach (var user in Population.Take(5))
            {
                FilterEvaluator.Matches(node, user.Json, Type);
            }
        }
        catch (ScimException ex) when (ex.Status == 400 && ex.ScimType == ScimErrorType.InvalidFilter)
        {
        }
        catch (Exception ex)
        {
            Assert.Fail($"{context}: evaluating {shown} threw {ex.GetType().Name} ({(ex as ScimException)?.ScimType}): {ex.Message}");
        }

        return true;
    }

    private static FilterNode ParseValid(string text, string context)
    {
        try
        {
            var node = FilterParser.Parse(text);
            FilterEvaluator.Validate(node, Type);
            return node;
        }
        catch (ScimException ex)
        {
            Assert.Fail($"{context}: valid filter {text} was rejected: {ex.ScimType}: {ex.Message}");
            throw;
        }
    }

    private static void AssertRoundTrip(FilterNode node, string context)
    {
        var formatted = FilterFormatter.Format(node);
        FilterNode again;
        try
        {
            again = FilterParser.Parse(formatted);
        }
        catch (ScimException ex)
        {
            Assert.Fail($"{context}\nformatted as {formatted}, which does not parse: {ex.Message}");
            throw;
        }

        if (!TreeEquals(node, again) || FilterFormatter.Format(again) != formatted)
        {
            Assert.Fail($"{context}\nformatted as {formatted}\nre-parsed as {FilterFormatter.Format(again)} (a different tree)");
        }
    }

    /// <summary>Structural equality of filter trees (literals compared as JSON values).</summary>
    internal static bool TreeEquals(FilterNode a, FilterNode b) => (a, b) switch
    {
        (ComparisonFilter x, ComparisonFilter y) => x.Path == y.Path && x.Operator == y.Operator && JsonNode.DeepEquals(x.Value, y.Value),
        (PresentFilter x, PresentFilter y) => x.Path == y.Path,
        (AndFilter x, AndFilter y) => TreeEquals(x.Left, y.Left) && TreeEquals(x.Right, y.Right),
        (OrFilter x, OrFilter y) => TreeEquals(x.Left, y.Left) && TreeEquals(x.Right, y.Right),
        (NotFilter x, NotFilter y) => TreeEquals(x.Inner, y.Inner),
        (ValuePathFilter x, ValuePathFilter y) => x.Path == y.Path && TreeEquals(x.Filter, y.Filter),
        _ => false,
    };

    private static string RandomChars(Choices g)
    {
        const string Alphabet = "abcdeqnorstuwxyzAEQ0129 .:[]()\"\\/-_$@ \t\né\u0001\uD800Ω";
        var builder = new StringBuilder();
        var length = g.Int(0, 120);
        for (var i = 0; i < length; i++)
        {
            builder.Append(Alphabet[g.Int(0, Alphabet.Length - 1)]);
        }

        return builder.ToString();
    }

    private static string TokenSoup(Choices g)
    {
        string[] tokens =
        [
            "userName", "emails", "emails.value", ".value", "name.givenName", "meta.created", "active", "members", "id", "type",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:", "urn:", "manager", "$ref",
            "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr", "and", "or", "not", "AND", "Not",
            "true", "false", "null", "42", "-1.5e3", "\"x\"", "\"\"", "\"a\\\"b\"", "\"\\u00e9\"", "\"\\uD800\"",
            "(", ")", "[", "]", "].", " ", " ", " ",
        ];
        var builder = new StringBuilder();
        var count = g.Int(0, 25);
        for (var i = 0; i < count; i++)
        {
            builder.Append(g.Pick(tokens));
            if (g.Chance(0.6))
            {
                builder.Append(' ');
            }
        }

        return builder.ToString();
    }

    private static string Mutate(Choices g, string text)
    {
        var rounds = g.Int(1, 3);
        for (var r = 0; r < rounds && text.Length > 0; r++)
        {
            var at = g.Int(0, text.Length - 1);
            text = g.Int(0, 4) switch
            {
                0 => text[..at], // truncated
                1 => text.Remove(at, 1),
                2 => text.Insert(at, g.Pick(new[] { "\"", "(", ")", "[", "]", " ", "\\", ".", ":", "x", " and ", " not " })),
                3 => text[..at] + text[at..].Replace(' ', g.Pick(new[] { '\t', '(', '"' })),
                _ => text + text[at..],
            };
        }

        return text;
    }
}
