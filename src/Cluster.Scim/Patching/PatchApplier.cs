using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Scim.Errors;
using Cluster.Scim.Filtering;
using Cluster.Scim.Resources;
using Cluster.Scim.Schema;

namespace Cluster.Scim.Patching;

/// <summary>
/// Applies an RFC 7644 §3.5.2 PATCH request to a resource in canonical stored form, accepting both Microsoft Entra
/// dialects (entra-scim.md §2.5, §2.6, §2.8, §4.3, §7.1).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Atomic: all operations are applied, in order, to a deep clone which is then re-validated with
/// <see cref="ResourceNormalizer"/>; on any error the exception propagates and the input is untouched.
/// <c>id</c> and <c>meta</c> of the input are carried over; <c>schemas</c> and <c>groups</c> are not (the server computes them).</item>
/// <item>Pathless <c>add</c>/<c>replace</c>: each key of the value object is treated as a path (<c>name.givenName</c>,
/// <c>urn:…:User:employeeNumber</c>, an extension URN with an object value, plain attributes); <c>schemas</c> keys are
/// ignored, as are unknown schema-URI-like keys with an object value. Pathless <c>remove</c> is noTarget.</item>
/// <item>Single-valued complex attributes (<c>name</c>, enterprise <c>manager</c>) given an object are merged
/// sub-attribute by sub-attribute for both add and replace (a null sub-attribute removes it); manager is always
/// stored as <c>{"value":id}</c> and an empty id clears it.</item>
/// <item>Multi-valued: <c>add</c> appends, skipping an element whose <c>value</c> equals an existing one (or, without
/// <c>value</c>, whose given sub-attributes all equal an existing element's); <c>replace</c> replaces the whole array;
/// <c>remove</c> with a <c>value</c> removes only the matching elements (Entra's member removal), without a value
/// (or with JSON null) removes the attribute; an empty value array removes nothing.</item>
/// <item>Value-filter paths (<c>emails[type eq "work"].value</c>): add/replace update every matching element; when
/// nothing matches a new element is created from the filter's <c>eq</c> comparisons (joined by <c>and</c>) plus the
/// value — any other filter shape is noTarget. Remove with a filter that matches nothing is a no-op. A sub-attribute
/// path without a filter on a multi-valued attribute (<c>emails.value</c>) targets every element.</item>
/// <item>Setting <c>primary</c> to true on one element sets it to false on the others (RFC 7644 §3.5.2).</item>
/// <item>Null values: replace (or add on a single-valued attribute) with null/empty removes the target; add of
/// nothing to a multi-valued attribute is a no-op. Empty strings are stored as sent.</item>
/// <item>Errors: unknown attribute path → invalidPath (also a bad value filter); read-only attribute/sub-attribute
/// (<c>id</c>, <c>meta</c>, <c>groups</c>, <c>schemas</c>, …) → mutability; removing a required attribute, or an extension the
/// resource type requires → mutability (RFC 7644 §3.5.2); a result lacking a required value otherwise → invalidValue;
/// wrong value type → invalidValue (unknown sub-attribute in a value → invalidSyntax).</item>
/// </list>
/// </remarks>
public static class PatchApplier
{
    /// <summary>Applies <paramref name="request"/> to a copy of <paramref name="resource"/> and returns the normalized result.</summary>
    /// <exception cref="ScimException">On any invalid operation; <paramref name="resource"/> is left unchanged.</exception>
    public static JsonObject Apply(JsonObject resource, PatchRequest request, ResourceTypeDefinition type)
    {
        ArgumentNullException.ThrowIfNull(resource);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(type);

        CheckWork(request, type);
        var working = (JsonObject)resource.DeepClone();
        DropRemovedExtensionAttributes(working, type);
        foreach (var operation in request.Operations)
        {
            ApplyOperation(working, operation, type);
        }

        var result = ResourceNormalizer.Normalize(working, type);
        if (ScimJson.Get(resource, "id") is { } id)
        {
            result.Insert(0, "id", id.DeepClone());
        }

        if (ScimJson.Get(resource, "meta") is { } meta)
        {
            result["meta"] = meta.DeepClone();
        }

        return result;
    }

