using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Scim;
using Cluster.Scim.Errors;
using Cluster.Scim.Filtering;
using Cluster.Scim.Projection;
using Cluster.Scim.Sorting;

namespace Cluster.Gateway.Endpoints;

/// <summary>
/// The parameters of a SCIM query (RFC 7644 §3.4.2), parsed and checked once, whether they came from the query string
/// of a GET (<see cref="From"/>) or from the body of a <c>POST …/.search</c> (<see cref="FromSearchRequest"/>, §3.4.3).
/// Unknown query-string parameters are ignored (Entra may append its flags); unknown body members are rejected.
/// </summary>
public sealed record ScimQuery(
    FilterNode? Filter,
    ScimSort? Sort,
    int StartIndex,
    int Count,
    IReadOnlyCollection<string>? Attributes,
    IReadOnlyCollection<string>? ExcludedAttributes)
{
    private static readonly string[] BodyMembers = ["schemas", "attributes", "excludedAttributes", "filter", "sortBy", "sortOrder", "startIndex", "count"];

    /// <summary>Parses the query string; <paramref name="maxPageSize"/> caps <c>count</c>.</summary>
    public static ScimQuery From(HttpRequest request, int maxPageSize)
    {
        var query = request.Query;
        return Create(
            query.ContainsKey("filter") ? query["filter"].ToString() : null, // sent empty: refused, not "no filter"
            query["sortBy"].ToString(),
            query["sortOrder"].ToString(),
            ParseInt(query["startIndex"].ToString(), "startIndex"),
            ParseInt(query["count"].ToString(), "count"),
            ScimProjection.ParseList(query["attributes"].ToString()),
            ScimProjection.ParseList(query["excludedAttributes"].ToString()),
            maxPageSize);
    }

    /// <summary>
    /// Parses a SearchRequest body (RFC 7644 §3.4.3). It must list the SearchRequest schema and may carry only the
    /// members of that message, named case-insensitively (400 <c>invalidSyntax</c> otherwise); a member of the wrong
    /// JSON type is 400 <c>invalidValue</c>, like a bad query-string value. JSON null means absent.
    /// </summary>
    public static ScimQuery FromSearchRequest(JsonObject body, int maxPageSize)
    {
        var members = new Dictionary<string, JsonNode?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in body)
        {
            if (!BodyMembers.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                throw ScimException.InvalidSyntax($"Unknown SearchRequest member {ScimText.Quoted((key.Length > 64 ? key[..64] : key))}.");
            }

            if (!members.TryAdd(key, value))
            {
                throw ScimException.InvalidSyntax($"SearchRequest member {ScimText.Quoted(key)} is given twice.");
            }
        }

        var schemas = members.GetValueOrDefault("schemas") as JsonArray;
        if (schemas is null || !schemas.Any(s => s is JsonValue v && v.GetValueKind() == JsonValueKind.String
                && string.Equals(v.GetValue<string>(), ScimConstants.SearchRequestSchema, StringComparison.OrdinalIgnoreCase)))
        {
            throw ScimException.InvalidSyntax($"A SearchRequest must list the schema \"{ScimConstants.SearchRequestSchema}\".");
        }

        return Create(
            String(members, "filter"),
            String(members, "sortBy"),
            String(members, "sortOrder"),
            Integer(members, "startIndex"),
            Integer(members, "count"),
            List(members, "attributes"),
            List(members, "excludedAttributes"),
            maxPageSize);
    }

    /// <summary>Only the projection parameters (for responses to writes and GET by id).</summary>
    public static (IReadOnlyCollection<string>? Attributes, IReadOnlyCollection<string>? Excluded) Projection(HttpRequest request) =>
        (ScimProjection.ParseList(request.Query["attributes"].ToString()), ScimProjection.ParseList(request.Query["excludedAttributes"].ToString()));

    // The one place the values are checked, whatever their source.
    private static ScimQuery Create(
        string? filterText,
        string? sortBy,
        string? sortOrder,
        int? startIndex,
        int? count,
        IReadOnlyCollection<string>? attributes,
        IReadOnlyCollection<string>? excluded,
        int maxPageSize) =>
        new(
            filterText is null ? null : FilterParser.Parse(filterText),
            ScimSort.Parse(sortBy, sortOrder),
            Math.Max(1, startIndex ?? 1),
            Math.Clamp(count ?? maxPageSize, 0, maxPageSize),
            attributes,
            excluded);

    private static int? ParseInt(string text, string name)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        // An integer beyond int's range is still an integer: clamped like any other (RFC 7644 §3.4.2.4), not refused.
        var trimmed = text.Trim();
        var digits = trimmed.StartsWith('-') || trimmed.StartsWith('+') ? trimmed[1..] : trimmed;
        return digits.Length > 0 && digits.All(char.IsAsciiDigit)
            ? long.TryParse(trimmed, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? Clamped(value) : trimmed[0] == '-' ? int.MinValue : int.MaxValue
            : throw ScimException.InvalidValue($"{ScimText.Quoted(name)} must be an integer.");
    }

    private static int Clamped(long value) => (int)Math.Clamp(value, int.MinValue, int.MaxValue);

    private static string? String(Dictionary<string, JsonNode?> members, string name) => members.GetValueOrDefault(name) switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw ScimException.InvalidValue($"{ScimText.Quoted(name)} must be a string."),
    };

    private static int? Integer(Dictionary<string, JsonNode?> members, string name) => members.GetValueOrDefault(name) switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.TryGetValue<double>(out var x) && double.IsInteger(x)
            ? (int)Math.Clamp(x, int.MinValue, int.MaxValue)
            : throw ScimException.InvalidValue($"{ScimText.Quoted(name)} must be an integer."),
        _ => throw ScimException.InvalidValue($"{ScimText.Quoted(name)} must be an integer."),
    };

    // RFC 7644 §3.4.3: a multi-valued list of strings. A comma-separated string is accepted too, as in a query string.
    private static IReadOnlyCollection<string>? List(Dictionary<string, JsonNode?> members, string name) => members.GetValueOrDefault(name) switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => ScimProjection.ParseList(v.GetValue<string>()),
        JsonArray array when array.All(i => i is JsonValue e && e.GetValueKind() == JsonValueKind.String) =>
            ScimProjection.ParseList(string.Join(',', array.Select(i => i!.GetValue<string>()))),
        _ => throw ScimException.InvalidValue($"{ScimText.Quoted(name)} must be a list of attribute names."),
    };
}
