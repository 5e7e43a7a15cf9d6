using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Gateway.Telemetry;

namespace Cluster.Gateway.RequestLog;

/// <summary>
/// What the provisioning log needs to know of one SCIM response beyond its status, noted while the response is written
/// (<see cref="Http.ScimHttp"/>) and read when the request ends (<see cref="RequestLogCapture"/>). A per-request object, set
/// on <see cref="ScimResponseOutcome.Log"/> only while the log is on. It holds request data only until the request ends: the
/// entry built from it keeps one name, never a user's other attributes.
/// </summary>
public sealed class RequestLogFacts
{
    // How much of a resource's JSON text is searched for its id and name (they come first in what the grains write).
    private const int MaxScannedChars = 16 * 1024;

    /// <summary>When the request arrived.</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>The route's <c>{id}</c>, captured before an exception handler clears the route values.</summary>
    public string? RouteId { get; init; }

    /// <summary>The SCIM error's <c>detail</c>, as sent (redacted before it is kept).</summary>
    public string? Detail { get; private set; }

    /// <summary>The <c>id</c> of the resource the response showed (a resource, or the only resource of a ListResponse).</summary>
    public string? Id { get; private set; }

    /// <summary>That resource's <c>userName</c> (kept only for users).</summary>
    public string? UserName { get; private set; }

    /// <summary>That resource's <c>displayName</c> (kept only for groups).</summary>
    public string? DisplayName { get; private set; }

    /// <summary>A ListResponse's <c>totalResults</c>.</summary>
    public int? Found { get; private set; }

    /// <summary>What a PATCH asked for (<see cref="RequestLogOperations"/>: membership, disable, enable), or null.</summary>
    public string? PatchKind { get; private set; }

    /// <summary>Notes an error detail and a JSON body (resource or ListResponse) the response is about to send.</summary>
    public static void NoteBody(HttpContext context, string? detail, JsonNode? body)
    {
        if (Of(context) is not { } facts)
        {
            return;
        }

        facts.Detail = detail;
        if (body is not JsonObject json)
        {
            return;
        }

        if (json["totalResults"] is JsonValue total && total.TryGetValue<int>(out var found))
        {
            facts.Found = found;
            json = json["Resources"] is JsonArray { Count: 1 } resources && resources[0] is JsonObject only ? only : [];
        }

        facts.Id = Text(json["id"]);
        facts.UserName = Text(json["userName"]);
        facts.DisplayName = Text(json["displayName"]);
    }

    /// <summary>
    /// Notes a resource the response stands for as JSON text (a plain GET's text, the group a 204 PATCH changed, or the only
    /// resource of a ListResponse sent as text) and, for a ListResponse, its <c>totalResults</c> (<paramref name="found"/>).
    /// </summary>
    public static void NoteResourceText(HttpContext context, string? resource, int? found = null)
    {
        if (Of(context) is not { } facts)
        {
            return;
        }

        facts.Found = found ?? facts.Found;
        if (resource is null)
        {
            return;
        }

        var length = Math.Min(resource.Length, MaxScannedChars);
        var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(length));
        try
        {
            var bytes = Encoding.UTF8.GetBytes(resource.AsSpan(0, length), buffer);
            facts.ReadTopLevel(new ReadOnlySpan<byte>(buffer, 0, bytes), isFinal: length == resource.Length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Notes what a PATCH body asks for: a change of members, or of <c>active</c> (and to which value).</summary>
    public static void NotePatch(HttpContext context, JsonObject body)
    {
        if (Of(context) is { } facts)
        {
            facts.PatchKind = PatchKindOf(body);
        }
    }

    /// <summary>
    /// <see cref="RequestLogOperations.Membership"/> when an operation's path is <c>members</c> (or a value filter or
    /// sub-attribute of it) or a pathless value holds <c>members</c>; else <see cref="RequestLogOperations.Disable"/> or
    /// <see cref="RequestLogOperations.Enable"/> when one sets <c>active</c> (Entra's <c>"False"</c>/<c>"True"</c> strings
    /// included); else null.
    /// </summary>
    public static string? PatchKindOf(JsonObject body)
    {
        string? activity = null;
        if (Member(body, "Operations") is not JsonArray operations)
        {
            return null;
        }

        foreach (var operation in operations.OfType<JsonObject>())
        {
            var value = Member(operation, "value");
            if (Text(Member(operation, "path")) is { } path)
            {
                var attribute = AttributeOf(path);
                if (attribute.StartsWith("members", StringComparison.OrdinalIgnoreCase)
                    && (attribute.Length == 7 || attribute[7] is '[' or '.'))
                {
                    return RequestLogOperations.Membership;
                }

                if (attribute.Equals("active", StringComparison.OrdinalIgnoreCase))
                {
                    activity = Activity(value) ?? activity;
                }
            }
            else if (value is JsonObject pathless)
            {
                if (Member(pathless, "members") is not null)
                {
                    return RequestLogOperations.Membership;
                }

                activity = Activity(Member(pathless, "active")) ?? activity;
            }
        }

        return activity;
    }

    // A member by name in any case, as the PATCH parser reads them.
    private static JsonNode? Member(JsonObject json, string name)
    {
        foreach (var (key, value) in json)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        return null;
    }

    private static RequestLogFacts? Of(HttpContext context) => context.Features.Get<ScimResponseOutcome>()?.Log;

    // The attribute a PATCH path names, without the core schema URN.
    private static string AttributeOf(string path)
    {
        var trimmed = path.Trim();
        foreach (var urn in new[] { Scim.ScimConstants.UserSchema, Scim.ScimConstants.GroupSchema })
        {
            if (trimmed.Length > urn.Length && trimmed.StartsWith(urn, StringComparison.OrdinalIgnoreCase) && trimmed[urn.Length] == ':')
            {
                return trimmed[(urn.Length + 1)..];
            }
        }

        return trimmed;
    }

    private static string? Activity(JsonNode? value) => value switch
    {
        JsonValue v when v.TryGetValue<bool>(out var flag) => flag ? RequestLogOperations.Enable : RequestLogOperations.Disable,
        JsonValue v when v.TryGetValue<string>(out var text) && bool.TryParse(text.Trim(), out var flag) => flag ? RequestLogOperations.Enable : RequestLogOperations.Disable,
        _ => null,
    };

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private void ReadTopLevel(ReadOnlySpan<byte> json, bool isFinal)
    {
        var reader = new Utf8JsonReader(json, isFinal, default);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var member = reader.ValueTextEquals("id"u8) ? 1 : reader.ValueTextEquals("userName"u8) ? 2 : reader.ValueTextEquals("displayName"u8) ? 3 : 0;
                if (!reader.Read())
                {
                    return;
                }

                if (member != 0 && reader.TokenType == JsonTokenType.String)
                {
                    var text = reader.GetString();
                    _ = member switch
                    {
                        1 => Id = text,
                        2 => UserName = text,
                        _ => DisplayName = text,
                    };
                }
                else if (!reader.TrySkip())
                {
                    return;
                }
            }
        }
        catch (JsonException)
        {
            // A resource cut at MaxScannedChars, or text that is not JSON: what was read so far stands.
        }
    }
}
