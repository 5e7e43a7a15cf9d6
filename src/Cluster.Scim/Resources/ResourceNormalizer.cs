using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Scim.Errors;
using Cluster.Scim.Schema;

namespace Cluster.Scim.Resources;

/// <summary>
/// Turns a client-supplied resource body (POST/PUT, or the result of a PATCH) into the canonical stored form:
/// core attributes at the top level and extension attributes under their URN key, all under their schema names.
/// </summary>
/// <remarks>
/// Rules (see entra-scim.md §2.3, §2.10, §4.2):
/// <list type="bullet">
/// <item>Attribute and sub-attribute names match case-insensitively and are stored under the schema's spelling.</item>
/// <item>Extension data is accepted nested under its URN key (URN matched case-insensitively) and as flat
/// URN-prefixed keys (<c>urn:…:enterprise:2.0:User:employeeNumber</c>); an extension attribute name without a URN
/// (<c>manager</c>, <c>department</c>) is accepted too.</item>
/// <item>Dropped: JSON nulls, empty arrays, complex values left empty, and read-only attributes the server computes
/// (<c>id</c>, <c>meta</c>, <c>schemas</c>, <c>groups</c>, read-only extension attributes), <c>password</c> (never stored; other
/// write-only attributes, from operator extensions, are stored and never returned), plus keys that look like a schema URI (<c>urn:</c>/<c>http</c>)
/// whose value is an object or null but that name no known extension (Entra's malformed <c>…enterprise:2.0User</c>).</item>
/// <item>Booleans are coerced from <c>"true"</c>/<c>"false"</c> in any case; any other non-Boolean is invalidValue.</item>
/// <item>String-typed attributes (string, reference, dateTime, binary) must be JSON strings; numbers or Booleans there
/// are rejected with invalidValue (no silent conversion). Strings are stored exactly as sent (no trimming or case change).</item>
/// <item>A single value for a multi-valued attribute is wrapped into a one-element array; a one-element array for a
/// single-valued complex attribute is unwrapped. Complex values must be objects. At most one value of a multi-valued
/// attribute is <c>primary</c> (RFC 7643 §2.4): of several, the last keeps it and the others get <c>false</c>.</item>
/// <item>A <c>manager</c>-like attribute (single-valued complex named <c>manager</c>) accepts a bare string id,
/// <c>{"value":id}</c> (other sub-attributes ignored) or a one-element array; it is stored as <c>{"value":id}</c> only,
/// and an empty or missing id removes it.</item>
/// <item>Unknown attributes or sub-attributes are invalidSyntax; a missing (or empty-string) required attribute is invalidValue:
/// required core attributes, an extension the resource type requires, the required attributes of a present extension
/// and the required sub-attributes of a present complex value.</item>
/// <item><c>userName</c>, <c>displayName</c> and <c>externalId</c> may not hold control characters or U+FFFE/U+FFFF
/// (invalidValue, <see cref="ScimIdentity"/>).</item>
/// <item>Documents nested deeper than 32 levels or with an array of more than 1000 elements are invalidValue.</item>
/// </list>
/// The input is never mutated; a new object is returned.
/// </remarks>
public static class ResourceNormalizer
{
    /// <summary>Normalizes and validates a resource body. See the type remarks for the rules.</summary>
    /// <exception cref="ScimException">invalidSyntax for unknown attributes, invalidValue for wrong types, limits or missing required attributes.</exception>
    public static JsonObject Normalize(JsonObject input, ResourceTypeDefinition type)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(type);
        ScimJson.CheckLimits(input);

        var output = new JsonObject();
        foreach (var (key, value) in input)
        {
            AddTopLevel(output, key, value, type);
        }

