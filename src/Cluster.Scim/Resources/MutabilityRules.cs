using System.Text.Json.Nodes;
using Cluster.Scim.Errors;
using Cluster.Scim.Schema;

namespace Cluster.Scim.Resources;

/// <summary>
/// The update rule for <c>immutable</c> attributes (RFC 7643 §7, RFC 7644 §3.5.1 and §3.5.2), for core and extension
/// attributes alike, checked on the full resource an update (PUT or PATCH) would store.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>An immutable attribute without a value may be set by any write (POST, PUT, PATCH add/replace).</item>
/// <item>Once it has a value, every later update must carry a matching value (RFC 7644 §3.5.1: "If one or more values are
/// already set for the attribute, the input value(s) MUST match"). A different value, and also its absence — a PUT that
/// omits it, a PATCH that removes it — is 400 <c>mutability</c>. A PUT must therefore repeat the value, which a client
/// that read the resource (immutable attributes are returned) does naturally.</item>
/// <item>"Match" follows the attribute's <c>caseExact</c>: a value differing only in case matches, and the stored spelling
/// is kept (the update is adjusted in place), so an immutable value never changes at all.</item>
/// <item>Checked: top-level attributes of the core schema and of every extension, and immutable sub-attributes of
/// single-valued complex attributes. Immutable sub-attributes of multi-valued attributes (a group's <c>members.value</c>)
/// describe elements, which are added and removed whole; they are not checked here (operator extensions may not
/// define them, see <see cref="ScimSchemas.Build"/>).</item>
/// <item><c>readOnly</c> attributes never reach this check (the normalizer drops them from input; PATCH refuses them).</item>
/// </list>
/// </remarks>
public static class MutabilityRules
{
    /// <summary>
    /// For a PUT: copies into <paramref name="updated"/> the stored values of writeOnly attributes (top level, core or
    /// extension) that it omits. A client can never read such a value, so a read-modify-PUT would otherwise erase it;
    /// RFC 7644 §3.5.1 lets a server treat omitted attributes as not asserted. To clear one, PATCH remove it.
    /// </summary>
    public static void KeepOmittedWriteOnly(JsonObject current, JsonObject updated, ResourceTypeDefinition type)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(updated);
        ArgumentNullException.ThrowIfNull(type);
        Keep(current, updated, type.Schema);
        foreach (var extension in type.Extensions)
        {
            if (current[extension.Schema.Id] is JsonObject stored && stored.Count > 0)
            {
                var target = updated[extension.Schema.Id] as JsonObject ?? new JsonObject();
                Keep(stored, target, extension.Schema);
                if (target.Count > 0 && target.Parent is null)
                {
                    updated[extension.Schema.Id] = target;
                }
            }
        }

        static void Keep(JsonObject from, JsonObject to, SchemaDefinition schema)
        {
            foreach (var attribute in schema.Attributes)
            {
                if (attribute is { NeverReturned: true, Stored: true } && from[attribute.Name] is { } value && to[attribute.Name] is null)
                {
                    to[attribute.Name] = value.DeepClone();
                }
            }
        }
    }

    /// <summary>
    /// Checks an update of <paramref name="current"/> into <paramref name="updated"/> (both in canonical stored form).
    /// Returns the violation (400 <c>mutability</c>) or null; on null, <paramref name="updated"/> may have been adjusted
    /// to carry the stored spelling of matching immutable values.
    /// </summary>
    public static ScimException? CheckUpdate(JsonObject current, JsonObject updated, ResourceTypeDefinition type)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(updated);
        ArgumentNullException.ThrowIfNull(type);

        if (CheckContainer(current, updated, type.Schema, null) is { } core)
        {
            return core;
        }

        foreach (var extension in type.Extensions)
        {
            if (ScimJson.Get(current, extension.Schema.Id) is JsonObject currentExtension
                && CheckContainer(currentExtension, ScimJson.Get(updated, extension.Schema.Id) as JsonObject, extension.Schema, extension.Schema.Id) is { } violation)
            {
                return violation;
            }
        }

        return null;
    }

    private static ScimException? CheckContainer(JsonObject current, JsonObject? updated, SchemaDefinition schema, string? urn)
    {
        foreach (var attribute in schema.Attributes)
        {
            var name = urn is null ? attribute.Name : $"{urn}:{attribute.Name}";
            var currentValue = ScimJson.Get(current, attribute.Name);
            if (ScimJson.IsNull(currentValue))
            {
                continue;
            }

            var updatedValue = updated is null ? null : ScimJson.Get(updated, attribute.Name);
            if (attribute.Mutability == Mutability.Immutable)
            {
                if (!Matches(currentValue, updatedValue, attribute))
                {
                    return Violation(name);
                }

                ScimJson.Set(updated!, attribute.Name, currentValue!.DeepClone());
                continue;
            }

            if (attribute is { Type: AttributeType.Complex, MultiValued: false } && currentValue is JsonObject currentObject)
            {
                foreach (var sub in attribute.SubAttributes.Where(s => s.Mutability == Mutability.Immutable))
                {
                    var currentSub = ScimJson.Get(currentObject, sub.Name);
                    if (ScimJson.IsNull(currentSub))
                    {
                        continue;
                    }

                    var updatedObject = updatedValue as JsonObject;
                    if (!Matches(currentSub, updatedObject is null ? null : ScimJson.Get(updatedObject, sub.Name), sub))
                    {
                        return Violation($"{name}.{sub.Name}");
                    }

                    ScimJson.Set(updatedObject!, sub.Name, currentSub!.DeepClone());
                }
            }
        }

        return null;
    }

    private static bool Matches(JsonNode? current, JsonNode? updated, AttributeDefinition attribute)
    {
        if (ScimJson.IsNull(updated))
        {
            return false;
        }

        if (current is JsonArray currentArray && updated is JsonArray updatedArray)
        {
            return currentArray.Count == updatedArray.Count
                && currentArray.Select((item, i) => ScimJson.ValuesEqual(item, updatedArray[i], attribute.CaseExact)).All(equal => equal);
        }

        return ScimJson.ValuesEqual(current, updated, attribute.CaseExact);
    }

    private static ScimException Violation(string name) =>
        ScimException.Mutability($"Attribute {ScimText.Quoted(name)} is immutable: once set, its value cannot be changed or removed.");
}
