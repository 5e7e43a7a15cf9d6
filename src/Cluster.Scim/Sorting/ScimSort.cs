using System.Text.Json.Nodes;
using Cluster.Scim.Errors;
using Cluster.Scim.Filtering;
using Cluster.Scim.Schema;

namespace Cluster.Scim.Sorting;

/// <summary>
/// <c>sortBy</c> and <c>sortOrder</c> (RFC 7644 §3.4.2.3). <c>sortBy</c> is an attribute path resolved like every other
/// path (<see cref="ResourceTypeDefinition.Resolve"/>: case-insensitive, URN-qualified or not, sub-attributes such as
/// <c>name.familyName</c>); a complex attribute without sub-attribute sorts by its <c>value</c> (<c>emails</c> =
/// <c>emails.value</c>), one without <c>value</c> (<c>name</c>) is rejected. <c>sortOrder</c> is <c>ascending</c>
/// (default) or <c>descending</c>, case-insensitively. Errors are 400 <c>invalidValue</c>: RFC 7644 defines no error
/// for sorting, and <c>invalidFilter</c> is about filters.
/// </summary>
public sealed record ScimSort(AttributePath Path, bool Descending)
{
    public const string Ascending = "ascending";
    public const string DescendingOrder = "descending";

    /// <summary>
    /// Parses the two parameters; null when <paramref name="sortBy"/> is absent (a valid <paramref name="sortOrder"/>
    /// alone is ignored, an invalid one is still rejected).
    /// </summary>
    public static ScimSort? Parse(string? sortBy, string? sortOrder)
    {
        var order = sortOrder?.Trim() ?? "";
        var descending = order.Equals(DescendingOrder, StringComparison.OrdinalIgnoreCase);
        if (!descending && order.Length > 0 && !order.Equals(Ascending, StringComparison.OrdinalIgnoreCase))
        {
            throw ScimException.InvalidValue($"'sortOrder' must be \"{Ascending}\" or \"{DescendingOrder}\".");
        }

        if (string.IsNullOrWhiteSpace(sortBy))
        {
            return null;
        }

        return AttributePath.TryParse(sortBy, out var path)
            ? new ScimSort(path, descending)
            : throw ScimException.InvalidValue($"'sortBy' is not a valid attribute path: {ScimText.Quoted(Shorten(sortBy))}.");
    }

    /// <summary>
    /// Checks that <see cref="Path"/> names a sortable attribute of at least one of <paramref name="types"/> (and of
    /// every one that has it). Throws 400 <c>invalidValue</c> otherwise.
    /// </summary>
    public void Validate(IReadOnlyList<ResourceTypeDefinition> types)
    {
        if (!types.Select(For).Any(k => k is not null))
        {
            throw ScimException.InvalidValue(
                $"'sortBy': unknown attribute {ScimText.Quoted(Shorten(Path.ToString()))} for resource type {string.Join(", ", types.Select(t => t.Name))}.");
        }
    }

    /// <summary>How resources of <paramref name="type"/> are keyed; null when the type has no such attribute (its resources have no value).</summary>
    public SortKeys? For(ResourceTypeDefinition type)
    {
        if (type.Resolve(Path) is not { } resolved)
        {
            return null;
        }

        // Sorting groups by their members would read every member of every group (up to 10^5 each) for one page.
        if (string.Equals(type.Name, "Group", StringComparison.Ordinal) && string.Equals(resolved.Attribute.Name, "members", StringComparison.OrdinalIgnoreCase))
        {
            throw ScimException.InvalidValue("'sortBy': groups cannot be sorted by 'members'.");
        }

        var compared = resolved.SubAttribute
            ?? (resolved.Attribute.Type == AttributeType.Complex ? resolved.Attribute.FindSubAttribute("value") : resolved.Attribute);
        if (compared is null or { Type: AttributeType.Complex })
        {
            throw ScimException.InvalidValue($"'sortBy': {ScimText.Quoted(Shorten(Path.ToString()))} is a complex attribute; sort by one of its sub-attributes.");
        }

        if (!compared.Queryable)
        {
            throw ScimException.InvalidValue($"'sortBy': {ScimText.Quoted(Shorten(Path.ToString()))} is computed when a resource is shown and cannot be sorted by.");
        }

        // The order of results would reveal a value that is never returned (password, writeOnly attributes).
        return resolved.Attribute.NeverReturned || compared.NeverReturned
            ? throw ScimException.InvalidValue($"'sortBy': {ScimText.Quoted(Shorten(Path.ToString()))} is write-only and cannot be sorted by.")
            : new SortKeys(type, resolved, compared);
    }

    /// <summary>
    /// Orders two resources by their keys (null: no value), then by id (ordinally, ascending in both orders) so paging
    /// is stable. Resources without a value come last in ascending order and first in descending order.
    /// </summary>
    public int Compare(string? leftKey, string leftId, string? rightKey, string rightId, AttributeDefinition target)
    {
        var byKey = (leftKey, rightKey) switch
        {
            (null, null) => 0,
            (null, _) => 1,
            (_, null) => -1,
            _ => ScimValueOrder.Compare(leftKey, rightKey, target),
        };
        return byKey != 0 ? (Descending ? -byKey : byKey) : string.CompareOrdinal(leftId, rightId);
    }

    private static string Shorten(string text) => text.Length <= 100 ? text : text[..100] + "…";
}

/// <summary>The sort attribute of one resource type: extracts each resource's key.</summary>
public sealed class SortKeys
{
    private readonly ResourceTypeDefinition _type;
    private readonly ResolvedAttribute _resolved;

    internal SortKeys(ResourceTypeDefinition type, ResolvedAttribute resolved, AttributeDefinition target)
    {
        _type = type;
        _resolved = resolved;
        Target = target;
    }

    /// <summary>The definition whose type and <c>caseExact</c> govern the order.</summary>
    public AttributeDefinition Target { get; }

    /// <summary>True when the attribute is <paramref name="name"/> of the core schema (e.g. <c>members</c>).</summary>
    public bool IsAttribute(string name) =>
        !_resolved.IsExtension(_type) && string.Equals(_resolved.Attribute.Name, name, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The longest key kept per match. A sorted query holds one key per match in memory, and values are not otherwise
    /// bounded (a title may be ~1 MB): past this many characters values sort as equal and by id.
    /// </summary>
    public const int MaxKeyLength = 256;

    /// <summary>
    /// The key of <paramref name="resource"/> (see <see cref="FilterEvaluator.SortKey"/>), at most <see cref="MaxKeyLength"/>
    /// characters, or null when it has no value.
    /// </summary>
    public string? KeyOf(JsonObject resource)
    {
        var key = FilterEvaluator.SortKey(resource, _type, _resolved);
        return key is { Length: > MaxKeyLength } ? key[..MaxKeyLength] : key;
    }
}
