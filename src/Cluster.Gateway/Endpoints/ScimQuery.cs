using System.Globalization;
using Cluster.Scim.Errors;
using Cluster.Scim.Filtering;
using Cluster.Scim.Projection;

namespace Cluster.Gateway.Endpoints;

/// <summary>The query parameters of SCIM reads (RFC 7644 §3.4.2), parsed and checked once. Unknown parameters are ignored (Entra may append its flags).</summary>
public sealed record ScimQuery(
    FilterNode? Filter,
    int StartIndex,
    int Count,
    IReadOnlyCollection<string>? Attributes,
    IReadOnlyCollection<string>? ExcludedAttributes)
{
    /// <summary>Parses the query string; <paramref name="maxPageSize"/> caps <c>count</c>.</summary>
    public static ScimQuery From(HttpRequest request, int maxPageSize)
    {
        var query = request.Query;
        var filterText = query["filter"].ToString();
        var filter = string.IsNullOrWhiteSpace(filterText) ? null : FilterParser.Parse(filterText);
        var startIndex = Math.Max(1, ParseInt(query["startIndex"].ToString(), "startIndex") ?? 1);
        var count = Math.Clamp(ParseInt(query["count"].ToString(), "count") ?? maxPageSize, 0, maxPageSize);
        return new ScimQuery(
            filter,
            startIndex,
            count,
            ScimProjection.ParseList(query["attributes"].ToString()),
            ScimProjection.ParseList(query["excludedAttributes"].ToString()));
    }

    /// <summary>Only the projection parameters (for responses to writes and GET by id).</summary>
    public static (IReadOnlyCollection<string>? Attributes, IReadOnlyCollection<string>? Excluded) Projection(HttpRequest request) =>
        (ScimProjection.ParseList(request.Query["attributes"].ToString()), ScimProjection.ParseList(request.Query["excludedAttributes"].ToString()));

    private static int? ParseInt(string text, string name)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw ScimException.InvalidValue($"'{name}' must be an integer.");
    }
}
