using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Scim.Errors;
using Cluster.Scim.Schema;

namespace Cluster.Scim.Filtering;

/// <summary>
/// Evaluates a <see cref="FilterNode"/> against a resource in canonical stored form (core attributes at top level,
/// extension attributes under their schema URN key).
/// <para>
/// Validation: <see cref="Matches"/> and <see cref="MatchesElement"/> validate the tree on every call, so a typo is always
/// a 400 <c>invalidFilter</c>. Callers that may evaluate against zero resources (empty tenant, empty list) MUST call
/// <see cref="Validate"/> once up front, otherwise an unknown attribute would silently yield an empty result.
/// </para>
/// <para>Semantics:</para>
/// <list type="bullet">
/// <item>Attribute names are case-insensitive; extension attributes may omit their URN (<c>employeeNumber</c>, <c>manager</c>).</item>
/// <item>String comparisons honour <c>caseExact</c>, EXCEPT <c>externalId</c>, which is compared case-insensitively
/// (product rule for Entra matching, deviating from RFC 7643's caseExact=true).</item>
/// <item>A complex attribute compared without a sub-attribute compares its <c>value</c> sub-attribute
/// (<c>members eq "u1"</c>, <c>emails eq "a@b"</c>, <c>manager eq "id"</c>); multi-valued attributes match when any element matches.</item>
/// <item><c>ne</c> is the negation of <c>eq</c> (true when absent); <c>eq null</c> means "not present", <c>ne null</c> means "present".</item>
/// <item><c>pr</c>: present and not null, not an empty string, empty array or empty object.</item>
/// <item><c>gt/ge/lt/le</c>: strings ordinally (respecting caseExact), numbers numerically, dateTime as instants;
/// not allowed on boolean or binary attributes. <c>co/sw/ew</c> compare text and are not allowed on booleans.</item>
/// <item>Write-only / <c>returned: never</c> attributes (<c>password</c>, writeOnly extension attributes) cannot be filtered
/// on (invalidFilter): a filter would reveal them.</item>
/// <item>Boolean attributes accept the literals <c>true</c>/<c>false</c> and the strings <c>"true"</c>/<c>"False"</c> (Entra).</item>
/// </list>
/// </summary>
public static class FilterEvaluator
{
    /// <summary>Checks that every attribute in <paramref name="filter"/> exists in <paramref name="resourceType"/> and that
    /// every operator/literal fits its attribute's type. Throws <see cref="ScimException"/> (<c>invalidFilter</c>) otherwise.</summary>
    public static void Validate(FilterNode filter, ResourceTypeDefinition resourceType) =>
        ValidateNode(filter, new Scope(resourceType, null));

    /// <summary>Like <see cref="Validate"/> for a value filter whose paths are sub-attributes of <paramref name="multiValuedAttribute"/>.</summary>
    public static void ValidateElementFilter(FilterNode filter, AttributeDefinition multiValuedAttribute) =>
        ValidateNode(filter, new Scope(null, multiValuedAttribute));

    /// <summary>Validates <paramref name="filter"/> and tells whether <paramref name="resource"/> matches it.</summary>
    public static bool Matches(FilterNode filter, JsonObject resource, ResourceTypeDefinition resourceType)
    {
        var scope = new Scope(resourceType, null);
        ValidateNode(filter, scope);
        return Evaluate(filter, resource, scope);
    }

    /// <summary>
    /// Validates <paramref name="filter"/> (paths relative to the element, e.g. <c>type eq "work"</c>) and tells whether
    /// one element of <paramref name="multiValuedAttribute"/> matches it. Used for PATCH paths like <c>emails[type eq "work"]</c>.
    /// </summary>
    public static bool MatchesElement(FilterNode filter, JsonObject element, AttributeDefinition multiValuedAttribute)
    {
        var scope = new Scope(null, multiValuedAttribute);
        ValidateNode(filter, scope);
        return Evaluate(filter, element, scope);
    }

    /// <summary>Where paths are resolved: against a resource type, or against the sub-attributes of a complex attribute.</summary>
    private sealed record Scope(ResourceTypeDefinition? ResourceType, AttributeDefinition? Parent);

