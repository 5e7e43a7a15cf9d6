using System.Text.Json.Nodes;
using Cluster.Scim.Filtering;

namespace Cluster.Abstractions;

/// <summary>
/// What the user indexes hold, and which filters they answer. The one place that ties index names to
/// SCIM attributes: the user grain writes what <see cref="ValuesOf"/> returns, and the gateway asks
/// <see cref="Plan"/> which index (if any) can answer a filter.
/// </summary>
public static class UserIndexes
{
    /// <summary>The values of <paramref name="user"/> (canonical JSON) in each user index, raw (not normalized).</summary>
    public static Dictionary<string, string[]> ValuesOf(JsonObject? user)
    {
        var result = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var index in IndexNames.UserIndexes)
        {
            result[index] = [];
        }

        if (user is null)
        {
            return result;
        }

        if (user["userName"] is JsonValue userName && userName.TryGetValue<string>(out var name))
        {
            result[IndexNames.UserName] = [name];
        }

        if (user["externalId"] is JsonValue externalId && externalId.TryGetValue<string>(out var external))
        {
            result[IndexNames.UserExternalId] = [external];
        }

        if (user["emails"] is JsonArray emails)
        {
            result[IndexNames.UserWorkEmail] = [.. emails
                .OfType<JsonObject>()
                .Where(e => e["type"] is JsonValue t && t.TryGetValue<string>(out var type) && string.Equals(type, "work", StringComparison.OrdinalIgnoreCase))
                .Select(e => e["value"] is JsonValue v && v.TryGetValue<string>(out var value) ? value : null)
                .OfType<string>()
                .DistinctBy(IndexNames.Normalize)];
        }

        return result;
    }

    /// <summary>
    /// The index probe that finds a superset of the users matching <paramref name="filter"/>, or null when the
    /// filter needs a scan. Callers still evaluate the whole filter on each candidate.
    /// </summary>
    public static IndexProbe? Plan(FilterNode filter) => filter switch
    {
        AndFilter and => Best(Plan(and.Left), Plan(and.Right)),
        ComparisonFilter { Operator: ComparisonOperator.Eq, Path: { SchemaUrn: null or Cluster.Scim.ScimConstants.UserSchema, SubAttributeName: null } path, Value: { } value }
            when value.TryGetValue<string>(out var text) => path.AttributeName.ToUpperInvariant() switch
            {
                "ID" => new IndexProbe(null, text),
                "USERNAME" => new IndexProbe(IndexNames.UserName, text),
                "EXTERNALID" => new IndexProbe(IndexNames.UserExternalId, text),
                _ => null,
            },
        ValuePathFilter { Path: { SubAttributeName: null } path } valuePath
            when string.Equals(path.AttributeName, "emails", StringComparison.OrdinalIgnoreCase) => PlanWorkEmail(valuePath.Filter),
        _ => null,
    };

    private static IndexProbe? PlanWorkEmail(FilterNode inner)
    {
        var conditions = new List<ComparisonFilter>();
        Flatten(inner, conditions);
        var isWork = conditions.Any(c => IsEq(c, "type", out var type) && string.Equals(type, "work", StringComparison.OrdinalIgnoreCase));
        var value = conditions.Select(c => IsEq(c, "value", out var v) ? v : null).FirstOrDefault(v => v is not null);
        return isWork && value is not null ? new IndexProbe(IndexNames.UserWorkEmail, value) : null;
    }

    private static void Flatten(FilterNode node, List<ComparisonFilter> into)
    {
        switch (node)
        {
            case AndFilter and:
                Flatten(and.Left, into);
                Flatten(and.Right, into);
                break;
            case ComparisonFilter comparison:
                into.Add(comparison);
                break;
        }
    }

    private static bool IsEq(ComparisonFilter c, string attribute, out string? value)
    {
        value = null;
        return c.Operator == ComparisonOperator.Eq
            && c.Path.SchemaUrn is null
            && string.Equals(c.Path.AttributeName, attribute, StringComparison.OrdinalIgnoreCase)
            && c.Path.SubAttributeName is null
            && c.Value is { } v && v.TryGetValue(out value);
    }

    // An id probe is the most selective, then the unique userName, then the others.
    private static IndexProbe? Best(IndexProbe? a, IndexProbe? b) =>
        a is null ? b : b is null ? a : Rank(a) <= Rank(b) ? a : b;

    private static int Rank(IndexProbe p) => p.IndexName switch
    {
        null => 0,
        IndexNames.UserName => 1,
        _ => 2,
    };
}

/// <summary>An index lookup: <see cref="IndexName"/> null means "the resource with id <see cref="Value"/>".</summary>
public sealed record IndexProbe(string? IndexName, string Value);
