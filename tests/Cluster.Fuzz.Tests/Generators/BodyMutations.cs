using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;

namespace Cluster.Fuzz.Tests.Generators;

/// <summary>
/// Request bodies: a valid JSON body, sent as is or mutated — in its JSON structure (wrong types, huge numbers and
/// strings, deep nesting, duplicate or renamed keys, bad escapes), with invalid UTF-8 or lone surrogate escapes inside a
/// string, at the byte level (flip, insert, delete, truncate), in another encoding (BOMs, UTF-16, UTF-32, Latin-1), or
/// replaced by something that is not JSON at all. Shrinking goes towards the first choice of each: the valid body.
/// </summary>
internal static class BodyMutations
{
    private const string Marker = "fuzz-marker-5f0c";

    private static readonly JsonSerializerOptions Raw = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Replacements for one JSON value: other types, numbers no parser should take quietly, bad strings.</summary>
    private static readonly string[] Values =
    [
        "null", "true", "0", "\"\"", "\"x\"", "[]", "{}", "[null]", "{\"\":null}", "-1",
        "1e99999", "-1e99999", "123456789012345678901234567890", "18446744073709551616", "9223372036854775808", "2147483648",
        "-2147483649", "1.7976931348623157e309", "4.9e-325", "-0", "0.1e1", "01", "NaN", "Infinity", "-", "1.",
        "\"\\ud800\"", "\"\\udc00\"", "\"a\\ud800b\"", "\"\\udfff\\ud800\"", "\"\\u0000\"", "\"\\uZZZZ\"", "\"\\x41\"", "\"\\",
        "\"ab\u0001c\"",
    ];