    /// <summary>A resolved path: the extension URN key (null for core), the attribute and the optional sub-attribute.</summary>
    private sealed record Binding(string? ExtensionUrn, AttributeDefinition Attribute, AttributeDefinition? SubAttribute)
    {
        /// <summary>The definition whose type governs comparisons (a complex attribute compares its <c>value</c>).</summary>
        public AttributeDefinition? Compared =>
            SubAttribute ?? (Attribute.Type == AttributeType.Complex ? Attribute.FindSubAttribute("value") : Attribute);
    }

    private static void ValidateNode(FilterNode filter, Scope scope)
    {
        switch (filter)
        {
            case AndFilter and:
                ValidateNode(and.Left, scope);
                ValidateNode(and.Right, scope);
                break;
            case OrFilter or:
                ValidateNode(or.Left, scope);
                ValidateNode(or.Right, scope);
                break;
            case NotFilter not:
                ValidateNode(not.Inner, scope);
                break;
            case PresentFilter present:
                Bind(present.Path, scope);
                break;
            case ComparisonFilter comparison:
                ValidateComparison(comparison, Bind(comparison.Path, scope));
                break;
            case ValuePathFilter valuePath:
                if (scope.Parent is not null)
                {
                    throw ScimException.InvalidFilter("Invalid filter: value paths cannot be nested.");
                }

                var binding = Bind(valuePath.Path, scope);
                if (binding.SubAttribute is not null || binding.Attribute.Type != AttributeType.Complex)
                {
                    throw ScimException.InvalidFilter($"Invalid filter: '{Shorten(valuePath.Path)}' is not a complex attribute and cannot take a value filter.");
                }

                ValidateNode(valuePath.Filter, new Scope(null, binding.Attribute));
                break;
            default:
                throw ScimException.InvalidFilter("Invalid filter: unsupported expression.");
        }
    }

    private static void ValidateComparison(ComparisonFilter comparison, Binding binding)
    {
        var path = Shorten(comparison.Path);
        var target = binding.Compared;
        if (target is null || target.Type == AttributeType.Complex)
        {
            throw ScimException.InvalidFilter($"Invalid filter: '{path}' is a complex attribute and cannot be compared; use a sub-attribute.");
        }

        var op = comparison.Operator;
        var value = comparison.Value;
        var ordering = op is ComparisonOperator.Gt or ComparisonOperator.Ge or ComparisonOperator.Lt or ComparisonOperator.Le;
        var textual = op is ComparisonOperator.Co or ComparisonOperator.Sw or ComparisonOperator.Ew;
        var opName = op.ToString().ToLowerInvariant();
        if (value is null)
        {
            if (op is not (ComparisonOperator.Eq or ComparisonOperator.Ne))
            {
                throw ScimException.InvalidFilter($"Invalid filter: null can only be compared with eq or ne ('{path}').");
            }

            return;
        }

        var valid = target.Type switch
        {
            AttributeType.Boolean when ordering || textual =>
                throw ScimException.InvalidFilter($"Invalid filter: '{opName}' is not supported on boolean attribute '{path}'."),
            AttributeType.Binary when ordering =>
                throw ScimException.InvalidFilter($"Invalid filter: '{opName}' is not supported on binary attribute '{path}'."),
            AttributeType.Boolean => AsBool(value) is not null,
            AttributeType.Integer or AttributeType.Decimal when !textual => NumberText(value) is { } n && IsNumber(n),
            AttributeType.DateTime when !textual => AsDateTime(value) is not null,
            _ => AsText(value) is not null,
        };
        if (!valid)
        {
            throw ScimException.InvalidFilter(
                $"Invalid filter: {Shorten(value.ToJsonString())} is not a valid {target.Type.ToString().ToLowerInvariant()} value for '{path}'.");
        }
    }

    private static Binding Bind(AttributePath path, Scope scope)
    {
        if (scope.Parent is { } parent)
        {
            var sub = path.SchemaUrn is null && path.SubAttributeName is null ? parent.FindSubAttribute(path.AttributeName) : null;
            return sub is null
                ? throw ScimException.InvalidFilter($"Invalid filter: '{Shorten(path)}' is not a sub-attribute of '{parent.Name}'.")
                : new Binding(null, sub, null);
        }

        var resourceType = scope.ResourceType!;
        var resolved = resourceType.Resolve(path)
            ?? throw ScimException.InvalidFilter($"Invalid filter: unknown attribute '{Shorten(path)}' for resource type {resourceType.Name}.");
        if (IsNeverReturned(resolved.Attribute) || (resolved.SubAttribute is { } subAttribute && IsNeverReturned(subAttribute)))
        {
            // A filter on a value that is never returned (password, writeOnly extension attributes) would reveal it.
            throw ScimException.InvalidFilter($"Invalid filter: attribute '{Shorten(path)}' is write-only and cannot be filtered on.");
        }

        return new Binding(resolved.IsExtension(resourceType) ? resolved.Schema.Id : null, resolved.Attribute, resolved.SubAttribute);
    }

