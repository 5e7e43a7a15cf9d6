using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cluster.Scim.Tests.Properties;

/// <summary>
/// Seeded random choices for the property tests. Everything derives from one <see cref="Random"/> with a fixed seed,
/// so a failure message that names the seed (and step) reproduces exactly.
/// </summary>
internal sealed class Gen(int seed)
{
    private static readonly string[] Words =
    [
        "alpha", "Bravo", "charlie", "DELTA", "echo", "Foxtrot", "golf", "hotel", "India", "juliet", "kilo", "Lima",
        "mike", "november", "Oscar", "papa", "québec", "Romeo", "sierra", "tango", "uniform", "Victor", "whiskey", "x-ray",
    ];

    private static readonly string[] Specials = [" ", "é", "\"", "\\", "/", "_", "-", ".", "'", "Ω", "&", "+", "<"];

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public int Seed { get; } = seed;

    public Random R { get; } = new(seed);

    public bool Chance(double p) => R.NextDouble() < p;

    public int Int(int minInclusive, int maxInclusive) => R.Next(minInclusive, maxInclusive + 1);

    public T Pick<T>(IReadOnlyList<T> items) => items[R.Next(items.Count)];

    /// <summary>The name unchanged most of the time, else with random letters' case flipped (SCIM names are case-insensitive).</summary>
    public string Case(string name)
    {
        if (!Chance(0.25))
        {
            return name;
        }

        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsAsciiLetter(chars[i]) && Chance(0.5))
            {
                chars[i] = char.IsUpper(chars[i]) ? char.ToLowerInvariant(chars[i]) : char.ToUpperInvariant(chars[i]);
            }
        }

        return new string(chars);
    }

    /// <summary>Random case of every letter (for values whose comparison should ignore case).</summary>
    public string FlipCase(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(Chance(0.5) ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
        }

        return builder.ToString();
    }

    public string Word() => Pick(Words);

    /// <summary>A short text value: words, sometimes with spaces, quotes, backslashes, non-ASCII, sometimes empty.</summary>
    public string Text(bool allowEmpty = true)
    {
        if (allowEmpty && Chance(0.04))
        {
            return "";
        }

        var builder = new StringBuilder(Word());
        var extra = Int(0, 2);
        for (var i = 0; i < extra; i++)
        {
            builder.Append(Chance(0.3) ? Pick(Specials) : " ");
            builder.Append(Chance(0.5) ? Word() : Int(0, 99).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return builder.ToString();
    }

    public string Email() => $"{Word()}.{Int(1, 30)}@{Pick(["contoso.com", "Example.org", "fabrikam.COM"])}";

    public string Phone() => $"+1 555 {Int(100, 999)} {Int(1000, 9999)}";

    /// <summary>Renders a JSON string literal for filter text: minimal escaping, full JSON escaping, or relaxed escaping.</summary>
    public string Quote(string value) => Int(0, 2) switch
    {
        0 => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"",
        1 => JsonSerializer.Serialize(value),
        _ => JsonSerializer.Serialize(value, Relaxed),
    };
}

/// <summary>JSON comparison and display helpers: objects compare without regard to key order, arrays in order.</summary>
internal static class PropertyJson
{
    private static readonly JsonSerializerOptions Display = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static JsonNode? Canonical(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, Canonical(p.Value)))),
        JsonArray array => new JsonArray([.. array.Select(Canonical)]),
        null => null,
        _ => node.DeepClone(),
    };

    public static bool Same(JsonNode? expected, JsonNode? actual) => JsonNode.DeepEquals(Canonical(expected), Canonical(actual));

    public static string Show(JsonNode? node) => Canonical(node)?.ToJsonString(Display) ?? "null";
}

/// <summary>The error the reference model expects the library to raise.</summary>
internal sealed class ExpectedScimError(int status, string scimType, string why) : Exception(why)
{
    public int Status { get; } = status;

    public string ScimType { get; } = scimType;
}