        CheckRequired(output, type);
        ScimIdentity.CheckIdentifyingAttributes(output, type);
        return output;
    }

    /// <summary>
    /// RFC 7643 §2.4/§7 <c>required</c> (POST and PUT must carry the attribute, RFC 7644 §3.5.1): the core schema's required
    /// attributes; an extension the resource type marks required; and the required attributes of every extension that is
    /// present. Required sub-attributes are checked where their complex value is normalized.
    /// </summary>
    private static void CheckRequired(JsonObject output, ResourceTypeDefinition type)
    {
        foreach (var attribute in type.Schema.Attributes)
        {
            if (attribute.Required && IsMissing(ScimJson.Get(output, attribute.Name)))
            {
                throw ScimException.InvalidValue($"Required attribute {ScimText.Quoted(attribute.Name)} is missing.");
            }
        }

        foreach (var extension in type.Extensions)
        {
            if (ScimJson.Get(output, extension.Schema.Id) is not JsonObject { Count: > 0 } values)
            {
                if (extension.Required)
                {
                    throw ScimException.InvalidValue($"Extension {ScimText.Quoted(extension.Schema.Id)} is required for {type.Name} resources.");
                }

                continue;
            }

            foreach (var attribute in extension.Schema.Attributes)
            {
                if (attribute.Required && IsMissing(ScimJson.Get(values, attribute.Name)))
                {
                    throw ScimException.InvalidValue($"Required attribute {ScimText.Quoted($"{extension.Schema.Id}:{attribute.Name}")} is missing.");
                }
            }
        }
    }

    /// <summary>
    /// Normalizes one attribute value against its definition. Returns null when the value means "unassigned"
    /// (null, empty array, empty complex value, manager with an empty id).
    /// </summary>
    internal static JsonNode? NormalizeValue(JsonNode? value, AttributeDefinition attribute, string displayName)
    {
        if (ScimJson.IsNull(value))
        {
            return null;
        }

        if (!attribute.MultiValued)
        {
            return NormalizeSingle(value!, attribute, displayName);
        }

        var result = new JsonArray();
        IEnumerable<JsonNode?> items = value is JsonArray array ? array : new[] { value };
        foreach (var item in items)
        {
            if (!ScimJson.IsNull(item) && NormalizeSingle(item!, attribute, displayName) is { } normalized)
            {
                result.Add(normalized);
            }
        }

        return result.Count == 0 ? null : result;
    }

    // RFC 7643 §2.4: "primary" is true for at most one value of a stored resource. Several sent at once (a POST, a PUT, a
    // whole-attribute replace): the last keeps it, the others get false, as an added primary value takes it from the others.
    private static void KeepOnePrimary(JsonArray values, AttributeDefinition attribute)
    {
        if (attribute.Type != AttributeType.Complex || attribute.FindSubAttribute("primary") is null)
        {
            return;
        }

        var primaries = values.OfType<JsonObject>()
            .Where(v => ScimJson.TryGetBoolean(ScimJson.Get(v, "primary"), out var primary) && primary)
            .ToList();
        foreach (var demoted in primaries.Take(primaries.Count - 1))
        {
            ScimJson.Set(demoted, "primary", false);
        }
    }

    /// <summary>Normalizes one (non-array) value of an attribute, or one element of a multi-valued attribute.</summary>
    internal static JsonNode? NormalizeSingle(JsonNode value, AttributeDefinition attribute, string displayName)
    {
        if (ScimJson.IsNull(value))
        {
            return null;
        }

        switch (attribute.Type)
        {
            case AttributeType.Complex:
                return IsManagerLike(attribute) ? NormalizeManager(value, attribute, displayName) : NormalizeComplex(value, attribute, displayName);
            case AttributeType.Boolean:
                return ScimJson.TryGetBoolean(value, out var flag)
                    ? JsonValue.Create(flag)
                    : throw ScimException.InvalidValue($"Attribute {ScimText.Quoted(displayName)} must be a Boolean.");
            case AttributeType.Integer:
            case AttributeType.Decimal:
                return value.GetValueKind() == JsonValueKind.Number
                    ? value.DeepClone()
                    : throw ScimException.InvalidValue($"Attribute {ScimText.Quoted(displayName)} must be a number.");
            default:
                return value.GetValueKind() == JsonValueKind.String
                    ? value.DeepClone()
                    : throw ScimException.InvalidValue($"Attribute {ScimText.Quoted(displayName)} must be a string.");
        }
    }

    /// <summary>A single-valued complex attribute named <c>manager</c> with a <c>value</c> sub-attribute.</summary>
    internal static bool IsManagerLike(AttributeDefinition attribute) =>
        attribute is { Type: AttributeType.Complex, MultiValued: false }
        && string.Equals(attribute.Name, "manager", StringComparison.OrdinalIgnoreCase)
        && attribute.FindSubAttribute("value") is not null;

    private static void AddTopLevel(JsonObject output, string key, JsonNode? value, ResourceTypeDefinition type)
    {
        if (type.FindExtension(key) is { } extension)
        {
            if (ScimJson.IsNull(value))
            {
                return;
            }

            if (value is not JsonObject extensionObject)
            {
                throw ScimException.InvalidValue($"Extension {ScimText.Quoted(extension.Id)} must be a JSON object.");
            }

            foreach (var (subKey, subValue) in extensionObject)
            {
                var attribute = extension.FindAttribute(subKey)
                    ?? throw ScimException.InvalidSyntax($"Unknown attribute {ScimText.Quoted($"{extension.Id}:{subKey}")}.");
                Store(output, new ResolvedAttribute(extension, attribute, null), subValue, type);
            }

            return;
        }

        if (AttributePath.TryParse(key, out var path)
            && path.SubAttributeName is null
            && type.Resolve(path) is { } resolved)
        {
            Store(output, resolved, value, type);
            return;
        }

        if (AttributeResolver.IsPassedOver(key, value))
        {
            return;
        }

        throw ScimException.InvalidSyntax($"Unknown attribute {ScimText.Quoted(key)}.");
    }

    private static void Store(JsonObject output, ResolvedAttribute resolved, JsonNode? value, ResourceTypeDefinition type)
    {
        var attribute = resolved.Attribute;

        // readOnly: the server computes it (ignored on input, RFC 7644 §3.3). Not stored (password): this service
        // authenticates nobody with it, so it is never stored — not even hashed — and never returned. Other writeOnly
        // attributes (operator extensions) are stored; projection never returns them (returned: never).
        if (attribute.Mutability == Mutability.ReadOnly || !attribute.Stored)
        {
            return;
        }

        var isExtension = resolved.IsExtension(type);
        var displayName = isExtension ? $"{resolved.Schema.Id}:{attribute.Name}" : attribute.Name;
        var normalized = NormalizeValue(value, attribute, displayName);
        if (normalized is JsonArray values)
        {
            KeepOnePrimary(values, attribute); // of the resource as stored; a PATCH's values are matched as sent
        }

        var container = isExtension ? ScimJson.GetObject(output, resolved.Schema.Id, create: normalized is not null) : output;
        if (container is null)
        {
            return;
        }

        if (normalized is null)
        {
            ScimJson.Remove(container, attribute.Name);
            if (isExtension && container.Count == 0)
            {
                ScimJson.Remove(output, resolved.Schema.Id);
            }

            return;
        }

        ScimJson.Set(container, attribute.Name, normalized);
    }

    private static JsonObject? NormalizeComplex(JsonNode value, AttributeDefinition attribute, string displayName)
    {
        if (!attribute.MultiValued && value is JsonArray array)
        {
            return array.Count switch
            {
                0 => null,
                1 when array[0] is { } only => NormalizeComplex(only, attribute, displayName),
                _ => throw ScimException.InvalidValue($"Attribute {ScimText.Quoted(displayName)} is single-valued."),
            };
        }

        if (value is not JsonObject obj)
        {
            throw ScimException.InvalidValue($"Attribute {ScimText.Quoted(displayName)} must be a complex value (JSON object).");
        }

        var result = new JsonObject();
        foreach (var (key, subValue) in obj)
        {
            var sub = attribute.FindSubAttribute(key)
                ?? throw ScimException.InvalidSyntax($"Unknown attribute {ScimText.Quoted($"{displayName}.{key}")}.");
            if (!ScimJson.IsNull(subValue) && NormalizeSingle(subValue!, sub, $"{displayName}.{sub.Name}") is { } normalized)
            {
                ScimJson.Set(result, sub.Name, normalized);
            }
        }

        if (result.Count > 0 && attribute.SubAttributes.FirstOrDefault(s => s.Required && IsMissing(ScimJson.Get(result, s.Name))) is { } missing)
        {
            throw ScimException.InvalidValue($"Required attribute {ScimText.Quoted($"{displayName}.{missing.Name}")} is missing.");
        }

        return result.Count == 0 ? null : result;
    }

    private static JsonObject? NormalizeManager(JsonNode value, AttributeDefinition attribute, string displayName)
    {
        switch (value)
        {
            case JsonArray array:
                return array.Count switch
                {
                    0 => null,
                    1 when array[0] is { } only => NormalizeManager(only, attribute, displayName),
                    1 => null,
                    _ => throw ScimException.InvalidValue($"Attribute {ScimText.Quoted(displayName)} is single-valued."),
                };
            case JsonObject obj:
                foreach (var (key, _) in obj)
                {
                    if (attribute.FindSubAttribute(key) is null)
                    {
                        throw ScimException.InvalidSyntax($"Unknown attribute {ScimText.Quoted($"{displayName}.{key}")}.");
                    }
                }

                var id = ScimJson.Get(obj, "value");
                if (ScimJson.IsNull(id))
                {
                    return null;
                }

                return id!.GetValueKind() == JsonValueKind.String
                    ? ManagerOf(id.GetValue<string>())
                    : throw ScimException.InvalidValue($"Attribute '{displayName}.value' must be a string.");
            case JsonValue when value.GetValueKind() == JsonValueKind.String:
                return ManagerOf(value.GetValue<string>());
            default:
                throw ScimException.InvalidValue($"Attribute {ScimText.Quoted(displayName)} must be an id string or an object with 'value'.");
        }
    }

    private static JsonObject? ManagerOf(string id) => id.Length == 0 ? null : new JsonObject { ["value"] = id };

    private static bool IsMissing(JsonNode? node) =>
        ScimJson.IsNull(node) || (node!.GetValueKind() == JsonValueKind.String && node.GetValue<string>().Length == 0);
}
