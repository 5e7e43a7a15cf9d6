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
/// <item><c>eq/gt/ge/lt/le</c> use <see cref="ScimValueOrder"/>, the order sorting uses too: strings ordinally
/// (respecting caseExact), numbers numerically, dateTime as instants;
/// <c>gt/ge/lt/le</c> are not allowed on boolean or binary attributes. <c>co/sw/ew</c> compare text and are not allowed on booleans.</item>
/// <item>Values computed when a resource is shown (<c>meta.location</c>, members' <c>$ref</c>) cannot be filtered on (invalidFilter).</item>
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
    public static bool MatchesElement(FilterNode filter, JsonObject element, AttributeDefinition multiValuedAttribute) =>
        ElementMatcher(filter, multiValuedAttribute)(element);

    /// <summary>
    /// <see cref="MatchesElement"/> for many elements: validates <paramref name="filter"/> once and returns the test of one
    /// element (a PATCH's value filter is matched against every element of its attribute).
    /// </summary>
    public static Func<JsonObject, bool> ElementMatcher(FilterNode filter, AttributeDefinition multiValuedAttribute)
    {
        var scope = new Scope(null, multiValuedAttribute);
        ValidateNode(filter, scope);
        return element => Evaluate(filter, element, scope);
    }

    /// <summary>
    /// Checks a filter meant for several resource types at once (<c>POST /.search</c> at the root): every attribute must
    /// exist in at least one of them, and fit its type in each one that has it. Throws <c>invalidFilter</c> otherwise.
    /// </summary>
    public static void ValidateAcross(FilterNode filter, IReadOnlyList<ResourceTypeDefinition> resourceTypes)
    {
        switch (filter)
        {
            case AndFilter and:
                ValidateAcross(and.Left, resourceTypes);
                ValidateAcross(and.Right, resourceTypes);
                return;
            case OrFilter or:
                ValidateAcross(or.Left, resourceTypes);
                ValidateAcross(or.Right, resourceTypes);
                return;
            case NotFilter not:
                ValidateAcross(not.Inner, resourceTypes);
                return;
        }

        var path = LeafPath(filter);
        var knowing = resourceTypes.Where(t => path is null || t.Resolve(path) is not null).ToList();
        if (knowing.Count == 0)
        {
            throw ScimException.InvalidFilter(
                $"Invalid filter: unknown attribute {ScimText.Quoted(Shorten(path!))} for resource types {string.Join(", ", resourceTypes.Select(t => t.Name))}.");
        }

        foreach (var type in knowing)
        {
            Validate(filter, type);
        }
    }

    /// <summary>
    /// Like <see cref="Matches"/> for a filter over several resource types (checked first with
    /// <see cref="ValidateAcross"/>): an attribute expression (comparison, <c>pr</c>, value path) naming an attribute
    /// <paramref name="resourceType"/> lacks is false instead of an error; <c>and</c>, <c>or</c> and <c>not</c> combine
    /// as usual.
    /// </summary>
    public static bool MatchesAcross(FilterNode filter, JsonObject resource, ResourceTypeDefinition resourceType)
    {
        var scope = new Scope(resourceType, null, Lenient: true);
        ValidateNode(filter, scope);
        return Evaluate(filter, resource, scope);
    }

    /// <summary>
    /// False when no resource of <paramref name="resourceType"/> can match <paramref name="filter"/> because the filter
    /// needs attributes the type lacks (as <see cref="MatchesAcross"/> evaluates it): the kind need not be read.
    /// </summary>
    public static bool CanMatch(FilterNode filter, ResourceTypeDefinition resourceType) => Satisfiable(filter, resourceType) != false;

    // Three-valued: false = never matches, true = always matches, null = depends on the resource.
    private static bool? Satisfiable(FilterNode filter, ResourceTypeDefinition type) => filter switch
    {
        AndFilter and => And(Satisfiable(and.Left, type), Satisfiable(and.Right, type)),
        OrFilter or => !And(!Satisfiable(or.Left, type), !Satisfiable(or.Right, type)),
        NotFilter not => !Satisfiable(not.Inner, type),
        _ when LeafPath(filter) is { } path && type.Resolve(path) is null => false,
        _ => null,
    };

    private static bool? And(bool? left, bool? right) =>
        left == false || right == false ? false : left == true && right == true ? true : null;

    private static AttributePath? LeafPath(FilterNode filter) => filter switch
    {
        PresentFilter present => present.Path,
        ComparisonFilter comparison => comparison.Path,
        ValuePathFilter valuePath => valuePath.Path,
        _ => null,
    };

    /// <summary>
    /// The value <paramref name="resource"/> sorts by for <paramref name="resolved"/> (RFC 7644 §3.4.2.3) as a
    /// <see cref="ScimValueOrder.Key"/>, or null when it has none: a singular attribute's value; for a multi-valued one
    /// the value of the element marked <c>primary</c>, else of the first element that has one. A complex attribute
    /// without sub-attribute means its <c>value</c> sub-attribute.
    /// </summary>
    public static string? SortKey(JsonObject resource, ResourceTypeDefinition resourceType, ResolvedAttribute resolved)
    {
        var binding = new Binding(resolved.IsExtension(resourceType) ? resolved.Schema.Id : null, resolved.Attribute, resolved.SubAttribute);
        if (binding.Compared is not { Type: not AttributeType.Complex } target)
        {
            return null;
        }

        string? first = null;
        foreach (var element in Elements(binding, resource))
        {
            if (element is null)
            {
                continue;
            }

            var key = ScimValueOrder.Key(ValueOf(binding, element, forPresence: false), target);
            if (key is not null && element is JsonObject o && AsBool(GetProperty(o, "primary")) == true && binding.Attribute.MultiValued)
            {
                return key;
            }

            first ??= key;
        }

        return first;
    }

    /// <summary>Where paths are resolved: against a resource type, or against the sub-attributes of a complex attribute.
    /// <paramref name="Lenient"/>: an attribute the resource type lacks binds to nothing (its expressions are false).</summary>
    private sealed record Scope(ResourceTypeDefinition? ResourceType, AttributeDefinition? Parent, bool Lenient = false);

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
                if (Bind(comparison.Path, scope) is { } compared)
                {
                    ValidateComparison(comparison, compared);
                }

                break;
            case ValuePathFilter valuePath:
                if (scope.Parent is not null)
                {
                    throw ScimException.InvalidFilter("Invalid filter: value paths cannot be nested.");
                }

                var binding = Bind(valuePath.Path, scope);
                if (binding is null)
                {
                    break;
                }

                if (binding.SubAttribute is not null || binding.Attribute.Type != AttributeType.Complex)
                {
                    throw ScimException.InvalidFilter($"Invalid filter: {ScimText.Quoted(Shorten(valuePath.Path))} is not a complex attribute and cannot take a value filter.");
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
            throw ScimException.InvalidFilter($"Invalid filter: {ScimText.Quoted(path)} is a complex attribute and cannot be compared; use a sub-attribute.");
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
                throw ScimException.InvalidFilter($"Invalid filter: null can only be compared with eq or ne ({ScimText.Quoted(path)}).");
            }

            return;
        }

        var valid = target.Type switch
        {
            AttributeType.Boolean when ordering || textual =>
                throw ScimException.InvalidFilter($"Invalid filter: {ScimText.Quoted(opName)} is not supported on boolean attribute {ScimText.Quoted(path)}."),
            AttributeType.Binary when ordering =>
                throw ScimException.InvalidFilter($"Invalid filter: {ScimText.Quoted(opName)} is not supported on binary attribute {ScimText.Quoted(path)}."),
            AttributeType.Boolean => AsBool(value) is not null,
            AttributeType.Integer or AttributeType.Decimal when !textual => NumberText(value) is { } n && IsNumber(n),
            AttributeType.DateTime when !textual => AsDateTime(value) is not null,
            _ => AsText(value) is not null,
        };
        if (!valid)
        {
            throw ScimException.InvalidFilter(
                $"Invalid filter: {Shorten(value.ToJsonString())} is not a valid {target.Type.ToString().ToLowerInvariant()} value for {ScimText.Quoted(path)}.");
        }
    }

    private static Binding? Bind(AttributePath path, Scope scope)
    {
        if (scope.Parent is { } parent)
        {
            var sub = path.SchemaUrn is null && path.SubAttributeName is null ? parent.FindSubAttribute(path.AttributeName) : null;
            return sub switch
            {
                null => throw ScimException.InvalidFilter($"Invalid filter: {ScimText.Quoted(Shorten(path))} is not a sub-attribute of {ScimText.Quoted(parent.Name)}."),
                { NeverReturned: true } => throw WriteOnly(path),
                { Queryable: false } => throw NotStored(path),
                _ => new Binding(null, sub, null),
            };
        }

        var resourceType = scope.ResourceType!;
        var resolved = resourceType.Resolve(path);
        if (resolved is null)
        {
            return scope.Lenient
                ? null
                : throw ScimException.InvalidFilter($"Invalid filter: unknown attribute {ScimText.Quoted(Shorten(path))} for resource type {resourceType.Name}.");
        }

        // A filter on a value that is never returned (password, writeOnly extension attributes) would reveal it; so would
        // one on a complex attribute compared through its never-returned "value".
        if (resolved.Attribute.NeverReturned || (resolved.SubAttribute is { } subAttribute && subAttribute.NeverReturned)
            || (resolved.SubAttribute is null && resolved.Attribute.FindSubAttribute("value") is { NeverReturned: true }))
        {
            throw WriteOnly(path);
        }

        if (!(resolved.SubAttribute ?? resolved.Attribute).Queryable)
        {
            throw NotStored(path);
        }

        return new Binding(resolved.IsExtension(resourceType) ? resolved.Schema.Id : null, resolved.Attribute, resolved.SubAttribute);
    }

    private static ScimException NotStored(AttributePath path) =>
        ScimException.InvalidFilter($"Invalid filter: attribute {ScimText.Quoted(Shorten(path))} is computed when a resource is shown and cannot be filtered on.");

    private static ScimException WriteOnly(AttributePath path) =>
        ScimException.InvalidFilter($"Invalid filter: attribute {ScimText.Quoted(Shorten(path))} is write-only and cannot be filtered on.");

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
                return Bind(present.Path, scope) is { } presentBinding && Collect(presentBinding, scopeObject, forPresence: true).Exists(IsPresent);
            case ComparisonFilter comparison:
                return Bind(comparison.Path, scope) is { } comparedBinding && EvaluateComparison(comparison, comparedBinding, scopeObject);
            case ValuePathFilter valuePath:
                if (Bind(valuePath.Path, scope) is not { } binding)
                {
                    return false;
                }

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
        foreach (var item in Elements(binding, scopeObject))
        {
            if (item is not null && ValueOf(binding, item, forPresence) is { } value)
            {
                result.Add(value);
            }
        }

        return result;
    }

    /// <summary>The elements of the attribute a binding names: one per element for multi-valued attributes.</summary>
    private static IEnumerable<JsonNode?> Elements(Binding binding, JsonObject scopeObject)
    {
        var container = binding.ExtensionUrn is null ? scopeObject : GetProperty(scopeObject, binding.ExtensionUrn) as JsonObject;
        var node = container is null ? null : GetProperty(container, binding.Attribute.Name);
        if (node is null)
        {
            return [];
        }

        // Not a collection expression: in a conditional with a JsonArray it would build a new JsonArray and re-parent the node.
        return binding.Attribute.MultiValued && node is JsonArray array ? array : new JsonNode?[] { node };
    }

    private static JsonNode? ValueOf(Binding binding, JsonNode item, bool forPresence) => item switch
    {
        _ when binding.SubAttribute is { } sub => item is JsonObject o ? GetProperty(o, sub.Name) : null,
        _ when binding.Attribute.Type == AttributeType.Complex && !forPresence =>
            item is JsonObject o ? GetProperty(o, "value") : item, // tolerate a bare-string manager
        _ => item,
    };

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
        if (op is ComparisonOperator.Co or ComparisonOperator.Sw or ComparisonOperator.Ew)
        {
            return CompareText(AsText(candidate), op, AsText(literal), target);
        }

        return ScimValueOrder.Key(candidate, target) is { } left && ScimValueOrder.Key(literal, target) is { } right
            && Ordered(ScimValueOrder.Compare(left, right, target), op);
    }

    private static bool CompareText(string? left, ComparisonOperator op, string? right, AttributeDefinition target)
    {
        if (left is null || right is null)
        {
            return false;
        }

        left = ScimValueOrder.TextKey(left, target);
        right = ScimValueOrder.TextKey(right, target);
        return op switch
        {
            ComparisonOperator.Co => left.Contains(right, StringComparison.Ordinal),
            ComparisonOperator.Sw => left.StartsWith(right, StringComparison.Ordinal),
            _ => left.EndsWith(right, StringComparison.Ordinal),
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

    private static string? AsText(JsonNode? node) => ScimValueOrder.AsText(node);

    private static bool? AsBool(JsonNode? node) => ScimValueOrder.AsBool(node);

    private static DateTimeOffset? AsDateTime(JsonNode? node) => ScimValueOrder.AsDateTime(node);

    private static string? NumberText(JsonNode? node) => ScimValueOrder.NumberText(node);

    private static bool IsNumber(string text) => ScimValueOrder.IsNumber(text);

    private static string Shorten(object text)
    {
        var s = text.ToString() ?? "";
        return s.Length <= 100 ? s : s[..100] + "…";
    }
}