    /// <summary>Byte sequences that are not UTF-8, or escapes that are not a Unicode scalar value, for inside a string.</summary>
    private static readonly byte[][] BadText =
    [
        [0xC3], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80],
        [0xF8, 0x88, 0x80, 0x80, 0x80], [0xFF], [0xFE], [0x80], [0xC3, 0x28], [0x00], [0x01], [0x7F], [0xEF, 0xBB, 0xBF],
        .. new[] { "\\ud800", "\\udc00", "\\ud800\\u0041", "\\udbff\\udfff", "\\uD83D", "\\u0000", "\\ud83d\\ude00", "\\" }.Select(Encoding.ASCII.GetBytes),
    ];

    private static readonly Gen<byte[]> NotJson = G.Weighted(
        (3, G.Pick("", "null", "[]", "\"x\"", "1", "{", "}", "<user/>", "userName=x&active=true", "{}{}", "{\"a\":1}garbage").Select(Encoding.UTF8.GetBytes)),
        (1, Gen.Byte.Array[1, 64]));

    /// <summary>The body <paramref name="valid"/> generates, as is or mutated.</summary>
    public static Gen<byte[]> Of<T>(Gen<T> valid)
        where T : JsonNode =>
        G.Weighted(
            (4, valid.Select(Serialize)),
            (3, valid.SelectMany(Structural)),
            (3, valid.Select(Serialize).SelectMany(BadTextInString)),
            (2, valid.Select(Serialize).SelectMany(Bytes)),
            (1, valid.Select(Serialize).SelectMany(Reencoded)),
            (1, NotJson));

    /// <summary>UTF-8 JSON, non-ASCII as raw UTF-8 (so byte mutations can split it).</summary>
    public static byte[] Serialize(JsonNode node) => Encoding.UTF8.GetBytes(node.ToJsonString(Raw));

    // One value of the tree replaced by raw text: another type, a bad number or string, deep nesting, a huge string,
    // or an object with a duplicated or renamed member.
    private static Gen<byte[]> Structural(JsonNode root)
    {
        var count = Nodes(root).Count();
        return Gen.Int[0, count - 1].SelectMany(index =>
        {
            var node = Nodes(root).ElementAt(index);
            var replacements = new List<(int, Gen<string>)>
            {
                (4, G.Pick(Values)),
                (1, Gen.Select(G.Pick("[", "{\"a\":"), G.Pick(63, 64, 65, 1000, 100_000), Nest)),
                (1, G.Pick(1000, 100_000, 1_100_000).Select(n => "\"" + new string('a', n) + "\"")),
            };
            if (node is JsonObject { Count: > 0 } obj)
            {
                replacements.Add((2, Gen.Int[0, obj.Count - 1].SelectMany(i => Gen.Bool.Select(flip => Duplicated(obj, i, flip)))));
                replacements.Add((1, Gen.Select(Gen.Int[0, obj.Count - 1], G.Pick("", " ", "userName ", "USERNAME", "urn:x:", "a.b", "$ref", "\u00e9"), (i, name) => Renamed(obj, i, name))));
            }

            return G.Weighted([.. replacements]).Select(raw => Replace(root, index, raw));
        });
    }

    // Inside a string (right after a quote) a byte sequence that is not UTF-8, or an escape that is not a scalar value.
    private static Gen<byte[]> BadTextInString(byte[] body)
    {
        var quotes = Enumerable.Range(0, body.Length).Where(i => body[i] == (byte)'"').ToArray();
        return quotes.Length == 0
            ? Gen.Const(body)
            : Gen.Select(G.Pick(quotes), G.Pick(BadText), (at, bad) => (byte[])[.. body.AsSpan(0, at + 1), .. bad, .. body.AsSpan(at + 1)]);
    }

    private static Gen<byte[]> Bytes(byte[] body) => G.Any(
        Gen.Select(Gen.Int[0, body.Length - 1], Gen.Int[0, 7], (at, bit) =>
        {
            var copy = body.ToArray();
            copy[at] ^= (byte)(1 << bit);
            return copy;
        }),
        Gen.Select(Gen.Int[0, body.Length], Gen.Byte.Array[1, 4], (at, bytes) => (byte[])[.. body.AsSpan(0, at), .. bytes, .. body.AsSpan(at)]),
        Gen.Select(Gen.Int[0, body.Length - 1], Gen.Int[1, 8], (at, length) => (byte[])[.. body.AsSpan(0, at), .. body.AsSpan(Math.Min(body.Length, at + length))]),
        Gen.Int[0, body.Length - 1].Select(at => body[..at]));

    private static Gen<byte[]> Reencoded(byte[] body)
    {
        var text = Encoding.UTF8.GetString(body);
        return G.Pick<Func<byte[]>>(
            () => [0xEF, 0xBB, 0xBF, .. body],
            () => [0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF, .. body],
            () => [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(text)],
            () => [.. Encoding.BigEndianUnicode.GetPreamble(), .. Encoding.BigEndianUnicode.GetBytes(text)],
            () => Encoding.Unicode.GetBytes(text),
            () => [.. Encoding.UTF32.GetPreamble(), .. Encoding.UTF32.GetBytes(text)],
            () => Encoding.Latin1.GetBytes(text)).Select(encode => encode());
    }

    private static string Nest(string open, int depth) =>
        string.Concat(Enumerable.Repeat(open, depth)) + "1" + new string(open == "[" ? ']' : '}', depth);

    private static string Duplicated(JsonObject obj, int index, bool flipCase)
    {
        var (name, value) = obj.ElementAt(index);
        var duplicate = flipCase ? new string([.. name.Select(c => char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c))]) : name;
        return "{" + G.Quote(duplicate) + ":" + (value?.ToJsonString(Raw) ?? "null") + "," + obj.ToJsonString(Raw)[1..];
    }

    private static string Renamed(JsonObject obj, int index, string name) =>
        "{" + string.Join(',', obj.Select((p, i) => G.Quote(i == index ? name : p.Key) + ":" + (p.Value?.ToJsonString(Raw) ?? "null"))) + "}";

    // The tree in document order, root first (JSON null values are not nodes and cannot be replaced).
    private static IEnumerable<JsonNode> Nodes(JsonNode node)
    {
        yield return node;
        var children = node switch
        {
            JsonObject obj => obj.Select(p => p.Value),
            JsonArray array => array.AsEnumerable(),
            _ => [],
        };
        foreach (var child in children.OfType<JsonNode>().SelectMany(Nodes))
        {
            yield return child;
        }
    }

    private static byte[] Replace(JsonNode root, int index, string raw)
    {
        if (index == 0)
        {
            return Encoding.UTF8.GetBytes(raw);
        }

        var copy = root.DeepClone();
        var node = Nodes(copy).ElementAt(index);
        switch (node.Parent)
        {
            case JsonObject parent:
                parent[node.GetPropertyName()] = Marker;
                break;
            case JsonArray parent:
                parent[node.GetElementIndex()] = Marker;
                break;
        }

        var text = copy.ToJsonString(Raw);
        var at = text.IndexOf("\"" + Marker + "\"", StringComparison.Ordinal);
        return Encoding.UTF8.GetBytes(text[..at] + raw + text[(at + Marker.Length + 2)..]);
    }
}
