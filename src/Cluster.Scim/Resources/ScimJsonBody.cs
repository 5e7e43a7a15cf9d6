using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;
using Cluster.Scim.Errors;

namespace Cluster.Scim.Resources;

/// <summary>
/// The one way a request body becomes JSON: bytes in, a <see cref="JsonObject"/> out, or a 400 <c>invalidSyntax</c>.
/// Every body that reaches the SCIM library has gone through here, so no later step meets text it cannot decode.
/// </summary>
/// <remarks>
/// System.Text.Json decodes string values lazily: a body with invalid UTF-8 inside a string (a truncated sequence, an
/// overlong encoding, an encoded surrogate) or with a lone surrogate escape (<c>"\ud800"</c>) parses, and the first
/// read of that string throws <see cref="InvalidOperationException"/> — deep inside the normalizer or the PATCH engine,
/// where it became a 500. Here both are refused before any node is built:
/// <list type="bullet">
/// <item>the bytes must be well-formed UTF-8 (RFC 8259 §8.1); one leading UTF-8 byte order mark is ignored, as §8.1 allows;</item>
/// <item>every string and property name must decode, which rejects unpaired surrogate escapes (RFC 8259 §8.2);</item>
/// <item>duplicate member names are refused (System.Text.Json would keep both and the first lookup would throw);</item>
/// <item>nesting is bounded (<see cref="MaxDepth"/>).</item>
/// </list>
/// </remarks>
public static class ScimJsonBody
{
    /// <summary>Deepest nesting the reader accepts (the normalizer has its own, lower limit for resources).</summary>
    public const int MaxDepth = 64;

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = MaxDepth, AllowDuplicateProperties = false };

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>
    /// A member of a parsed message by its name in any case (RFC 7643 §2.1; an exact match first), null when absent: how
    /// the gateway reads messages the SCIM library does not parse itself (a BulkRequest and its operations).
    /// </summary>
    public static JsonNode? Member(JsonObject message, string name) => ScimJson.Get(message, name);

    /// <summary>Parses a body that must be one JSON object.</summary>
    /// <exception cref="ScimException">400 <c>invalidSyntax</c>: empty, not UTF-8, not JSON, not an object, a lone surrogate, a duplicate member, too deep.</exception>
    public static JsonObject ParseObject(ReadOnlySpan<byte> utf8)
    {
        if (utf8.StartsWith(Utf8Bom))
        {
            utf8 = utf8[Utf8Bom.Length..];
        }

        if (utf8.IsEmpty)
        {
            throw ScimException.InvalidSyntax("The request body is empty.");
        }

        if (!Utf8.IsValid(utf8))
        {
            throw ScimException.InvalidSyntax("The request body is not valid UTF-8.");
        }

        CheckStrings(utf8);
        try
        {
            return JsonNode.Parse(utf8, documentOptions: DocumentOptions) as JsonObject
                ?? throw ScimException.InvalidSyntax("The request body must be a JSON object.");
        }
        catch (JsonException e)
        {
            throw NotJson(e);
        }
    }

    // One pass of the reader over the whole text: syntax errors, depth, and every escaped string decoded once.
    private static void CheckStrings(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = MaxDepth });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped)
                {
                    _ = reader.GetString();
                }
            }
        }
        catch (JsonException e)
        {
            throw NotJson(e);
        }
        catch (InvalidOperationException)
        {
            throw ScimException.InvalidSyntax("The request body holds a string that is not valid Unicode (an unpaired surrogate escape).");
        }
    }

    private static ScimException NotJson(JsonException e) => ScimException.InvalidSyntax(
        e.Message.Contains("maximum configured depth", StringComparison.OrdinalIgnoreCase)
            ? "The request body is nested too deeply."
            : e.Message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase)
                ? "The request body names a member twice."
                : "The request body is not valid JSON.");
}
