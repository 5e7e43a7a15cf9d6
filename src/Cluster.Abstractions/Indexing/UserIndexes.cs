using System.Text.Json.Nodes;
using Cluster.Scim.Filtering;

namespace Cluster.Abstractions;

/// <summary>
/// What the user indexes hold, and which filters they answer. The one place that ties index names to
/// SCIM attributes: the user grain writes what <see cref="ValuesIn"/> returns for each index, and the gateway asks
/// <see cref="Plan"/> which index (if any) can answer a filter.
/// </summary>
public static class UserIndexes
{
    /// <summary>The values of <paramref name="user"/> in one user index, raw (not normalized): what a lookup checks a candidate against.</summary>
    public static string[] ValuesIn(JsonObject? user, string index) => index switch
    {
        IndexNames.UserName => IndexNames.StringAt(user, "userName"),
        IndexNames.UserExternalId => IndexNames.StringAt(user, "externalId"),
        IndexNames.UserWorkEmail => WorkEmails(user),
        _ => throw new ArgumentOutOfRangeException(nameof(index), index, "Not a user index."),
    };

    // The type of a work e-mail, in the canonical form the filter compares it in (any case or spelling of "work"): one test
    // for what the index holds and for the filters it answers.
    private static readonly string WorkType = IndexNames.Normalize("work");

    private static bool IsWork(string? type) => type is not null && (System.Text.Ascii.IsValid(type)
        ? string.Equals(type, "work", StringComparison.OrdinalIgnoreCase) // the canonical form of ASCII is its upper case: no allocation
        : IndexNames.Normalize(type) == WorkType);

    private static string[] WorkEmails(JsonObject? user)
    {
        if (user?["emails"] is not JsonArray emails)
        {
            return [];
        }

        List<string>? values = null;
        foreach (var email in emails)
        {
            if (email is JsonObject e
                && e["type"] is JsonValue t && t.TryGetValue<string>(out var type) && IsWork(type)
                && e["value"] is JsonValue v && v.TryGetValue<string>(out var value))
            {
                (values ??= []).Add(value);
            }
        }

        return values switch
        {
            null => [],
            [var one] => [one],
            _ => [.. values.DistinctBy(IndexNames.Normalize)],
        };
    }

    /// <summary>
    /// The index probe that finds a superset of the users matching <paramref name="filter"/>, or null when the
    /// filter needs a scan. Callers still evaluate the whole filter on each candidate.
    /// </summary>
    public static IndexProbe? Plan(FilterNode filter) => IndexPlanner.Plan(filter, Cluster.Scim.ScimConstants.UserSchema, EqIndexes, PlanValuePath);

    // Attributes (upper case) whose eq comparisons an index answers; null = the resource id.
    private static readonly Dictionary<string, string?> EqIndexes = new(StringComparer.Ordinal)
    {
        ["ID"] = null,
        ["USERNAME"] = IndexNames.UserName,
        ["EXTERNALID"] = IndexNames.UserExternalId,
    };

    private static IndexProbe? PlanValuePath(ValuePathFilter valuePath) =>
        valuePath.Path.SubAttributeName is null && string.Equals(valuePath.Path.AttributeName, "emails", StringComparison.OrdinalIgnoreCase)
            ? PlanWorkEmail(valuePath.Filter)
            : null;

    private static IndexProbe? PlanWorkEmail(FilterNode inner)
    {
        var conditions = new List<ComparisonFilter>();
        Flatten(inner, conditions);
        var isWork = conditions.Any(c => IsEq(c, "type", out var type) && IsWork(type));
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

}

/// <summary>An index lookup: <see cref="IndexName"/> null means "the resource with id <see cref="Value"/>".</summary>
public sealed record IndexProbe(string? IndexName, string Value);