    /// <summary>
    /// Bounds what one request can make the grain compute, before anything is applied (every bound is 400 invalidValue):
    /// <list type="bullet">
    /// <item>at most <see cref="PatchRequest.MaxOperations"/> targets: an operation with a path is one, a pathless value is one
    /// per key (and per key of an extension object in it), as each key is applied as its own path and matched against every
    /// element of its attribute;</item>
    /// <item>at most <see cref="ScimJson.MaxArrayLength"/> elements added to attributes other than members: the elements an
    /// add carries, and one for each value-filter path an add or replace sets (it creates an element when none matches),
    /// since each new element is compared with those present (pairwise when it has no string <c>value</c>);</item>
    /// <item>at most <see cref="ScimJson.MaxArrayLength"/> elements given to removes by value, members excepted (each is
    /// compared with every element present).</item>
    /// </list>
    /// </summary>
    private static void CheckWork(PatchRequest request, ResourceTypeDefinition type)
    {
        int targets = 0, added = 0, removed = 0;
        foreach (var operation in request.Operations)
        {
            foreach (var (path, value) in Targets(operation, type))
            {
                targets++;
                if (path is not null && ScimJson.IsMembersKey(path.Attribute.AttributeName))
                {
                    continue;
                }

                var elements = (value as JsonArray)?.Count ?? (value is null || ScimJson.IsNull(value) ? 0 : 1);
                var filtered = path?.ValueFilter is not null;
                switch (operation.Op)
                {
                    case PatchOperationType.Add:
                        // An object is one element when its attribute is multi-valued (a single-valued one merges it).
                        added += filtered || value is JsonObject ? 1 : (value as JsonArray)?.Count ?? 0;
                        break;
                    case PatchOperationType.Replace when filtered:
                        added++;
                        break;
                    case PatchOperationType.Remove:
                        removed += elements;
                        break;
                }
            }
        }

        if (targets > PatchRequest.MaxOperations)
        {
            throw ScimException.InvalidValue($"A PATCH request may set at most {PatchRequest.MaxOperations} attributes (its operations, and the keys of its pathless values).");
        }

        if (added > ScimJson.MaxArrayLength)
        {
            throw ScimException.InvalidValue($"A PATCH request may add at most {ScimJson.MaxArrayLength} elements to multi-valued attributes other than members.");
        }

        if (removed > ScimJson.MaxArrayLength)
        {
            throw ScimException.InvalidValue($"A PATCH request may name at most {ScimJson.MaxArrayLength} elements to remove from multi-valued attributes other than members.");
        }
    }

    // The targets of one operation, as ApplyOperation applies them: its path, or each key of a pathless value (and of an
    // extension object among them), or each key of an extension's object; a key that is no path has none.
    private static IEnumerable<(PatchPath? Path, JsonNode? Value)> Targets(PatchOperation operation, ResourceTypeDefinition type)
    {
        IEnumerable<(PatchPath?, JsonNode?)> KeysOf(JsonObject values, bool nested) => values.SelectMany(p =>
            !nested && p.Value is JsonObject inner && type.FindExtension(p.Key) is not null
                ? KeysOf(inner, nested: true)
                : [(PathOrNull(p.Key), p.Value)]);

        if (operation.Path is null)
        {
            return operation.Value is JsonObject pathless ? KeysOf(pathless, nested: false) : [(null, operation.Value)];
        }

        return operation.RawPath is { } raw && type.FindExtension(raw) is not null && operation.Value is JsonObject extension
            ? KeysOf(extension, nested: true)
            : [(operation.Path, operation.Value)];
    }

    // A pathless value's key as a path (dotted, URN-prefixed, with a value filter), or null when it is none.
    private static PatchPath? PathOrNull(string key)
    {
        try
        {
            return PatchPath.Parse(key);
        }
        catch (ScimException)
        {
            return null;
        }
    }