    private static bool IsNeverReturned(AttributeDefinition attribute) =>
        attribute.Returned == Returned.Never || attribute.Mutability == Mutability.WriteOnly;

    private static bool Evaluate(FilterNode filter, JsonObject scopeObject, Scope scope)
    {
        switch (filter)
        {
            case AndFilter and:
                return Evaluate(and.Left, scopeObject, scope) && Evaluate(and.Right, scopeObject, scope);
            case OrFilter or:
                return Evaluate(or.Left, scopeObject, scope) || Evaluate(or.Right, scopeObject, scope);
            case NotFilter not:
                return !Evaluate(not.Inner, scopeObject, scope);
            case PresentFilter present:
                return Collect(Bind(present.Path, scope), scopeObject, forPresence: true).Exists(IsPresent);
            case ComparisonFilter comparison:
                return EvaluateComparison(comparison, Bind(comparison.Path, scope), scopeObject);
            case ValuePathFilter valuePath:
                var binding = Bind(valuePath.Path, scope);
                var elementScope = new Scope(null, binding.Attribute);
                foreach (var element in Collect(binding, scopeObject, forPresence: true))
                {
                    if (element is JsonObject elementObject && Evaluate(valuePath.Filter, elementObject, elementScope))
                    {
                        return true;
                    }
                }

                return false;
            default:
                return false;
        }
    }

    private static bool EvaluateComparison(ComparisonFilter comparison, Binding binding, JsonObject scopeObject)
    {
        if (comparison.Value is not { } literal)
        {
            var present = Collect(binding, scopeObject, forPresence: true).Exists(IsPresent);
            return comparison.Operator == ComparisonOperator.Eq ? !present : present;
        }

        var target = binding.Compared!;
        var values = Collect(binding, scopeObject, forPresence: false);
        return comparison.Operator == ComparisonOperator.Ne
            ? !values.Exists(v => Compare(v, ComparisonOperator.Eq, literal, target))
            : values.Exists(v => Compare(v, comparison.Operator, literal, target));
    }

    /// <summary>
    /// The values a path denotes in <paramref name="scopeObject"/>: one per element for multi-valued attributes.
    /// For a complex attribute without sub-attribute, <paramref name="forPresence"/> returns the objects themselves,
    /// otherwise their <c>value</c> sub-attribute.
    /// </summary>
    private static List<JsonNode> Collect(Binding binding, JsonObject scopeObject, bool forPresence)
    {
        var result = new List<JsonNode>();
        var container = binding.ExtensionUrn is null ? scopeObject : GetProperty(scopeObject, binding.ExtensionUrn) as JsonObject;
        var node = container is null ? null : GetProperty(container, binding.Attribute.Name);
        if (node is null)
        {
            return result;
        }

        // Not a collection expression: in a conditional with a JsonArray it would build a new JsonArray and re-parent the node.
        IEnumerable<JsonNode?> items = binding.Attribute.MultiValued && node is JsonArray array ? array : new JsonNode?[] { node };
        foreach (var item in items)
        {
            var value = item switch
            {
                null => null,
                _ when binding.SubAttribute is { } sub => item is JsonObject o ? GetProperty(o, sub.Name) : null,
                _ when binding.Attribute.Type == AttributeType.Complex && !forPresence =>
                    item is JsonObject o ? GetProperty(o, "value") : item, // tolerate a bare-string manager
                _ => item,
            };
            if (value is not null)
            {
                result.Add(value);
            }
        }

        return result;
    }

    private static JsonNode? GetProperty(JsonObject obj, string name)
    {
        if (obj.TryGetPropertyValue(name, out var exact))
        {
            return exact;
        }

        foreach (var (key, value) in obj)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        return null;
    }

