using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Cluster.Scim;
using Cluster.Scim.Projection;
using Cluster.Scim.Schema;

namespace Cluster.Grains.Events;

/// <summary>
/// The events of one commit of a user or group (issue 12, docs/architecture.md "Events"): which types a change makes, what
/// they carry, and their ids. One place, used by both resource grains, so both kinds describe changes alike.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>A create is <c>*.created</c>, a delete <c>*.deleted</c> (carrying the last state). An update makes
/// <c>user.deactivated</c>/<c>user.reactivated</c> when <c>active</c> changed, plus one <c>*.updated</c> listing the other
/// attributes that changed (<see cref="Changed"/>); an update that changes nothing makes no event.</item>
/// <item><c>data</c> is the resource as a GET returns it — without writeOnly values and, for groups, without <c>members</c>
/// (they have their own events) — but without <c>meta.location</c> (the grains do not know the gateway's address) and
/// without a user's read-only <c>groups</c>.</item>
/// <item>Ids are derived from the tenant, the resource, its commit and the event's place in it, so the same change always
/// has the same id, also when a crash makes a commit prepare its events twice.</item>
/// </list>
/// </remarks>
internal static class ResourceEvents
{
    /// <summary>The events of a user's or a group's attribute change (<paramref name="before"/> null: created; <paramref name="after"/> null: deleted).</summary>
    public static List<ScimEvent> OfChange(EventContext context, ResourceTypeDefinition type, JsonObject? before, JsonObject? after)
    {
        var events = new List<ScimEvent>();
        var isUser = type.Name == "User";
        if (before is null && after is not null)
        {
            events.Add(context.Event(isUser ? ScimEventTypes.UserCreated : ScimEventTypes.GroupCreated, Data(after, type), null));
        }
        else if (after is null && before is not null)
        {
            events.Add(context.Event(isUser ? ScimEventTypes.UserDeleted : ScimEventTypes.GroupDeleted, Data(before, type), null));
        }
        else if (before is not null && after is not null)
        {
            var changed = Changed(Visible(before, type), Visible(after, type));
            // A change of status only: "active" sent as true where it was missing (or the reverse) changes no one's access.
            if (isUser && changed.Remove("active") && IsActive(before) != IsActive(after))
            {
                events.Add(context.Event(IsActive(after) ? ScimEventTypes.UserReactivated : ScimEventTypes.UserDeactivated, Data(after, type), null));
            }

            if (changed.Count > 0)
            {
                events.Add(context.Event(isUser ? ScimEventTypes.UserUpdated : ScimEventTypes.GroupUpdated, Data(after, type), [.. changed]));
            }
        }

        return events;
    }

    /// <summary>One <c>group.member_added</c> or <c>group.member_removed</c> per member.</summary>
    public static IEnumerable<ScimEvent> OfMembers(EventContext context, string groupId, IEnumerable<MemberRef> members, bool added) =>
        members.OrderBy(m => m.Id, StringComparer.Ordinal).Select(m => context.Event(
            added ? ScimEventTypes.GroupMemberAdded : ScimEventTypes.GroupMemberRemoved,
            MemberData(groupId, m),
            null));

    /// <summary>
    /// The attributes that differ between two resources, as paths: <c>displayName</c>, <c>name.givenName</c> (sub-attributes of
    /// a single complex value), <c>emails</c> (a multi-valued attribute as a whole), <c>urn:…:User:department</c> (extension
    /// attributes by URN). <c>id</c>, <c>schemas</c> and <c>meta</c> do not count. Sorted.
    /// </summary>
    public static SortedSet<string> Changed(JsonObject before, JsonObject after)
    {
        var changed = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var key in Keys(before, after))
        {
            if (key is "id" or "schemas" or "meta")
            {
                continue;
            }

            var (a, b) = (before[key], after[key]);
            if (JsonNode.DeepEquals(a, b))
            {
                continue;
            }

            var isExtension = key.StartsWith("urn:", StringComparison.OrdinalIgnoreCase);
            if ((a is JsonObject or null) && (b is JsonObject or null) && (a ?? b) is JsonObject)
            {
                var (x, y) = (a as JsonObject ?? [], b as JsonObject ?? []);
                foreach (var sub in Keys(x, y).Where(sub => !JsonNode.DeepEquals(x[sub], y[sub])))
                {
                    changed.Add(isExtension ? $"{key}:{sub}" : $"{key}.{sub}");
                }
            }
            else
            {
                changed.Add(key);
            }
        }

        return changed;
    }

    /// <summary>The resource as the feed shows it: no writeOnly values, no members.</summary>
    public static string Data(JsonObject resource, ResourceTypeDefinition type) => ScimSerializer.Serialize(Visible(resource, type));

    private static JsonObject Visible(JsonObject resource, ResourceTypeDefinition type)
    {
        var visible = ScimProjection.WithoutHidden(resource, type);
        visible.Remove("members");
        visible.Remove("groups");
        return visible;
    }

    private static string MemberData(string groupId, MemberRef member)
    {
        var data = new JsonObject { ["groupId"] = groupId };
        if (member.Kind == MemberKind.User)
        {
            data["userId"] = member.Id;
        }

        data["memberId"] = member.Id;
        data["memberType"] = member.TypeName;
        return ScimSerializer.Serialize(data);
    }

    private static bool IsActive(JsonObject user) => user["active"] is not JsonValue v || !v.TryGetValue<bool>(out var active) || active;

    private static IEnumerable<string> Keys(JsonObject a, JsonObject b) => a.Select(p => p.Key).Union(b.Select(p => p.Key), StringComparer.Ordinal);
}

/// <summary>Where the events of one commit come from: the tenant, the resource, the commit, and when it happened.</summary>
internal sealed class EventContext(string tenantId, string resourceType, string resourceId, EventSource source, DateTimeOffset now)
{
    private int _index;

    public EventSource Source => source;

    /// <summary>An event of this commit, of this resource.</summary>
    public ScimEvent Event(string type, string data, string[]? changed)
    {
        var index = _index++;
        return new ScimEvent(IdOf(index), 0, type, now, resourceType, resourceId, data, changed);
    }

    // Stable: the same commit's n-th event always has the same id (32 hex characters).
    private string IdOf(int index)
    {
        var text = string.Join('|', tenantId, resourceType, resourceId, source.Version, source.Step, index);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 16));
    }
}