    private static void ApplyOperation(JsonObject working, PatchOperation operation, ResourceTypeDefinition type)
    {
        if (operation.Path is null)
        {
            if (operation.Op == PatchOperationType.Remove)
            {
                throw ScimException.NoTarget("A 'remove' operation requires a path.");
            }

            if (operation.Value is not JsonObject values)
            {
                throw ScimException.InvalidValue("A PATCH operation without a path requires an object value.");
            }

            foreach (var (key, value) in values)
            {
                ApplyPathlessKey(working, operation.Op, key, value, type);
            }

            return;
        }

        if (operation.RawPath is { } raw && type.FindExtension(raw) is { } extension)
        {
            ApplyToExtension(working, operation.Op, extension, operation.Value, type);
            return;
        }

        var target = ResolveTarget(operation.Path, type);
        ApplyToTarget(working, operation.Op, target, operation.HasValue, operation.Value, type);
    }

    private static void ApplyPathlessKey(JsonObject working, PatchOperationType op, string key, JsonNode? value, ResourceTypeDefinition type)
    {
        if (string.Equals(key, "schemas", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        if (type.FindExtension(key) is { } extension)
        {
            ApplyToExtension(working, op, extension, value, type);
            return;
        }

        // A key that is no path falls through to the unknown-key handling below.
        if (PathOrNull(key) is { } path && type.Resolve(path.Attribute.Parent) is not null)
        {
            ApplyToTarget(working, op, ResolveTarget(path, type), hasValue: true, value, type);
            return;
        }

        if (AttributeResolver.IsPassedOver(key, value))
        {
            return;
        }

        throw ScimException.InvalidPath($"Unknown attribute {ScimText.Quoted(key)}.");
    }

    private static void ApplyToExtension(JsonObject working, PatchOperationType op, SchemaDefinition extension, JsonNode? value, ResourceTypeDefinition type)
    {
        if (op == PatchOperationType.Remove || ScimJson.IsNull(value))
        {
            if (type.Extensions.Any(e => ReferenceEquals(e.Schema, extension) && e.Required))
            {
                throw ScimException.Mutability($"Extension {ScimText.Quoted(extension.Id)} is required and cannot be removed.");
            }

            ScimJson.Remove(working, extension.Id);
            return;
        }

        if (value is not JsonObject values)
        {
            throw ScimException.InvalidValue($"The value for {ScimText.Quoted(extension.Id)} must be a JSON object.");
        }

        foreach (var (key, subValue) in values)
        {
            var attribute = extension.FindAttribute(key)
                ?? throw ScimException.InvalidPath($"Unknown attribute {ScimText.Quoted($"{extension.Id}:{key}")}.");
            var target = new Target(new ResolvedAttribute(extension, attribute, null), null, null, $"{extension.Id}:{attribute.Name}");
            ApplyToTarget(working, op, target, hasValue: true, subValue, isExtension: true);
        }
    }

    /// <summary>A resolved PATCH target: the attribute, an optional value filter and an optional sub-attribute.</summary>
    private sealed record Target(ResolvedAttribute Resolved, FilterNode? Filter, AttributeDefinition? Sub, string DisplayName)
    {
        public AttributeDefinition Attribute => Resolved.Attribute;
    }

    private static Target ResolveTarget(PatchPath path, ResourceTypeDefinition type)
    {
        var resolved = type.Resolve(path.Attribute.Parent)
            ?? throw ScimException.InvalidPath($"Unknown attribute {ScimText.Quoted(path.Attribute.Parent)}.");
        var attribute = resolved.Attribute;
        var subName = path.Attribute.SubAttributeName ?? path.SubAttribute;
        if (path.Attribute.SubAttributeName is not null && path.SubAttribute is not null)
        {
            throw ScimException.InvalidPath($"Invalid path {ScimText.Quoted(path)}.");
        }

        AttributeDefinition? sub = null;
        if (subName is not null)
        {
            sub = attribute.FindSubAttribute(subName)
                ?? throw ScimException.InvalidPath($"Unknown attribute {ScimText.Quoted($"{attribute.Name}.{subName}")}.");
        }

        if (path.ValueFilter is not null)
        {
            if (attribute.Type != AttributeType.Complex)
            {
                throw ScimException.InvalidPath($"Attribute {ScimText.Quoted(attribute.Name)} is not complex and cannot take a value filter.");
            }

            try
            {
                FilterEvaluator.ValidateElementFilter(path.ValueFilter, attribute);
            }
            catch (ScimException ex)
            {
                throw ScimException.InvalidPath($"Invalid value filter in path {ScimText.Quoted(path)}: {ex.Message}");
            }
        }

        return new Target(resolved, path.ValueFilter, sub, path.ToString());
    }

    private static void ApplyToTarget(JsonObject working, PatchOperationType op, Target target, bool hasValue, JsonNode? value, ResourceTypeDefinition type) =>
        ApplyToTarget(working, op, target, hasValue, value, target.Resolved.IsExtension(type));

    private static void ApplyToTarget(JsonObject working, PatchOperationType op, Target target, bool hasValue, JsonNode? value, bool isExtension)
    {
        var attribute = target.Attribute;
        if (attribute.Mutability == Mutability.ReadOnly || target.Sub?.Mutability == Mutability.ReadOnly)
        {
            throw ScimException.Mutability($"Attribute {ScimText.Quoted(target.DisplayName)} is read-only.");
        }

        if (attribute.MultiValued && target.Sub?.Mutability == Mutability.Immutable)
        {
            // Set when its element is added (a group member's value, $ref and type): changing it in place would make the
            // element another one (RFC 7643 §7, immutable). Add or remove the element instead.
            throw ScimException.Mutability($"Attribute {ScimText.Quoted(target.DisplayName)} is immutable: add or remove the whole {ScimText.Quoted(attribute.Name)} element instead.");
        }

        var container = isExtension
            ? ScimJson.GetObject(working, target.Resolved.Schema.Id, create: op != PatchOperationType.Remove)
            : working;
        if (container is null)
        {
            return;
        }

        if (target.Filter is not null || (target.Sub is not null && attribute.MultiValued))
        {
            ApplyToElements(container, op, target, value);
        }
        else if (target.Sub is not null)
        {
            ApplyToSubAttribute(container, op, target, value);
        }
        else
        {
            ApplyToAttribute(container, op, target, hasValue, value);
        }

        if (isExtension && container.Count == 0)
        {
            ScimJson.Remove(working, target.Resolved.Schema.Id);
        }
    }

    /// <summary>A path naming a whole attribute: <c>userName</c>, <c>name</c>, <c>emails</c>, <c>members</c>, <c>urn:…:manager</c>.</summary>
    private static void ApplyToAttribute(JsonObject container, PatchOperationType op, Target target, bool hasValue, JsonNode? value)
    {
        var attribute = target.Attribute;
        if (op == PatchOperationType.Remove)
        {
            // With a value: only the matching values go, from a complex attribute or any multi-valued one (until 2026-12-07 a
            // multi-valued string attribute, an operator's tags, lost every value).
            if (hasValue && value is not null && (attribute.Type == AttributeType.Complex || attribute.MultiValued))
            {
                RemoveMatchingValues(container, target, value);
                return;
            }

            RemoveAttribute(container, target);
            return;
        }

        if (!attribute.MultiValued && attribute.Type == AttributeType.Complex && value is JsonObject rawObject
            && !ResourceNormalizer.IsManagerLike(attribute))
        {
            MergeInto(ScimJson.GetObject(container, attribute.Name, create: true)!, rawObject, attribute, target.DisplayName);
            return;
        }

        var normalized = ResourceNormalizer.NormalizeValue(value, attribute, target.DisplayName);
        if (normalized is null)
        {
            if (op == PatchOperationType.Replace || !attribute.MultiValued)
            {
                RemoveAttribute(container, target);
            }

            return;
        }

        if (op == PatchOperationType.Add && attribute.MultiValued)
        {
            var array = GetArray(container, target, create: true)!;
            var present = ValueKeys.Of(array, attribute);
            foreach (var item in (JsonArray)normalized)
            {
                if (present.TryAdd(item, out var known) ? true : !known && !array.Any(existing => ElementMatches(existing, item, attribute)))
                {
                    array.Add(item!.DeepClone());
                    ClearOtherPrimaries(array, array[^1]);
                }
            }

            return;
        }

        if (!attribute.MultiValued && attribute.Type == AttributeType.Complex && ScimJson.Get(container, attribute.Name) is JsonObject existingObject)
        {
            // Manager (or a complex value given in a non-object shape): merge the normalized sub-attributes.
            foreach (var (key, subValue) in (JsonObject)normalized)
            {
                ScimJson.Set(existingObject, key, subValue?.DeepClone());
            }

            return;
        }

        ScimJson.Set(container, attribute.Name, normalized);
    }

    /// <summary><c>name.givenName</c>, <c>urn:…:manager.value</c>: a sub-attribute of a single-valued complex attribute.</summary>
    private static void ApplyToSubAttribute(JsonObject container, PatchOperationType op, Target target, JsonNode? value)
    {
        var attribute = target.Attribute;
        var sub = target.Sub!;
        var normalized = op == PatchOperationType.Remove || value is null
            ? null
            : ResourceNormalizer.NormalizeSingle(value, sub, target.DisplayName);
        var parent = ScimJson.GetObject(container, attribute.Name, create: normalized is not null);
        if (parent is null)
        {
            return;
        }

        if (normalized is null)
        {
            ScimJson.Remove(parent, sub.Name);
        }
        else
        {
            ScimJson.Set(parent, sub.Name, normalized);
        }

        if (parent.Count == 0)
        {
            ScimJson.Remove(container, attribute.Name);
        }
    }

    /// <summary>Value-filter paths and sub-attributes of multi-valued attributes: operate on the matching elements.</summary>
    private static void ApplyToElements(JsonObject container, PatchOperationType op, Target target, JsonNode? value)
    {
        var attribute = target.Attribute;
        var sub = target.Sub;
        var array = attribute.MultiValued ? GetArray(container, target, create: false) : null;
        var single = attribute.MultiValued ? null : ScimJson.GetObject(container, attribute.Name, create: false);
        IEnumerable<JsonObject> elements = array?.OfType<JsonObject>() ?? (single is null ? [] : [single]);
        var matches = (target.Filter is null ? elements : elements.Where(FilterEvaluator.ElementMatcher(target.Filter, attribute))).ToList();

        if (op == PatchOperationType.Remove)
        {
            foreach (var element in matches)
            {
                if (sub is not null)
                {
                    ScimJson.Remove(element, sub.Name);
                }
                else
                {
                    RemoveElement(container, target, element);
                }
            }

            return;
        }

        JsonNode? normalized;
        if (sub is not null)
        {
            normalized = value is null ? null : ResourceNormalizer.NormalizeSingle(value, sub, target.DisplayName);
        }
        else
        {
            var elementValue = value is JsonArray { Count: 1 } wrapped ? wrapped[0] : value;
            normalized = elementValue is null ? null : ResourceNormalizer.NormalizeSingle(elementValue, attribute, target.DisplayName);
        }

        if (normalized is null)
        {
            // Setting the target to "nothing": clear the sub-attribute, or (replace) drop the matching elements.
            foreach (var element in matches)
            {
                if (sub is not null)
                {
                    ScimJson.Remove(element, sub.Name);
                }
                else if (op == PatchOperationType.Replace)
                {
                    RemoveElement(container, target, element);
                }
            }

            return;
        }

        if (matches.Count == 0)
        {
            var created = BuildTemplate(target.Filter, attribute, target.DisplayName);
            SetOrMerge(created, normalized, sub);
            if (attribute.MultiValued)
            {
                var target2 = GetArray(container, target, create: true)!;
                target2.Add(created);
                ClearOtherPrimaries(target2, created);
            }
            else
            {
                ScimJson.Set(container, attribute.Name, created);
            }

            return;
        }

        foreach (var element in matches)
        {
            if (sub is null && op == PatchOperationType.Replace)
            {
                // RFC 7644 §3.5.2.3: matching values are replaced; keep the filter's eq values the new value lacks.
                var template = BuildTemplateOrEmpty(target.Filter, attribute);
                foreach (var key in element.Select(p => p.Key).ToList())
                {
                    element.Remove(key);
                }

                SetOrMerge(element, template, null);
            }

            SetOrMerge(element, normalized, sub);
            if (array is not null)
            {
                ClearOtherPrimaries(array, element);
            }
        }
    }

    private static void SetOrMerge(JsonObject element, JsonNode normalized, AttributeDefinition? sub)
    {
        if (sub is not null)
        {
            ScimJson.Set(element, sub.Name, normalized.DeepClone());
            return;
        }

        foreach (var (key, subValue) in (JsonObject)normalized)
        {
            ScimJson.Set(element, key, subValue?.DeepClone());
        }
    }

    /// <summary>
    /// Drops the stored values of attributes an operator removed from a configured extension: the result is checked against
    /// the current schema, which would refuse them, so every PATCH of the resource would fail, Entra's disable included. A
    /// removed extension's data goes the same way (<see cref="ResourceNormalizer"/> leaves out members of unknown URNs).
    /// </summary>
    private static void DropRemovedExtensionAttributes(JsonObject resource, ResourceTypeDefinition type)
    {
        foreach (var (key, value) in resource.ToList())
        {
            // A stored extension the operator no longer configures goes whole (the request's own keys of unknown schemas
            // are refused: ApplyPathlessKey); without this, every PATCH of such a resource failed as an unknown attribute.
            if (value is JsonObject && AttributeResolver.LooksLikeSchemaUri(key) && type.FindExtension(key) is null)
            {
                resource.Remove(key);
                continue;
            }

            // The built-in enterprise extension never changes: only an operator's can have lost an attribute.
            if (value is JsonObject values && type.FindExtension(key) is { } extension && !ReferenceEquals(extension, ScimSchemas.EnterpriseUser))
            {
                foreach (var name in values.Select(v => v.Key).Where(name => extension.FindAttribute(name) is null).ToList())
                {
                    values.Remove(name);
                }
            }
        }
    }

    /// <summary>Merges a raw object into a complex value: null sub-attributes are removed, others normalized and set.</summary>
    private static void MergeInto(JsonObject existing, JsonObject raw, AttributeDefinition attribute, string displayName)
    {
        foreach (var (key, subValue) in raw)
        {
            var sub = attribute.FindSubAttribute(key)
                ?? throw ScimException.InvalidSyntax($"Unknown attribute {ScimText.Quoted($"{displayName}.{key}")}.");
            var normalized = subValue is null ? null : ResourceNormalizer.NormalizeSingle(subValue, sub, $"{displayName}.{sub.Name}");
            if (normalized is null)
            {
                ScimJson.Remove(existing, sub.Name);
            }
            else
            {
                ScimJson.Set(existing, sub.Name, normalized);
            }
        }
    }

    /// <summary>Builds the element to create for an add/replace whose value filter matched nothing.</summary>
    private static JsonObject BuildTemplate(FilterNode? filter, AttributeDefinition attribute, string displayName) =>
        BuildTemplateOrNull(filter, attribute)
        ?? throw ScimException.NoTarget($"No value matches {ScimText.Quoted(displayName)} and its filter cannot describe a new value (only 'eq' joined by 'and').");

    private static JsonObject BuildTemplateOrEmpty(FilterNode? filter, AttributeDefinition attribute) =>
        BuildTemplateOrNull(filter, attribute) ?? [];

    private static JsonObject? BuildTemplateOrNull(FilterNode? filter, AttributeDefinition attribute)
    {
        switch (filter)
        {
            case null:
                return [];
            case AndFilter and:
                var left = BuildTemplateOrNull(and.Left, attribute);
                var right = BuildTemplateOrNull(and.Right, attribute);
                if (left is null || right is null)
                {
                    return null;
                }

                foreach (var (key, value) in right)
                {
                    ScimJson.Set(left, key, value?.DeepClone());
                }

                return left;
            case ComparisonFilter { Operator: ComparisonOperator.Eq, Value: { } literal } comparison:
                var name = comparison.Path.SubAttributeName is { } nested
                    && string.Equals(comparison.Path.AttributeName, attribute.Name, StringComparison.OrdinalIgnoreCase)
                    ? nested
                    : comparison.Path.AttributeName;
                if (comparison.Path.SchemaUrn is not null || attribute.FindSubAttribute(name) is not { } sub)
                {
                    return null;
                }

                return ResourceNormalizer.NormalizeSingle(literal, sub, $"{attribute.Name}.{sub.Name}") is { } normalized
                    ? new JsonObject { [sub.Name] = normalized }
                    : null;
            default:
                return null;
        }
    }

    private static void RemoveMatchingValues(JsonObject container, Target target, JsonNode value)
    {
        var attribute = target.Attribute;
        var toRemove = ResourceNormalizer.NormalizeValue(value, attribute, target.DisplayName);
        IReadOnlyList<JsonNode?> given = toRemove switch
        {
            null => [],
            JsonArray array => array.ToList(),
            _ => [toRemove],
        };
        if (given.Count == 0)
        {
            return;
        }

        if (attribute.MultiValued)
        {
            var array = GetArray(container, target, create: false);
            if (array is null)
            {
                return;
            }

            var byValue = ValueKeys.Of(given, attribute);
            for (var i = array.Count - 1; i >= 0; i--)
            {
                if (byValue.Matches(array[i]) ?? given.Any(item => ElementMatches(array[i], item, attribute)))
                {
                    array.RemoveAt(i);
                }
            }

            if (array.Count == 0)
            {
                ScimJson.Remove(container, attribute.Name);
            }
        }
        else if (ScimJson.Get(container, attribute.Name) is { } existing && given.Any(item => ElementMatches(existing, item, attribute)))
        {
            ScimJson.Remove(container, attribute.Name);
        }
    }

    /// <summary>
    /// The <c>value</c> sub-attributes of a multi-valued complex attribute's elements, as a set, so that adding or removing
    /// many elements (thousands of group members) is linear instead of comparing every pair. Equivalent to
    /// <see cref="ElementMatches"/> for elements with a string <c>value</c> (compared by <see cref="ScimValueOrder.TextKey"/>):
    /// those are matched by <c>value</c> alone; any other element falls back to the pairwise comparison.
    /// </summary>
    private sealed class ValueKeys
    {
        private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
        private readonly AttributeDefinition? _value;
        private bool _allKeyed = true;

        private ValueKeys(AttributeDefinition attribute) => _value = attribute.Type == AttributeType.Complex ? attribute.FindSubAttribute("value") : null;

        public static ValueKeys Of(IEnumerable<JsonNode?> elements, AttributeDefinition attribute)
        {
            var keys = new ValueKeys(attribute);
            foreach (var element in elements)
            {
                if (keys.KeyOf(element) is { } key)
                {
                    keys._keys.Add(key);
                }
                else
                {
                    keys._allKeyed = false;
                }
            }

            return keys;
        }

        /// <summary>
        /// For an element to add: true (and remembered) when it is keyed and new; false with <paramref name="known"/> when
        /// it is keyed and present; false without when it has no key (the caller compares it pairwise).
        /// </summary>
        public bool TryAdd(JsonNode? element, out bool known)
        {
            known = false;
            if (KeyOf(element) is not { } key)
            {
                return false;
            }

            known = !_keys.Add(key);
            return !known;
        }

        /// <summary>For an existing element: whether a given element designates it, or null when only a pairwise comparison can tell.</summary>
        public bool? Matches(JsonNode? existing) => _allKeyed && KeyOf(existing) is { } key ? _keys.Contains(key) : null;

        private string? KeyOf(JsonNode? element) =>
            _value is not null && element is JsonObject obj && ScimJson.Get(obj, "value") is JsonValue value && value.TryGetValue<string>(out var text)
                ? (_value.CaseExact ? text : Resources.ScimIdentity.Canonical(text))
                : null;
    }

    /// <summary>
    /// True when <paramref name="existing"/> is the value <paramref name="given"/> designates: same <c>value</c>
    /// sub-attribute when the given element has one, else every given sub-attribute equal, else equal JSON.
    /// </summary>
    private static bool ElementMatches(JsonNode? existing, JsonNode? given, AttributeDefinition attribute)
    {
        if (existing is JsonObject existingObject && given is JsonObject givenObject)
        {
            if (attribute.FindSubAttribute("value") is { } valueDefinition && ScimJson.Get(givenObject, "value") is { } givenValue)
            {
                return ScimJson.ValuesEqual(ScimJson.Get(existingObject, "value"), givenValue, valueDefinition.CaseExact);
            }

            return givenObject.Count > 0 && givenObject.All(p =>
                ScimJson.ValuesEqual(ScimJson.Get(existingObject, p.Key), p.Value, attribute.FindSubAttribute(p.Key)?.CaseExact ?? true));
        }

        return ScimJson.ValuesEqual(existing, given, attribute.CaseExact);
    }

    private static void RemoveElement(JsonObject container, Target target, JsonObject element)
    {
        if (!target.Attribute.MultiValued)
        {
            ScimJson.Remove(container, target.Attribute.Name);
            return;
        }

        var array = GetArray(container, target, create: false);
        array?.Remove(element);
        if (array?.Count == 0)
        {
            ScimJson.Remove(container, target.Attribute.Name);
        }
    }

    private static void RemoveAttribute(JsonObject container, Target target)
    {
        if (target.Attribute.Required)
        {
            throw ScimException.Mutability($"Required attribute {ScimText.Quoted(target.DisplayName)} cannot be removed.");
        }

        ScimJson.Remove(container, target.Attribute.Name);
    }

    private static JsonArray? GetArray(JsonObject container, Target target, bool create)
    {
        var node = ScimJson.Get(container, target.Attribute.Name);
        switch (node)
        {
            case JsonArray array:
                return array;
            case JsonObject single:
                // Tolerate a stored single object for a multi-valued attribute: wrap it.
                var wrapped = new JsonArray(single.DeepClone());
                ScimJson.Set(container, target.Attribute.Name, wrapped);
                return wrapped;
            case null:
                if (!create)
                {
                    return null;
                }

                var created = new JsonArray();
                ScimJson.Set(container, target.Attribute.Name, created);
                return created;
            default:
                if (node.GetValueKind() == JsonValueKind.Null)
                {
                    goto case null;
                }

                throw ScimException.InvalidValue($"Attribute {ScimText.Quoted(target.DisplayName)} is multi-valued but holds a non-array value.");
        }
    }

    /// <summary>RFC 7644 §3.5.2: setting <c>primary</c> to true on one value sets it to false on the others.</summary>
    private static void ClearOtherPrimaries(JsonArray array, JsonNode? keep)
    {
        if (keep is not JsonObject kept || !ScimJson.TryGetBoolean(ScimJson.Get(kept, "primary"), out var primary) || !primary)
        {
            return;
        }

        foreach (var element in array.OfType<JsonObject>())
        {
            if (!ReferenceEquals(element, kept) && ScimJson.TryGetBoolean(ScimJson.Get(element, "primary"), out var other) && other)
            {
                ScimJson.Set(element, "primary", false);
            }
        }
    }
}
