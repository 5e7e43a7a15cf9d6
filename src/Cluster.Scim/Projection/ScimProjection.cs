using System.Text.Json.Nodes;
using Cluster.Scim.Resources;
using Cluster.Scim.Schema;

namespace Cluster.Scim.Projection;

/// <summary>
/// The <c>attributes</c> / <c>excludedAttributes</c> query parameters (RFC 7644 §3.4.2.5, §3.9) applied to a resource
/// representation (the full response form: <c>schemas</c>, <c>id</c>, core attributes, extension objects, <c>meta</c>).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>attributes</c> (non-empty) wins over <c>excludedAttributes</c>: only the listed attributes are returned, plus
/// those with <c>returned: always</c> (<c>id</c>, <c>schemas</c>). <c>meta</c> is not "always" and is dropped unless listed.</item>
/// <item>Names may be sub-attribute paths (<c>name.givenName</c>, <c>emails.value</c>), URN-qualified
/// (<c>urn:…:enterprise:2.0:User:department</c>) or a whole extension URN (keeps the whole extension object).
/// Extension attribute names without URN (<c>department</c>) are resolved like PATCH paths.</item>
/// <item><c>excludedAttributes</c> removes the listed attributes / sub-attributes, never those with <c>returned: always</c>.</item>
/// <item><c>returned: never</c> attributes (<c>password</c>) are always removed; <c>returned: request</c> ones only appear when listed in <c>attributes</c>.</item>
/// <item>Unknown or malformed names are ignored (no error), as is whitespace around names.</item>
/// <item>An extension object left empty is removed; <c>schemas</c> is not rewritten for it. Top-level keys not in any schema
/// are kept without <c>attributes</c> and dropped with it, except URN keys of extensions no longer configured, which are
/// always dropped, and their URNs in <c>schemas</c> with them. Inside a configured extension, keys it no longer defines
/// (attributes an operator removed) are always dropped.</item>
/// </list>
/// The input is never mutated.
/// </remarks>
public static class ScimProjection
{
    /// <summary>
    /// Splits a comma-separated query value; returns null for null/blank input. Empty items and repeats are skipped; more than
    /// <see cref="MaxListLength"/> names are 400 <c>invalidValue</c>.
    /// </summary>
    public static IReadOnlyCollection<string>? ParseList(string? csv)
    {
        if (string.IsNullOrWhiteSpace(csv))
        {
            return null;
        }

        // Each name is resolved for every resource rendered: repeats count once, and a list longer than any resource type's
        // attributes (a SearchRequest body may carry a megabyte of them) is refused.
        var items = csv.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        if (items.Length > MaxListLength)
        {
            throw Errors.ScimException.InvalidValue($"At most {MaxListLength} attribute names may be listed.");
        }

        return items.Length == 0 ? null : items;
    }

    /// <summary>Most distinct names an <c>attributes</c> or <c>excludedAttributes</c> list may hold.</summary>
    public const int MaxListLength = 1000;

    /// <summary>Returns a projected copy of <paramref name="resource"/>. See the type remarks.</summary>
    public static JsonObject Apply(
        JsonObject resource,
        IReadOnlyCollection<string>? attributes,
        IReadOnlyCollection<string>? excludedAttributes,
        ResourceTypeDefinition type) =>
        Project(resource, attributes, excludedAttributes, type, keepRequestOnly: false);

    /// <summary>
    /// A copy of <paramref name="resource"/> without the values that never leave the server (<c>returned: never</c>,
    /// writeOnly), keeping everything else, <c>returned: request</c> attributes included: what a grain hands out.
    /// </summary>
    public static JsonObject WithoutHidden(JsonObject resource, ResourceTypeDefinition type) =>
        Project(resource, null, null, type, keepRequestOnly: true);

    /// <summary>
    /// True when <see cref="WithoutHidden"/> may change a resource stored as <paramref name="json"/>: the type has stored
    /// values that are never returned, or the text holds a member named by a URN that no configured extension of the type
    /// names (the data of an extension an operator removed from <c>Scim:Extensions</c>, which may hold writeOnly values), or
    /// one named by an operator's extension (whose configuration may have lost an attribute it holds; the built-in
    /// enterprise extension never changes).
    /// Scans the text without parsing it; it may answer true when nothing would change (then the projection runs for
    /// nothing), never false when something in text the grains stored would change (<see cref="ScimResource.Stamp"/> lists an
    /// extension in <c>schemas</c> only with its member, so a URN the projection drops from <c>schemas</c> always comes
    /// with a member this scan finds).
    /// </summary>
    public static bool MayHideValues(string json, ResourceTypeDefinition type)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(type);
        if (type.HasHiddenStoredAttributes)
        {
            return true;
        }

