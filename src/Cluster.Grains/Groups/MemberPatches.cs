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
                    if (MembersPathOf(key) is { ValueFilter: null, SubAttribute: null, Attribute.SubAttributeName: null })
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
                if (op.Value is JsonObject pathless && pathless.Any(kv => MembersPathOf(kv.Key) is not null))
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
                    // The element the filter selects, and those its value puts there (a replace of u1 by u2 must know
                    // whether u2 is a member already, or it would be told as added).
                    ids.Add(id);
                    AddValueIds(op.Value, ids);
                    continue;
                }

                return null;
            }

            if (op.Op == PatchOperationType.Replace || (op.Op == PatchOperationType.Remove && !HasValues(op.Value)))
            {
                return null;
            }

            AddValueIds(op.Value, ids);
        }

        return [.. ids];
    }

    private static void AddValueIds(JsonNode? value, HashSet<string> ids)
    {
        IEnumerable<JsonNode?> values = value is JsonArray array ? array : new[] { value }; // not [..]: see CheckMemberValues
        foreach (var item in values)
        {
            if (item is JsonObject member && ValueOf(member) is { } memberId)
            {
                ids.Add(memberId);
            }
        }
    }

    /// <summary>
    /// Removes <c>members</c> from a resource and returns the members, each with the kind the client stated, if any.
    /// Every member must have a valid id (<see cref="GrainKeys.IsValidId"/>); its <c>type</c>, when given, must be
    /// <c>User</c> or <c>Group</c>, and a <c>$ref</c> ending in <c>/Users/{value}</c> or <c>/Groups/{value}</c> must agree
    /// with it; else 400 invalidValue. Other <c>$ref</c> values (Entra sends null) are ignored: the server renders
    /// <c>$ref</c> itself.
    /// </summary>
    public static MemberValue[] TakeMembers(JsonObject resource)
    {
        var key = resource.Select(kv => kv.Key).FirstOrDefault(IsMembers);
        if (key is null)
        {
            return [];
        }

        var node = resource[key];
        resource.Remove(key);
        var members = new List<MemberValue>();
        IEnumerable<JsonNode?> values = node is JsonArray array ? array : node is null ? [] : [node];
        foreach (var item in values)
        {
            if (item is not JsonObject member || ValueOf(member) is not { } id)
            {
                throw ScimException.InvalidValue("Each member must be an object with a 'value'.");
            }

            if (!GrainKeys.IsValidId(id))
            {
                throw ScimException.InvalidValue($"Member {ScimText.Quoted(Truncate(id))} is not a user or group of this tenant.");
            }

            var stated = StringOf(member, "type") is { } typeName
                ? KindOf(typeName) ?? throw ScimException.InvalidValue($"Member {ScimText.Quoted(id)} has type {ScimText.Quoted(Truncate(typeName))}: a member is a 'User' or a 'Group'.")
                : (MemberKind?)null;
            if (StringOf(member, "$ref") is { } reference && KindOfReference(reference, id) is { } referenced)
            {
                if (stated is { } kind && kind != referenced)
                {
                    throw ScimException.InvalidValue($"Member {ScimText.Quoted(id)}: its 'type' and '$ref' name different resource types.");
                }

                stated = referenced;
            }

            members.Add(new MemberValue(id, stated));
        }

        return [.. members.DistinctBy(m => m.Id, StringComparer.Ordinal)];
    }

    /// <summary>The <c>members</c> value of a group: one <c>{"value": id, "type": "User"|"Group"}</c> per member, in id order.</summary>
    public static JsonArray ToJson(IEnumerable<MemberRef> members) =>
        new([.. members.OrderBy(m => m.Id, StringComparer.Ordinal).Select(m => (JsonNode)new JsonObject { ["value"] = m.Id, ["type"] = m.TypeName })]);

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

    private static MemberKind? KindOf(string typeName) =>
        string.Equals(typeName, "User", StringComparison.OrdinalIgnoreCase) ? MemberKind.User
        : string.Equals(typeName, "Group", StringComparison.OrdinalIgnoreCase) ? MemberKind.Group
        : null;

    // ".../Users/{id}" or ".../Groups/{id}" (the form the server renders); anything else names no kind.
    private static MemberKind? KindOfReference(string reference, string id)
    {
        var path = reference.Split('?', '#')[0].TrimEnd('/');
        var slash = path.LastIndexOf('/');
        if (slash <= 0 || !string.Equals(path[(slash + 1)..], id, StringComparison.Ordinal))
        {
            return null;
        }

        var endpoint = path[(path.LastIndexOf('/', slash - 1) + 1)..slash];
        return string.Equals(endpoint, "Users", StringComparison.OrdinalIgnoreCase) ? MemberKind.User
            : string.Equals(endpoint, "Groups", StringComparison.OrdinalIgnoreCase) ? MemberKind.Group
            : null;
    }

    private static string? StringOf(JsonObject member, string name) =>
        member.FirstOrDefault(kv => string.Equals(kv.Key, name, StringComparison.OrdinalIgnoreCase)).Value is JsonValue v
        && v.TryGetValue<string>(out var text) ? text : null;

    private static string? ValueOf(JsonObject member) => StringOf(member, "value");

    private static bool HasValues(JsonNode? value) => value is JsonArray or JsonObject;

    // A pathless value's key that names members as the PATCH engine reads such a key (PatchPath: "members", " Members",
    // "members[type eq \"User\"]", "members.value", with or without the Group schema's URN); null for any other key.
    private static PatchPath? MembersPathOf(string key)
    {
        try
        {
            return PatchPath.Parse(key) is var path && IsMembersAttribute(path.Attribute.SchemaUrn, path.Attribute.AttributeName) ? path : null;
        }
        catch (ScimException)
        {
            return null;
        }
    }

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

/// <summary>A member value from a request: an id, and the kind the client stated (<c>type</c> or <c>$ref</c>), if any.</summary>
internal readonly record struct MemberValue(string Id, MemberKind? StatedKind);
