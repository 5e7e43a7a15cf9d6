using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Scim.Resources;
using Cluster.Scim.Schema;

namespace Cluster.Scim.Filtering;

/// <summary>
/// The one ordering of SCIM values, shared by filters (<c>eq</c>, <c>gt</c>, <c>ge</c>, <c>lt</c>, <c>le</c>) and by
/// sorting (RFC 7644 §3.4.2.3). A value is first turned into its <see cref="Key"/> for its attribute's type, then keys
/// are ordered by <see cref="Compare"/>:
/// <list type="bullet">
/// <item>strings (and references, binary) in code-point order of their canonical form (<see cref="ScimIdentity.Canonical"/>:
/// NFC, case-folded) unless the attribute is <c>caseExact</c>, then as sent (<c>externalId</c> is always case-insensitive:
/// product rule for Entra matching);</item>
/// <item>integers and decimals numerically; dateTimes as instants; booleans <c>false</c> before <c>true</c>.</item>
/// </list>
/// A key is a short string that holds no reference to the resource it came from, so a sort can keep one per resource.
/// </summary>
public static class ScimValueOrder
{
    /// <summary>
    /// The comparable form of <paramref name="node"/> as a value of <paramref name="target"/>, or null when the node is
    /// not a value of that type (a string that is no date for a dateTime attribute, an object, null…).
    /// </summary>
    public static string? Key(JsonNode? node, AttributeDefinition target) => target.Type switch
    {
        AttributeType.Boolean => AsBool(node) is { } b ? (b ? "true" : "false") : null,
        AttributeType.Integer or AttributeType.Decimal => NumberText(node) is { } n && IsNumber(n) ? n : null,

        // Normalized to UTC in round-trip form, whose ordinal order is chronological.
        AttributeType.DateTime => AsDateTime(node)?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
        AttributeType.Complex => null,
        _ => AsText(node) is { } text ? TextKey(text, target) : null,
    };

    /// <summary>Orders two <see cref="Key"/>s of <paramref name="target"/>: negative, zero or positive.</summary>
    public static int Compare(string left, string right, AttributeDefinition target) => target.Type switch
    {
        AttributeType.Integer or AttributeType.Decimal => CompareNumbers(left, right) ?? string.CompareOrdinal(left, right),
        AttributeType.Boolean or AttributeType.DateTime => string.CompareOrdinal(left, right),
        _ => string.CompareOrdinal(left, right),
    };

    /// <summary>
    /// The comparable form of a string of <paramref name="target"/>: as sent when the attribute is <c>caseExact</c>, else its
    /// canonical form (<see cref="ScimIdentity.Canonical"/>). Keys compare ordinally.
    /// </summary>
    public static string TextKey(string text, AttributeDefinition target) =>
        target.CaseExact && !ReferenceEquals(target, CommonAttributes.ExternalId) ? text : ScimIdentity.Canonical(text);

    internal static string? AsText(JsonNode? node)
    {
        if (node is not JsonValue value)
        {
            return null;
        }

        return value.GetValueKind() switch
        {
            JsonValueKind.String => value.TryGetValue<string>(out var s) ? s : null,
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Number => value.ToJsonString(),
            _ => null,
        };
    }

    internal static bool? AsBool(JsonNode? node) => node is JsonValue value
        ? value.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String => bool.TryParse(AsText(value), out var b) ? b : null,
            _ => null,
        }
        : null;

    internal static DateTimeOffset? AsDateTime(JsonNode? node) =>
        node is JsonValue { } value && value.GetValueKind() == JsonValueKind.String
        && DateTimeOffset.TryParse(AsText(value), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var result)
            ? result
            : null;

    internal static string? NumberText(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() is JsonValueKind.Number or JsonValueKind.String ? AsText(value) : null;

    internal static bool IsNumber(string text) => CompareNumbers(text, text) is not null;

    /// <summary>Compares two numbers as decimals, or as finite doubles when one is out of decimal range.</summary>
    private static int? CompareNumbers(string left, string right)
    {
        const NumberStyles Styles = NumberStyles.Float;
        var culture = CultureInfo.InvariantCulture;
        if (decimal.TryParse(left, Styles, culture, out var lm) && decimal.TryParse(right, Styles, culture, out var rm))
        {
            return lm.CompareTo(rm);
        }

        return double.TryParse(left, Styles, culture, out var ld) && double.TryParse(right, Styles, culture, out var rd)
            && double.IsFinite(ld) && double.IsFinite(rd)
                ? ld.CompareTo(rd)
                : null;
    }
}
