using System.Text.Json.Nodes;
using Cluster.Scim;
using Cluster.Scim.Errors;
using Cluster.Scim.Filtering;
using Cluster.Scim.Patching;

namespace Cluster.Grains.Groups;

/// <summary>
/// Which members a group PATCH can touch, so the grain loads only their partitions instead of the whole member list:
/// <c>add members</c> with values, <c>remove members</c> with values, <c>remove members[value eq "x"]</c>. Operations
/// whose effect depends on every member (replace members, remove all members, other member filters, pathless values
/// carrying members) need the whole list (<see cref="ReferencedMembers"/> returns null).
/// </summary>
internal static class MemberPatches
{
    /// <summary>
    /// The member ids the request refers to, or null when it needs every member. A member given without a string
    /// <c>value</c> (in a value for <c>members</c>) is 400 invalidValue: otherwise add/remove would match it against
    /// the loaded members' other sub-attributes, and the outcome would depend on which members were loaded.
    /// </summary>
    public static string[]? ReferencedMembers(PatchRequest request)
    {
        foreach (var op in request.Operations)
        {
            if (op.Path is null && op.Value is JsonObject values)
            {
                foreach (var (key, value) in values)
                {
                    if (IsMembers(key))
                    {
                        CheckMemberValues(value);
                    }
                }
            }
            else if (op.Path is { ValueFilter: null, SubAttribute: null, Attribute: var path }
                && path.SubAttributeName is null && IsMembersAttribute(path.SchemaUrn, path.AttributeName))
            {
                CheckMemberValues(op.Value);
            }
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var op in request.Operations)
        {
            if (op.Path is null)
            {
                if (op.Value is JsonObject pathless && pathless.Any(kv => IsMembers(kv.Key)))
                {
                    return null;
                }

                continue;
            }

            var attribute = op.Path.Attribute;
            if (!IsMembersAttribute(attribute.SchemaUrn, attribute.AttributeName))
            {
                continue;
            }

            if (attribute.SubAttributeName is not null || op.Path.SubAttribute is not null)
            {
                return null;
            }

            if (op.Path.ValueFilter is not null)
            {
                if (op.Path.ValueFilter is ComparisonFilter { Operator: ComparisonOperator.Eq, Path: { SchemaUrn: null, SubAttributeName: null } path, Value: { } value }
                    && string.Equals(path.AttributeName, "value", StringComparison.OrdinalIgnoreCase)
                    && value.TryGetValue<string>(out var id))
                {
                    ids.Add(id);
                    continue;
                }

                return null;
            }

            if (op.Op == PatchOperationType.Replace || (op.Op == PatchOperationType.Remove && !HasValues(op.Value)))
            {
                return null;
            }

            IEnumerable<JsonNode?> values = op.Value is JsonArray array ? array : new[] { op.Value }; // not [..]: see CheckMemberValues
            foreach (var item in values)
            {
                if (item is JsonObject member && ValueOf(member) is { } memberId)
                {
                    ids.Add(memberId);
                }
            }
        }

        return [.. ids];
    }

    /// <summary>
    /// Removes <c>members</c> from a resource and returns the member ids. Every member must be a user id
    /// (<see cref="GrainKeys.IsValidId"/>, type <c>User</c> when given), else 400 invalidValue.
    /// </summary>
    public static string[] TakeMembers(JsonObject resource)
    {
        var key = resource.Select(kv => kv.Key).FirstOrDefault(IsMembers);
        if (key is null)
        {
            return [];
        }

        var node = resource[key];
        resource.Remove(key);
        var ids = new List<string>();
        IEnumerable<JsonNode?> values = node is JsonArray array ? array : node is null ? [] : [node];
        foreach (var item in values)
        {
            if (item is not JsonObject member || ValueOf(member) is not { } id)
            {
                throw ScimException.InvalidValue("Each member must be an object with a 'value'.");
            }

            if (!GrainKeys.IsValidId(id))
            {
                throw ScimException.InvalidValue($"Member '{Truncate(id)}' is not a user of this tenant.");
            }

            if (member.FirstOrDefault(kv => string.Equals(kv.Key, "type", StringComparison.OrdinalIgnoreCase)).Value is JsonValue type
                && type.TryGetValue<string>(out var typeName) && !string.Equals(typeName, "User", StringComparison.OrdinalIgnoreCase))
            {
                throw ScimException.InvalidValue($"Member '{id}' has type '{Truncate(typeName)}': only users can be members (nested groups are not supported).");
            }

            ids.Add(id);
        }

        return [.. ids.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>The <c>members</c> value of a group: one <c>{"value": id, "type": "User"}</c> per member, in id order.</summary>
    public static JsonArray ToJson(IEnumerable<string> memberIds) =>
        new([.. memberIds.Order(StringComparer.Ordinal).Select(id => (JsonNode)new JsonObject { ["value"] = id, ["type"] = "User" })]);

    private static void CheckMemberValues(JsonNode? value)
    {
        // Not collection expressions: next to a JsonArray they would build a JsonArray and re-parent the node.
        IEnumerable<JsonNode?> items = value switch
        {
            null => Array.Empty<JsonNode?>(),
            JsonArray array => array,
            _ => new[] { value },
        };
        foreach (var item in items)
        {
            if (item is not JsonObject member || ValueOf(member) is null)
            {
                throw ScimException.InvalidValue("Each member must be an object with a 'value'.");
            }
        }
    }

    private static string? ValueOf(JsonObject member) =>
        member.FirstOrDefault(kv => string.Equals(kv.Key, "value", StringComparison.OrdinalIgnoreCase)).Value is JsonValue v
        && v.TryGetValue<string>(out var id) ? id : null;

    private static bool HasValues(JsonNode? value) => value is JsonArray or JsonObject;

    private static bool IsMembers(string key)
    {
        var colon = key.LastIndexOf(':');
        return IsMembersAttribute(colon < 0 ? null : key[..colon], colon < 0 ? key : key[(colon + 1)..]);
    }

    private static bool IsMembersAttribute(string? schemaUrn, string name) =>
        (schemaUrn is null || string.Equals(schemaUrn, ScimConstants.GroupSchema, StringComparison.OrdinalIgnoreCase))
        && string.Equals(name, "members", StringComparison.OrdinalIgnoreCase);

    private static string Truncate(string text) => text.Length <= 64 ? text : text[..64];
}
