using Cluster.Scim.Filtering;

namespace Cluster.Abstractions;

/// <summary>
/// Picks the index probe for a filter: an <c>eq</c> on an indexed attribute, alone or anywhere under <c>and</c>;
/// the most selective one wins (the id, then a unique index, then the others). Shared by every resource type, which
/// supplies only its attribute → index mapping (<see cref="UserIndexes"/>, <see cref="GroupIndexes"/>).
/// </summary>
internal static class IndexPlanner
{
    /// <param name="filter">The parsed filter.</param>
    /// <param name="coreSchema">The resource type's core schema URN (paths may carry it).</param>
    /// <param name="eqIndexes">Upper-case attribute name → index name (null: the resource id).</param>
    /// <param name="valuePath">Plans a value-path filter (e.g. <c>emails[type eq "work" and value eq "x"]</c>), or null.</param>
    public static IndexProbe? Plan(FilterNode filter, string coreSchema, IReadOnlyDictionary<string, string?> eqIndexes, Func<ValuePathFilter, IndexProbe?>? valuePath = null) => filter switch
    {
        AndFilter and => Best(Plan(and.Left, coreSchema, eqIndexes, valuePath), Plan(and.Right, coreSchema, eqIndexes, valuePath)),
        ComparisonFilter { Operator: ComparisonOperator.Eq, Path: { SubAttributeName: null } path, Value: { } value }
            when (path.SchemaUrn is null || string.Equals(path.SchemaUrn, coreSchema, StringComparison.OrdinalIgnoreCase))
                && value.TryGetValue<string>(out var text)
                && eqIndexes.TryGetValue(path.AttributeName.ToUpperInvariant(), out var index) => new IndexProbe(index, text),
        ValuePathFilter path when valuePath is not null => valuePath(path),
        _ => null,
    };

    private static IndexProbe? Best(IndexProbe? a, IndexProbe? b) =>
        a is null ? b : b is null ? a : Rank(a) <= Rank(b) ? a : b;

    private static int Rank(IndexProbe p) => p.IndexName is null ? 0 : IndexNames.IsUnique(p.IndexName) ? 1 : 2;
}
