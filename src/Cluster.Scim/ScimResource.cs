using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Cluster.Scim;

/// <summary>Server-maintained parts of a stored resource: <c>id</c>, <c>schemas</c> and <c>meta</c> (RFC 7643 §3.1).</summary>
public static class ScimResource
{
    /// <summary>Sets <c>schemas</c>, <c>id</c> and <c>meta</c> on a normalized resource (in place) and returns it.</summary>
    /// <param name="resource">Normalized resource JSON.</param>
    /// <param name="resourceType">The resource type definition.</param>
    /// <param name="id">The server-assigned id.</param>
    /// <param name="created">Creation time.</param>
    /// <param name="lastModified">Last modification time.</param>
    /// <param name="version">Monotonic version, exposed as the weak ETag <c>W/"n"</c>.</param>
    public static JsonObject Stamp(JsonObject resource, Schema.ResourceTypeDefinition resourceType, string id, DateTimeOffset created, DateTimeOffset lastModified, long version)
    {
        var schemas = new JsonArray(resourceType.Schema.Id);
        foreach (var extension in resourceType.Extensions)
        {
            if (resource[extension.Schema.Id] is JsonObject { Count: > 0 })
            {
                schemas.Add(extension.Schema.Id);
            }
            else
            {
                resource.Remove(extension.Schema.Id);
            }
        }

        resource.Remove("schemas");
        resource.Remove("id");
        resource.Remove("meta");

        // Keep a stable, readable order: schemas, id, then attributes, then meta.
        var ordered = new JsonObject
        {
            ["schemas"] = schemas,
            ["id"] = id,
        };
        foreach (var (key, value) in resource.ToArray())
        {
            resource.Remove(key);
            ordered[key] = value;
        }

        ordered["meta"] = new JsonObject
        {
            ["resourceType"] = resourceType.Name,
            ["created"] = FormatTime(created),
            ["lastModified"] = FormatTime(lastModified),
            ["version"] = ETag(version),
        };
        return ordered;
    }

    /// <summary>
    /// Adds <c>meta.location</c> to a stamped resource's JSON text without parsing it: a stamped resource ends with its
    /// flat <c>meta</c> object (<see cref="Stamp"/> puts it last), so the location goes before the last two braces, exactly
    /// where <c>meta["location"] = …</c> on the parsed resource would put it. Null when the text does not end that way
    /// (the caller then renders the parsed resource).
    /// </summary>
    public static string? WithLocation(string json, string location)
    {
        const string Meta = "\"meta\":{";
        var meta = json.LastIndexOf(Meta, StringComparison.Ordinal);
        if (meta < 0 || !json.EndsWith("}}", StringComparison.Ordinal) || json.IndexOfAny(['{', '}', '[', ']'], meta + Meta.Length) != json.Length - 2)
        {
            return null;
        }

        var property = "\"location\":" + ScimSerializer.Serialize(System.Text.Json.Nodes.JsonValue.Create(location));
        var separator = json[json.Length - 3] == '{' ? "" : ",";
        return string.Concat(json.AsSpan(0, json.Length - 2), separator, property, "}}");
    }

    /// <summary>
    /// Largest resource stored, in UTF-8 bytes of its JSON as <see cref="ScimSerializer"/> writes it (an Entra user takes 1–3
    /// KB). A resource, and the data of its events, are stored as strings inside JSON rows, where escaping takes at most twice
    /// this; the bound keeps the tenant's event log row (its open page's events plus a batch) inside Azure Table's entity
    /// limit (docs/architecture.md, "Storage of the feed").
    /// </summary>
    public const int MaxStoredBytes = 16 * 1024;

    /// <summary>
    /// Growth one change of a stored resource may take past <see cref="MaxStoredBytes"/>: enough to disable a resource at
    /// the bound (<c>true</c> to <c>false</c>) while its version gains a digit, not enough to add a value.
    /// </summary>
    public const int OversizeStepBytes = 2;

    /// <summary>How far past <see cref="MaxStoredBytes"/> such changes may take a resource in all.</summary>
    public const int OversizeSlackBytes = 16;

    /// <summary>
    /// 413 when the stamped resource <paramref name="json"/> is larger than <see cref="MaxStoredBytes"/>; null otherwise. A
    /// change of a stored resource (<paramref name="stored"/>, null for a create) may grow it by <see cref="OversizeStepBytes"/>
    /// past the bound, so that one at the bound can still be disabled, up to <see cref="MaxStoredBytes"/> +
    /// <see cref="OversizeSlackBytes"/> in all; one stored larger than that before the bound existed, by the step each time.
    /// </summary>
    public static Errors.ScimException? CheckSize(string json, string? stored, Schema.ResourceTypeDefinition resourceType)
    {
        var bytes = Encoding.UTF8.GetByteCount(json);
        if (bytes <= MaxStoredBytes)
        {
            return null;
        }

        if (stored is not null && Encoding.UTF8.GetByteCount(stored) is var storedBytes && bytes <= storedBytes + OversizeStepBytes
            && (bytes <= MaxStoredBytes + OversizeSlackBytes || storedBytes > MaxStoredBytes + OversizeSlackBytes))
        {
            return null;
        }

        return new Errors.ScimException(413, null, string.Create(CultureInfo.InvariantCulture,
            $"The {resourceType.Name} would take {bytes} bytes of JSON; at most {MaxStoredBytes} are stored. Nothing was changed."));
    }

    /// <summary>True when two stamped resources differ at most in <c>meta</c> (an update that would change nothing).</summary>
    public static bool SameContent(JsonObject a, JsonObject b)
    {
        var x = (JsonObject)a.DeepClone();
        var y = (JsonObject)b.DeepClone();
        x.Remove("meta");
        y.Remove("meta");
        return JsonNode.DeepEquals(x, y);
    }

    /// <summary>The weak entity tag of a version.</summary>
    public static string ETag(long version) => string.Create(CultureInfo.InvariantCulture, $"W/\"{version}\"");

    /// <summary>RFC 3339 UTC timestamp with milliseconds.</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Reads <c>meta.created</c> back from a stamped resource.</summary>
    public static DateTimeOffset CreatedOf(JsonObject resource) =>
        resource["meta"]?["created"] is JsonValue v && v.TryGetValue<string>(out var text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var created)
            ? created
            : DateTimeOffset.UnixEpoch;
}
