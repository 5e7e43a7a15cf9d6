using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;

namespace Cluster.Scim.Tests.Properties;

/// <summary>
/// The random choices a property test's generator makes: every one goes through <see cref="Draw"/>. They come from a
/// seeded <see cref="Random"/> (<c>new Choices(seed)</c>: the same cases on every run), or from CsCheck
/// (<see cref="Generator{T}"/>): then CsCheck picks the cases, prints the seed of a failure, and shrinks it — among failing
/// cases it looks for one that needed fewer choices, then smaller ones (earlier picks, smaller numbers, fewer "yes"es),
/// so the generators stay written as plain code and still shrink.
/// </summary>
internal sealed class Choices
{
    private static readonly string[] Words =
    [
        "alpha", "Bravo", "charlie", "DELTA", "echo", "Foxtrot", "golf", "hotel", "India", "juliet", "kilo", "Lima",
        "mike", "november", "Oscar", "papa", "québec", "Romeo", "sierra", "tango", "uniform", "Victor", "whiskey", "x-ray",
    ];

    private static readonly string[] Specials = [" ", "é", "\"", "\\", "/", "_", "-", ".", "'", "Ω", "&", "+", "<"];

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly Random? _random;
    private readonly PCG? _pcg;
    private ulong _count;
    private ulong _total;

    /// <summary>Choices from a seeded <see cref="Random"/>: the same on every run.</summary>
    public Choices(int seed) => _random = new Random(seed);

    private Choices(PCG pcg) => _pcg = pcg;

    /// <summary>
    /// A CsCheck generator of what <paramref name="generate"/> builds from its choices. Its size, which CsCheck shrinks,
    /// is the number of choices, then their sum.
    /// </summary>
    public static Gen<T> Generator<T>(Func<Choices, T> generate) => new ChoiceGen<T>(generate);

    /// <summary>True with probability <paramref name="p"/>; false is the simpler answer.</summary>
    public bool Chance(double p)
    {
        var threshold = (ulong)((1 - p) * 1_000_000);
        return Draw(1_000_000, v => v >= threshold ? 1UL : 0UL) >= threshold;
    }

    public int Int(int minInclusive, int maxInclusive) => minInclusive + (int)Draw((ulong)((long)maxInclusive - minInclusive + 1));

    public long Long(long minInclusive, long maxExclusive) => minInclusive + (long)Draw((ulong)(maxExclusive - minInclusive));

    /// <summary>A number in [0, 1).</summary>
    public double Double() => Draw(1UL << 53, v => v >> 47) / (double)(1UL << 53);

    public T Pick<T>(IReadOnlyList<T> items) => items[(int)Draw((ulong)items.Count)];

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

    /// <summary>A value in [0, <paramref name="range"/>), counted (as itself, or as <paramref name="cost"/> says) in the size.</summary>
    private ulong Draw(ulong range, Func<ulong, ulong>? cost = null)
    {
        if (range <= 1)
        {
            return 0; // no choice to make (as Random.Next(0) and Random.Next(n, n) answer)
        }

        var value = _pcg is null ? (ulong)_random!.NextInt64((long)range) : _pcg.Next64(range);
        _count++;
        _total += cost is null ? value : cost(value);
        return value;
    }

    /// <summary>Runs a generator written against <see cref="Choices"/> on CsCheck's random source.</summary>
    private sealed class ChoiceGen<T>(Func<Choices, T> generate) : Gen<T>
    {
        public override T Generate(PCG pcg, Size? min, out Size size)
        {
            var choices = new Choices(pcg);
            var value = generate(choices);
            size = new Size(choices._count, new Size(choices._total));
            return value;
        }
    }

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
