using System.Text.Json.Nodes;
using Cluster.Scim.Filtering;

namespace Cluster.Abstractions;

/// <summary>
/// What the group indexes hold and which filters they answer: <c>displayName</c> (unique, case-insensitive) and
/// <c>externalId</c>. The one place that ties group index names to SCIM attributes.
/// </summary>
public static class GroupIndexes
{
    private static readonly Dictionary<string, string?> EqIndexes = new(StringComparer.Ordinal)
    {
        ["ID"] = null,
        ["DISPLAYNAME"] = IndexNames.GroupDisplayName,
        ["EXTERNALID"] = IndexNames.GroupExternalId,
    };

    /// <summary>The values of <paramref name="group"/> in one group index, raw (not normalized).</summary>
    public static string[] ValuesIn(JsonObject? group, string index) => index switch
    {
        IndexNames.GroupDisplayName => IndexNames.StringAt(group, "displayName"),
        IndexNames.GroupExternalId => IndexNames.StringAt(group, "externalId"),
        _ => throw new ArgumentOutOfRangeException(nameof(index), index, "Not a group index."),
    };

    /// <summary>The index probe for a group filter (see <see cref="UserIndexes.Plan"/>), or null when it needs a scan.</summary>
    public static IndexProbe? Plan(FilterNode filter) => IndexPlanner.Plan(filter, Cluster.Scim.ScimConstants.GroupSchema, EqIndexes);
}
