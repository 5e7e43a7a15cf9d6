using System.Text;
using System.Text.Json.Nodes;
using Cluster.Scim.Errors;
using Cluster.Scim.Schema;

namespace Cluster.Scim.Resources;

/// <summary>
/// How names that identify a person or a group compare, and which characters they may hold. The one canonical form
/// used by uniqueness claims, index keys, filters, sorting and PATCH value matching of case-insensitive strings
/// (invariant 12: one person, one userName).
/// </summary>
/// <remarks>
/// <para>
/// <b>Canonical form</b> (after RFC 8265's UsernameCaseMapped profile): Unicode NFC, then case-folded. <c>é</c> written
/// precomposed (U+00E9) and as <c>e</c> + U+0301 are one name; so are <c>ß</c> and <c>ẞ</c>, <c>σ</c> and <c>ς</c>,
/// full-width <c>ｊｗｏｎｇ</c> and <c>ＪＷＯＮＧ</c>. .NET has no full case folding, so the fold is the invariant lower-case
/// mapping followed by the invariant upper-case mapping (each alone misses a pair: upper-casing keeps <c>ß</c>/<c>ẞ</c>
/// apart, lower-casing keeps <c>σ</c>/<c>ς</c> apart), and the result is normalized to NFC again. For ASCII it is plain
/// upper-casing, so index keys of ASCII values are the same as before this rule existed.
/// </para>
/// <para>
/// Only comparisons use it: what the client sent is stored and returned as sent.
/// </para>
/// <para>
/// <b>Refused characters</b> in <c>userName</c>, <c>displayName</c> and <c>externalId</c>: the C0 controls (U+0000–U+001F),
/// DEL (U+007F), the C1 controls (U+0080–U+009F) and the noncharacters U+FFFE and U+FFFF — 400 <c>invalidValue</c>.
/// Unpaired surrogates never get this far (<see cref="ScimJsonBody"/> refuses them).
/// </para>
/// </remarks>
public static class ScimIdentity
{
    /// <summary>The core attributes whose values may not hold control characters (of users and groups alike).</summary>
    public static IReadOnlyList<string> IdentifyingAttributes { get; } = ["userName", "displayName", "externalId"];

    /// <summary>The canonical form of <paramref name="value"/>: NFC, case-folded. Total: never throws.</summary>
    public static string Canonical(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (System.Text.Ascii.IsValid(value))
        {
            return value.ToUpperInvariant();
        }

        var text = ToNfc(WithoutLoneSurrogates(value));
        return ToNfc(text.ToLowerInvariant().ToUpperInvariant());
    }

    /// <summary>True when both values have the same canonical form.</summary>
    public static bool Equal(string left, string right) => string.Equals(Canonical(left), Canonical(right), StringComparison.Ordinal);

    /// <summary>True when <paramref name="c"/> may not appear in an identifying attribute.</summary>
    public static bool IsRefused(char c) => c <= '\u001F' || c is >= '\u007F' and <= '\u009F' || c is '\uFFFE' or '\uFFFF';

    /// <summary>
    /// Refuses control characters and noncharacters in the identifying attributes of a normalized resource
    /// (<see cref="IdentifyingAttributes"/>, top level, schema spelling).
    /// </summary>
    /// <exception cref="ScimException">400 <c>invalidValue</c>.</exception>
    internal static void CheckIdentifyingAttributes(JsonObject resource, ResourceTypeDefinition type)
    {
        foreach (var name in IdentifyingAttributes)
        {
            if (ScimJson.Get(resource, name) is JsonValue value && value.TryGetValue<string>(out var text) && text.Any(IsRefused))
            {
                throw ScimException.InvalidValue($"Attribute {ScimText.Quoted(name)} of a {type.Name} must not contain control characters (U+0000–U+001F, U+007F–U+009F) or U+FFFE/U+FFFF.");
            }
        }
    }

    /// <summary>True when <paramref name="text"/> is well-formed UTF-16: every surrogate is half of a pair.</summary>
    internal static bool IsWellFormed(string text) => ReferenceEquals(WithoutLoneSurrogates(text), text);

    private static string ToNfc(string text)
    {
        try
        {
            return text.IsNormalized(NormalizationForm.FormC) ? text : text.Normalize(NormalizationForm.FormC);
        }
        catch (ArgumentException)
        {
            // .NET refuses to normalize text holding U+FFFE (a noncharacter, never stored in an identifying attribute):
            // compare such text as it is.
            return text;
        }
    }

    // Normalization throws on an unpaired surrogate; such text is never stored (ScimJsonBody), but a comparison must not
    // fail on it either: each one stands for U+FFFD.
    private static string WithoutLoneSurrogates(string value)
    {
        StringBuilder? fixedUp = null;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            var paired = char.IsHighSurrogate(c) ? i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])
                : !char.IsLowSurrogate(c) || (i > 0 && char.IsHighSurrogate(value[i - 1]));
            if (!paired)
            {
                fixedUp ??= new StringBuilder(value, 0, i, value.Length);
                fixedUp.Append('\uFFFD');
            }
            else
            {
                fixedUp?.Append(c);
            }
        }

        return fixedUp?.ToString() ?? value;
    }
}
