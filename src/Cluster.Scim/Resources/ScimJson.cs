using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Scim.Errors;

namespace Cluster.Scim.Resources;

/// <summary>
/// Small JSON helpers shared by the normalizer, the PATCH engine and projection: case-insensitive property access
/// (RFC 7643 §2.1: attribute names are case-insensitive), null handling, Boolean coercion and value comparison.
/// </summary>
internal static class ScimJson
{
    /// <summary>Maximum nesting depth of a document we accept.</summary>
    public const int MaxDepth = 32;

    /// <summary>Maximum number of elements in one JSON array we accept.</summary>
    public const int MaxArrayLength = 1000;

    /// <summary>Returns the actual key of the property named <paramref name="name"/> (exact match preferred, else case-insensitive).</summary>
    public static string? FindKey(JsonObject obj, string name)
    {
        if (obj.ContainsKey(name))
        {
            return name;
        }

        foreach (var property in obj)
        {
            if (string.Equals(property.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Key;
            }
        }

        return null;
    }

    /// <summary>Gets a property value by case-insensitive name (null when absent or JSON null).</summary>
    public static JsonNode? Get(JsonObject obj, string name) => FindKey(obj, name) is { } key ? obj[key] : null;

    /// <summary>Removes every property whose name equals <paramref name="name"/> case-insensitively.</summary>
    public static bool Remove(JsonObject obj, string name)
    {
        var keys = obj.Where(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Select(p => p.Key).ToList();
        foreach (var key in keys)
        {
            obj.Remove(key);
        }

        return keys.Count > 0;
    }

    /// <summary>Sets a property under its canonical name, replacing any case-variant of it (keeps the position of the first one).</summary>
    public static void Set(JsonObject obj, string canonicalName, JsonNode? value)
    {
        var index = -1;
        for (var i = 0; i < obj.Count; i++)
        {
            if (string.Equals(obj.GetAt(i).Key, canonicalName, StringComparison.OrdinalIgnoreCase))
            {
                index = i;
                break;
            }
        }

        if (index < 0)
        {
            obj[canonicalName] = value;
            return;
        }

        Remove(obj, canonicalName);
        obj.Insert(index, canonicalName, value);
    }

    /// <summary>Gets the object stored under <paramref name="name"/>, optionally creating it. Throws InvalidValue when it is not an object.</summary>
    public static JsonObject? GetObject(JsonObject obj, string name, bool create)
    {
        var node = Get(obj, name);
        if (node is JsonObject existing)
        {
            return existing;
        }

        if (!IsNull(node))
        {
            throw ScimException.InvalidValue($"Attribute {ScimText.Quoted(name)} must be a complex value (JSON object).");
        }

        if (!create)
        {
            return null;
        }

        var created = new JsonObject();
        Set(obj, name, created);
        return created;
    }

    /// <summary>True for a missing node and for the JSON literal <c>null</c>.</summary>
    public static bool IsNull(JsonNode? node) => node is null || node.GetValueKind() == JsonValueKind.Null;

    /// <summary>
    /// Reads a Boolean from a JSON boolean or from the strings <c>"true"</c>/<c>"false"</c> in any case
    /// (Entra sends <c>"False"</c>, <c>"True"</c>).
    /// </summary>
    public static bool TryGetBoolean(JsonNode? node, out bool value)
    {
        value = false;
        if (node is not JsonValue jsonValue)
        {
            return false;
        }

        switch (jsonValue.GetValueKind())
        {
            case JsonValueKind.True:
                value = true;
                return true;
            case JsonValueKind.False:
                return true;
            case JsonValueKind.String:
                var text = jsonValue.GetValue<string>();
                if (string.Equals(text, "true", StringComparison.OrdinalIgnoreCase))
                {
                    value = true;
                    return true;
                }

                return string.Equals(text, "false", StringComparison.OrdinalIgnoreCase);
            default:
                return false;
        }
    }

    /// <summary>Compares two JSON values; strings compare by their canonical form (<see cref="ScimIdentity"/>) unless <paramref name="caseExact"/>.</summary>
    public static bool ValuesEqual(JsonNode? left, JsonNode? right, bool caseExact)
    {
        if (IsNull(left) || IsNull(right))
        {
            return IsNull(left) && IsNull(right);
        }

        if (!caseExact
            && left!.GetValueKind() == JsonValueKind.String
            && right!.GetValueKind() == JsonValueKind.String)
        {
            return ScimIdentity.Equal(left.GetValue<string>(), right.GetValue<string>());
        }

        return JsonNode.DeepEquals(left, right);
    }

    /// <summary>
    /// Most members one value may carry: a group's <c>members</c> (in a body, or as the value of a PATCH operation on
    /// <c>members</c>) are not stored in the group's record but in member partitions, and are applied in bounded steps, so
    /// they are not held to <see cref="MaxArrayLength"/>; the request body limit bounds what a client can send.
    /// </summary>
    public const int MaxMembersLength = 1_000_000;

    /// <summary>
    /// Rejects documents nested deeper than <see cref="MaxDepth"/> or with an array longer than <see cref="MaxArrayLength"/>
    /// (<see cref="MaxMembersLength"/> for a <c>members</c> value).
    /// </summary>
    public static void CheckLimits(JsonNode? node) => CheckLimits(node, 1, MaxArrayLength);

    private static void CheckLimits(JsonNode? node, int depth, int maxArrayLength)
    {
        if (node is null or JsonValue)
        {
            return;
        }

        if (depth > MaxDepth)
        {
            throw ScimException.InvalidValue($"The document is nested deeper than {MaxDepth} levels.");
        }

        if (node is JsonArray array)
        {
            if (array.Count > maxArrayLength)
            {
                throw ScimException.InvalidValue($"An array has more than {maxArrayLength} elements.");
            }

            foreach (var item in array)
            {
                CheckLimits(item, depth + 1, MaxArrayLength);
            }

            return;
        }

        var obj = (JsonObject)node;
        var membersOperation = Get(obj, "path") is JsonValue path && path.TryGetValue<string>(out var pathText) && IsMembersKey(pathText);
        foreach (var property in obj)
        {
            var limit = IsMembersKey(property.Key) || (membersOperation && string.Equals(property.Key, "value", StringComparison.OrdinalIgnoreCase))
                ? MaxMembersLength
                : MaxArrayLength;
            CheckLimits(property.Value, depth + 1, limit);
        }
    }

    // "members", "Members", "urn:…:Group:members" (a PATCH path "members" too, but not "members[…]" or "members.value").
    internal static bool IsMembersKey(string key)
    {
        var name = key.LastIndexOf(':') is var colon and >= 0 ? key[(colon + 1)..] : key;
        return string.Equals(name.Trim(), "members", StringComparison.OrdinalIgnoreCase);
    }
}
