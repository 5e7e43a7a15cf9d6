using System.Text.RegularExpressions;
using Cluster.Abstractions;
using Cluster.Scim;
using Cluster.Scim.Schema;

namespace Cluster.Gateway.RequestLog;

/// <summary>
/// Makes a SCIM error's <c>detail</c> safe to keep in a provisioning log: the text the server wrote stays, everything the
/// client could have sent goes. Our details quote what they echo (<see cref="ScimText"/>): string literals (filter values,
/// value-filter paths) in double quotes, names and tokens in single quotes, a quote or backslash inside escaped by a
/// backslash, so a client's text cannot end a quotation early and leave its rest outside it. So:
/// <list type="number">
/// <item>a route id that is not a valid id (the detail of its 404 echoes it unquoted) becomes <c>…</c>;</item>
/// <item>every double-quoted string becomes <c>"…"</c> (an unterminated one is cut there);</item>
/// <item>every single-quoted text becomes <c>'…'</c> unless each word in it is the served schemas' vocabulary (attribute
/// names and paths, schema URNs), a SCIM keyword (<c>eq</c>, <c>add</c>, …) or one of our resource ids: an unknown
/// attribute name or an unquoted filter value is therefore hidden, and <c>emails[type eq "…"].value</c> stays readable.</item>
/// </list>
/// </summary>
public sealed partial class RequestLogRedaction
{
    /// <summary>What stands for a removed value.</summary>
    public const string Removed = "…";

    private static readonly string[] Keywords =
    [
        "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr", "and", "or", "not", "true", "false", "null",
        "add", "replace", "remove", "op", "path", "value", "Operations", "schemas", "filter", "sortBy", "sortOrder",
        "startIndex", "count", "attributes", "excludedAttributes", "ascending", "descending", "bulkId", "method", "data",
        "version", "failOnErrors", "type", "$ref", "User", "Group", "members", "display",
        ScimConstants.PatchOpSchema, ScimConstants.ListResponseSchema, ScimConstants.BulkRequestSchema, ScimConstants.SearchRequestSchema,
    ];

    private readonly HashSet<string> _vocabulary;

    /// <summary>The vocabulary of <paramref name="resourceTypes"/> (the served schemas, configured extensions included).</summary>
    public RequestLogRedaction(IEnumerable<ResourceTypeDefinition> resourceTypes)
    {
        _vocabulary = new HashSet<string>(Keywords, StringComparer.OrdinalIgnoreCase);
        foreach (var type in resourceTypes)
        {
            _vocabulary.Add(type.Name);
            _vocabulary.Add(type.Endpoint.TrimStart('/'));
            foreach (var schema in type.Extensions.Select(e => e.Schema).Prepend(type.Schema))
            {
                _vocabulary.Add(schema.Id);
                foreach (var attribute in schema.Attributes.Concat(schema == type.Schema ? Common : []))
                {
                    foreach (var path in Paths(attribute))
                    {
                        _vocabulary.Add(path);
                        _vocabulary.Add($"{schema.Id}:{path}");
                    }
                }
            }
        }
    }

    private static IEnumerable<AttributeDefinition> Common =>
        [CommonAttributes.Id, CommonAttributes.ExternalId, CommonAttributes.Meta, CommonAttributes.Schemas];

    /// <summary>The detail without anything the client sent (see the class); null stays null.</summary>
    /// <param name="detail">The SCIM error's detail.</param>
    /// <param name="routeId">The request's <c>{id}</c> route value, if any.</param>
    public string? Redact(string? detail, string? routeId)
    {
        if (string.IsNullOrEmpty(detail))
        {
            return detail;
        }

        var text = detail;
        if (routeId is { Length: > 0 } && !GrainKeys.IsValidId(routeId))
        {
            text = text.Replace(routeId.Length > 64 ? routeId[..64] : routeId, Removed, StringComparison.Ordinal);
        }

        try
        {
            // One scan from the left: the quotation that opens first is taken whole, so a quote inside it (a filter's string
            // literal inside a quoted path, with its own escapes) is read as part of it, never as the end of it.
            return Quotation().Replace(text, m => m.Groups["single"].Success
                ? m.Groups["sclose"].Success ? SingleQuoted(m.Groups["single"].Value) : "'" + Removed
                : m.Groups["dclose"].Success ? "\"" + Removed + "\"" : "\"" + Removed);
        }
        catch (RegexMatchTimeoutException)
        {
            return Removed;
        }
    }

    // A single-quoted text: kept when, its escapes read and its string literals removed, it is vocabulary only.
    private string SingleQuoted(string escaped)
    {
        var text = DoubleQuoted().Replace(Escape().Replace(escaped, "$1"), "\"" + Removed + "\"");
        return IsVocabulary(text) ? "'" + text + "'" : "'" + Removed + "'";
    }

    private bool IsVocabulary(string quoted)
    {
        var words = Word().Matches(quoted);
        if (words.Count == 0)
        {
            return quoted.Trim().Length == 0 || quoted == Removed;
        }

        foreach (Match word in words)
        {
            if (!_vocabulary.Contains(word.Value) && !IsResourceId(word.Value))
            {
                return false;
            }
        }

        // Nothing but words, value-path punctuation and removed strings.
        return Word().Replace(quoted, "").Replace("\"" + Removed + "\"", "", StringComparison.Ordinal).All(c => c is ' ' or '[' or ']' or '.' or '(' or ')');
    }

    // Our resource ids: 32 lowercase hex characters (GrainKeys.NewResourceId).
    private static bool IsResourceId(string word) => word.Length == 32 && word.All(char.IsAsciiHexDigitLower);

    private static IEnumerable<string> Paths(AttributeDefinition attribute) =>
        attribute.SubAttributes.Select(s => $"{attribute.Name}.{s.Name}").Prepend(attribute.Name);

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex DoubleQuoted();

    // A double-quoted string, or a single-quoted text (a quote after a letter or digit is an apostrophe, service's, not an
    // opening one; a closing one is not followed by one), each with backslash escapes, and unterminated: to the end.
    [GeneratedRegex("\"(?<double>(?:[^\"\\\\]|\\\\.)*)(?<dclose>\")?|(?<![A-Za-z0-9])'(?<single>(?:[^'\\\\]|\\\\.)*)(?:(?<sclose>')(?![A-Za-z0-9])|\\z)", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex Quotation();

    // A backslash escape (\' \" \\): the character it stands for.
    [GeneratedRegex("\\\\(.)", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex Escape();

    // A word of an attribute path or filter: names, dotted sub-attributes, URNs.
    [GeneratedRegex(@"[A-Za-z0-9_$\-]+(?:[:.][A-Za-z0-9_$\-]+)*", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex Word();
}
