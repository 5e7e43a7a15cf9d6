using Cluster.Scim;
using Cluster.Scim.Filtering;
using Cluster.Scim.Schema;

namespace Cluster.Gateway.Querying;

/// <summary>
/// Which members a group filter asks about, so a membership pre-check (<c>id eq "g" and members[value eq "u"]</c>,
/// <c>id eq "g" and members eq "u"</c>) reads the partition of that member only, never the whole member list.
/// </summary>
public static class MemberFilter
{
    /// <summary>
    /// The member ids the filter compares with <c>eq</c>, or null when it looks at members some other way
    /// (<c>pr</c>, <c>ne</c>, <c>co</c>, other sub-attributes…) and needs every member.
    /// </summary>
    public static string[]? ReferencedIds(FilterNode? filter)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        return filter is null || Collect(filter, ids) ? [.. ids] : null;
    }

    /// <summary>
    /// True for Entra's membership pre-check (<c>id eq "g" and members[value eq "u"]</c>, or <c>… and members eq "u"</c>):
    /// filter terms joined by <c>and</c> only, one of them <c>id eq</c>, and members compared by <c>eq</c> alone.
    /// </summary>
    public static bool IsMembershipCheck(FilterNode? filter)
    {
        var terms = new List<FilterNode>();
        Conjuncts(filter, terms);
        return terms.Any(t => t is ComparisonFilter { Operator: ComparisonOperator.Eq, Path: { SubAttributeName: null } path } && IsId(path))
            && terms.Any(t => t is ComparisonFilter { Path: var path } && IsMembers(path) || t is ValuePathFilter { Path: var valuePath } && IsMembers(valuePath))
            && ReferencedIds(filter) is { Length: > 0 };
    }

    private static void Conjuncts(FilterNode? node, List<FilterNode> terms)
    {
        if (node is AndFilter and)
        {
            Conjuncts(and.Left, terms);
            Conjuncts(and.Right, terms);
        }
        else if (node is not null)
        {
            terms.Add(node);
        }
    }

    // False when the filter needs all members.
    private static bool Collect(FilterNode node, HashSet<string> ids) => node switch
    {
        AndFilter and => Collect(and.Left, ids) && Collect(and.Right, ids),
        OrFilter or => Collect(or.Left, ids) && Collect(or.Right, ids),
        NotFilter not => Collect(not.Inner, ids),
        PresentFilter present => !IsMembers(present.Path),
        ComparisonFilter comparison when IsMembers(comparison.Path) =>
            (comparison.Path.SubAttributeName is null || string.Equals(comparison.Path.SubAttributeName, "value", StringComparison.OrdinalIgnoreCase))
            && AddEq(comparison, ids),
        ValuePathFilter valuePath when IsMembers(valuePath.Path) =>
            valuePath.Filter is ComparisonFilter { Path: { SchemaUrn: null, SubAttributeName: null } inner } element
            && string.Equals(inner.AttributeName, "value", StringComparison.OrdinalIgnoreCase)
            && AddEq(element, ids),
        _ => true,
    };

    private static bool AddEq(ComparisonFilter comparison, HashSet<string> ids)
    {
        if (comparison.Operator == ComparisonOperator.Eq && comparison.Value is { } value && value.TryGetValue<string>(out var id))
        {
            ids.Add(id);
            return true;
        }

        return false;
    }

    private static bool IsId(AttributePath path) => IsGroupAttribute(path, "id");

    private static bool IsMembers(AttributePath path) => IsGroupAttribute(path, "members");

    private static bool IsGroupAttribute(AttributePath path, string name) =>
        (path.SchemaUrn is null || string.Equals(path.SchemaUrn, ScimConstants.GroupSchema, StringComparison.OrdinalIgnoreCase))
        && string.Equals(path.AttributeName, name, StringComparison.OrdinalIgnoreCase);
}