    private static bool IsPresent(JsonNode? node) => node switch
    {
        JsonArray array => array.Any(IsPresent),
        JsonObject obj => obj.Any(p => IsPresent(p.Value)),
        JsonValue value => value.GetValueKind() switch
        {
            JsonValueKind.String => AsText(value) is { Length: > 0 },
            JsonValueKind.Null or JsonValueKind.Undefined => false,
            _ => true,
        },
        _ => false,
    };

    private static bool Compare(JsonNode candidate, ComparisonOperator op, JsonValue literal, AttributeDefinition target)
    {
        var textual = op is ComparisonOperator.Co or ComparisonOperator.Sw or ComparisonOperator.Ew;
        switch (target.Type)
        {
            case AttributeType.Boolean:
                return AsBool(candidate) is { } b && b == AsBool(literal);
            case AttributeType.Integer or AttributeType.Decimal when !textual:
                return CompareNumbers(candidate, literal) is { } n && Ordered(n, op);
            case AttributeType.DateTime when !textual:
                return AsDateTime(candidate) is { } a && AsDateTime(literal) is { } d && Ordered(a.CompareTo(d), op);
            default:
                var caseExact = target.CaseExact && !ReferenceEquals(target, CommonAttributes.ExternalId);
                return CompareText(AsText(candidate), op, AsText(literal), caseExact ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
        }
    }

    private static bool CompareText(string? left, ComparisonOperator op, string? right, StringComparison comparison)
    {
        if (left is null || right is null)
        {
            return false;
        }

        return op switch
        {
            ComparisonOperator.Co => left.Contains(right, comparison),
            ComparisonOperator.Sw => left.StartsWith(right, comparison),
            ComparisonOperator.Ew => left.EndsWith(right, comparison),
            _ => Ordered(string.Compare(left, right, comparison), op),
        };
    }

    private static bool Ordered(int comparison, ComparisonOperator op) => op switch
    {
        ComparisonOperator.Eq => comparison == 0,
        ComparisonOperator.Ne => comparison != 0,
        ComparisonOperator.Gt => comparison > 0,
        ComparisonOperator.Ge => comparison >= 0,
        ComparisonOperator.Lt => comparison < 0,
        ComparisonOperator.Le => comparison <= 0,
        _ => false,
    };

    private static string? AsText(JsonNode? node)
    {
        if (node is not JsonValue value)
        {
            return null;
        }

        return value.GetValueKind() switch
        {
            JsonValueKind.String => value.TryGetValue<string>(out var s) ? s : null,
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Number => value.ToJsonString(),
            _ => null,
        };
    }

    private static bool? AsBool(JsonNode? node) => node is JsonValue value
        ? value.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String => bool.TryParse(AsText(value), out var b) ? b : null,
            _ => null,
        }
        : null;

    private static DateTimeOffset? AsDateTime(JsonNode? node) =>
        node is JsonValue { } value && value.GetValueKind() == JsonValueKind.String
        && DateTimeOffset.TryParse(AsText(value), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var result)
            ? result
            : null;

    private static string? NumberText(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() is JsonValueKind.Number or JsonValueKind.String ? AsText(value) : null;

    private static bool IsNumber(string text) => CompareNumbers(text, text) is not null;

    /// <summary>Compares two numbers as decimals, or as finite doubles when one is out of decimal range.</summary>
    private static int? CompareNumbers(JsonNode left, JsonNode right) =>
        NumberText(left) is { } l && NumberText(right) is { } r ? CompareNumbers(l, r) : null;

    private static int? CompareNumbers(string left, string right)
    {
        const NumberStyles Styles = NumberStyles.Float;
        var culture = CultureInfo.InvariantCulture;
        if (decimal.TryParse(left, Styles, culture, out var lm) && decimal.TryParse(right, Styles, culture, out var rm))
        {
            return lm.CompareTo(rm);
        }

        return double.TryParse(left, Styles, culture, out var ld) && double.TryParse(right, Styles, culture, out var rd)
            && double.IsFinite(ld) && double.IsFinite(rd)
                ? ld.CompareTo(rd)
                : null;
    }

    private static string Shorten(object text)
    {
        var s = text.ToString() ?? "";
        return s.Length <= 100 ? s : s[..100] + "…";
    }
}