        // Extension URNs hold no quote or backslash (validated), so a member name "urn:…" ends at the next quote and is
        // followed by a colon; a URN in a string value (the "schemas" list) is followed by a comma or a bracket, and a
        // quote escaped inside a string value is preceded by a backslash, which never precedes a member name.
        const string Open = "\"urn:";
        for (var at = json.IndexOf(Open, StringComparison.OrdinalIgnoreCase); at >= 0; at = json.IndexOf(Open, at + 1, StringComparison.OrdinalIgnoreCase))
        {
            if (at > 0 && json[at - 1] == '\\')
            {
                continue;
            }

            var end = json.IndexOf('"', at + 1);
            if (end < 0 || (end + 1 < json.Length && json[end + 1] == ':' && !ReferenceEquals(type.FindExtension(json[(at + 1)..end]), ScimSchemas.EnterpriseUser)))
            {
                return true;
            }
        }

        return false;
    }

    private static JsonObject Project(
        JsonObject resource,
        IReadOnlyCollection<string>? attributes,
        IReadOnlyCollection<string>? excludedAttributes,
        ResourceTypeDefinition type,
        bool keepRequestOnly)
    {
        ArgumentNullException.ThrowIfNull(resource);
        ArgumentNullException.ThrowIfNull(type);
        var include = attributes is { Count: > 0 } ? Selection.Parse(attributes, type) : null;
        var exclude = include is null && excludedAttributes is { Count: > 0 } ? Selection.Parse(excludedAttributes, type) : null;

        var result = new JsonObject();
        foreach (var (key, value) in resource)
        {
            if (type.FindExtension(key) is { } extension)
            {
                if (value is JsonObject extensionObject)
                {
                    var projected = ProjectContainer(extensionObject, extension, include, exclude, wholeSelected: include?.Extensions.Contains(extension.Id) ?? false, keepRequestOnly);
                    if (exclude?.Extensions.Contains(extension.Id) == true)
                    {
                        // A whole extension excluded still returns its "returned: always" attributes (RFC 7643 §7).
                        foreach (var (name, _) in projected.ToList())
                        {
                            if (extension.FindAttribute(name)?.Returned != Returned.Always)
                            {
                                projected.Remove(name);
                            }
                        }
                    }

                    if (projected.Count > 0)
                    {
                        result[key] = projected;
                    }
                }
                else if (include is null && exclude?.Extensions.Contains(extension.Id) != true)
                {
                    result[key] = value?.DeepClone();
                }

                continue;
            }

            var attribute = type.Schema.FindAttribute(key) ?? CommonAttributes.Find(key);
            if (attribute is null)
            {
                // A URN key that names no current extension is the data of one an operator removed from Scim:Extensions:
                // its attributes are no longer known, so none of them (writeOnly ones included) may be shown.
                if (include is null && !key.Contains(':', StringComparison.Ordinal))
                {
                    result[key] = value?.DeepClone();
                }

                continue;
            }

            if (attribute == CommonAttributes.Schemas && value is JsonArray listed)
            {
                result[key] = KnownSchemas(listed, type);
                continue;
            }

            if (ProjectAttribute(value, attribute, type.Schema, include, exclude, wholeSelected: false, keepRequestOnly) is { } kept)
            {
                result[key] = kept;
            }
        }

        return result;
    }

    /// <summary>
    /// <c>schemas</c> without the URN of an extension no longer configured: its member is dropped (above), and a client
    /// must not be told of a schema <c>/Schemas</c> does not list.
    /// </summary>
    private static JsonArray KnownSchemas(JsonArray listed, ResourceTypeDefinition type)
    {
        var known = new JsonArray();
        foreach (var urn in listed)
        {
            if (urn is not JsonValue value || !value.TryGetValue<string>(out var id) || type.FindSchema(id) is not null)
            {
                known.Add(urn?.DeepClone());
            }
        }

        return known;
    }

    private static JsonObject ProjectContainer(JsonObject container, SchemaDefinition schema, Selection? include, Selection? exclude, bool wholeSelected, bool keepRequestOnly)
    {
        var result = new JsonObject();
        foreach (var (key, value) in container)
        {
            var attribute = schema.FindAttribute(key);
            if (attribute is null)
            {
                // An attribute an operator removed from a configured extension: no longer known, so never shown (it may
                // have been writeOnly), like the data of a removed extension. The next write drops it (PatchApplier).
                continue;
            }

            if (ProjectAttribute(value, attribute, schema, include, exclude, wholeSelected, keepRequestOnly) is { } kept)
            {
                result[key] = kept;
            }
        }

        return result;
    }

    /// <summary>Projects one attribute value; null means "leave it out".</summary>
    private static JsonNode? ProjectAttribute(JsonNode? value, AttributeDefinition attribute, SchemaDefinition schema, Selection? include, Selection? exclude, bool wholeSelected, bool keepRequestOnly)
    {
        if (attribute.NeverReturned)
        {
            return null;
        }

        if (attribute.Returned == Returned.Always)
        {
            return Whole(value, attribute);
        }

        if (include is not null)
        {
            if (wholeSelected || include.Contains(schema, attribute))
            {
                return Whole(value, attribute);
            }

            var subs = include.SubAttributes(schema, attribute);
            return subs.Count == 0 ? null : FilterSubAttributes(value, attribute, s => subs.Contains(s.Name) || s.Returned == Returned.Always);
        }

        if (attribute.Returned == Returned.Request && !keepRequestOnly)
        {
            return null;
        }

        if (exclude is not null)
        {
            if (exclude.Contains(schema, attribute))
            {
                return null;
            }

            var subs = exclude.SubAttributes(schema, attribute);
            if (subs.Count > 0)
            {
                return FilterSubAttributes(value, attribute, s => !subs.Contains(s.Name) || s.Returned == Returned.Always);
            }
        }

        return Whole(value, attribute);
    }

    // The whole value, less the sub-attributes that are never returned (whatever was asked, whatever the parent's "returned").
    private static JsonNode? Whole(JsonNode? value, AttributeDefinition attribute) =>
        attribute.SubAttributes.Any(sub => sub.NeverReturned) ? FilterSubAttributes(value, attribute, _ => true) : value?.DeepClone();

    private static JsonNode? FilterSubAttributes(JsonNode? value, AttributeDefinition attribute, Func<AttributeDefinition, bool> keep)
    {
        JsonObject? FilterElement(JsonObject element)
        {
            var filtered = new JsonObject();
            foreach (var (key, subValue) in element)
            {
                var sub = attribute.FindSubAttribute(key);
                if (sub is not null && !sub.NeverReturned && keep(sub))
                {
                    filtered[key] = subValue?.DeepClone();
                }
            }

            return filtered.Count == 0 ? null : filtered;
        }

        switch (value)
        {
            case JsonObject obj:
                return FilterElement(obj);
            case JsonArray array:
                var result = new JsonArray();
                foreach (var item in array)
                {
                    if (item is JsonObject element && FilterElement(element) is { } filtered)
                    {
                        result.Add(filtered);
                    }
                }

                return result.Count == 0 ? null : result;
            default:
                return value?.DeepClone();
        }
    }

    /// <summary>A parsed attribute list: whole extensions, whole attributes and sub-attributes, keyed by schema.</summary>
    private sealed class Selection
    {
        private static readonly HashSet<string> EmptySet = [];

        private readonly HashSet<string> _attributes = new(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<string, HashSet<string>> _subAttributes = new(StringComparer.OrdinalIgnoreCase);

        public HashSet<string> Extensions { get; } = new(StringComparer.OrdinalIgnoreCase);

        public static Selection Parse(IReadOnlyCollection<string> names, ResourceTypeDefinition type)
        {
            var selection = new Selection();
            foreach (var raw in names)
            {
                var name = raw.Trim();
                if (type.FindExtension(name) is { } extension)
                {
                    selection.Extensions.Add(extension.Id);
                    continue;
                }

                if (AttributeResolver.TryResolve(type, name) is not { } resolved)
                {
                    continue;
                }

                var key = Key(resolved.Schema, resolved.Attribute);
                if (resolved.SubAttribute is null)
                {
                    selection._attributes.Add(key);
                }
                else
                {
                    if (!selection._subAttributes.TryGetValue(key, out var subs))
                    {
                        subs = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
                        selection._subAttributes[key] = subs;
                    }

                    subs.Add(resolved.SubAttribute.Name);
                }
            }

            return selection;
        }

        public bool Contains(SchemaDefinition schema, AttributeDefinition attribute) => _attributes.Contains(Key(schema, attribute));

        public IReadOnlySet<string> SubAttributes(SchemaDefinition schema, AttributeDefinition attribute) =>
            _subAttributes.TryGetValue(Key(schema, attribute), out var subs) ? subs : EmptySet;

        private static string Key(SchemaDefinition schema, AttributeDefinition attribute) => $"{schema.Id}:{attribute.Name}";
    }
}
