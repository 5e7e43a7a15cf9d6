using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Gateway.Hosting;
using Cluster.Gateway.Http;
using Cluster.Gateway.Querying;
using Cluster.Scim;
using Cluster.Scim.Projection;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Endpoints;

/// <summary>What the <c>/Users</c> and <c>/Groups</c> endpoints share: reading bodies, rendering resources and list responses.</summary>
internal static class ResourceHttp
{
    /// <summary>
    /// A ListResponse (RFC 7644 §3.4.2) of one page, written by <see cref="ScimHttp.ListText"/> around each resource's text:
    /// <paramref name="renderText"/>'s where given and not null (a list without <c>attributes</c> or
    /// <c>excludedAttributes</c>: a plain user's text as the grain answered it, without parsing, projecting and serializing
    /// it again), otherwise <paramref name="render"/>'s, serialized. Both give the same bytes (tested).
    /// </summary>
    public static IResult List<T>(int total, IReadOnlyList<T> page, int startIndex, Func<T, JsonObject> render, Func<T, string?>? renderText = null) =>
        ScimHttp.ListText(total, [.. page.Select(r => renderText?.Invoke(r) ?? ScimSerializer.Serialize(render(r)))], startIndex);

    /// <summary>
    /// A resource's text as a plain GET of it sends it (the grain's text with <c>meta.location</c> spliced in), or null when
    /// only the parsed rendering is right: not a user, a schema with <c>returned: request</c> attributes, no plain text, or
    /// text of another shape.
    /// </summary>
    public static string? PlainText(ResourceKind kind, string? text, string baseUrl, string id) =>
        kind == ResourceKind.User && !kind.Type.HasRequestOnlyAttributes && text is not null ? ScimResource.WithLocation(text, Location(kind, baseUrl, id)) : null;

    /// <summary>
    /// Maps a grain outcome to HTTP, rendering the resource with the request's projection; a GET honours
    /// <c>If-None-Match</c> (304). A plain GET of a user (no <c>attributes</c>/<c>excludedAttributes</c>) sends the
    /// grain's text on with <c>meta.location</c> spliced in, without parsing it: the grain already left out what is never
    /// returned, a user has no member <c>$ref</c>s to add, and without <c>returned: request</c> attributes in the schema the
    /// projection would change nothing (the same bytes as <see cref="Render"/>, tested).
    /// </summary>
    public static IResult Respond(ResourceKind kind, ScimResult result, HttpRequest request, IOptions<GatewayOptions> options, string tenantId)
    {
        var baseUrl = ScimUrls.TenantBase(request, options, tenantId);
        var (attributes, excluded) = ScimQuery.Projection(request);
        var isGet = HttpMethods.IsGet(request.Method);
        var id = request.RouteValues["id"] as string;
        var plain = isGet && id is not null && attributes is null && excluded is null;
        return ScimHttp.From(
            result,
            json => Render(kind, JsonNode.Parse(json)!.AsObject(), baseUrl, attributes, excluded),
            body => Location(kind, baseUrl, body["id"]!.GetValue<string>()),
            isGet ? ScimHttp.IfNoneMatch(request) : null,
            plain ? json => PlainText(kind, json, baseUrl, id!) : null);
    }

    /// <summary>
    /// Adds <c>meta.location</c> (and members' <c>$ref</c>) and applies <c>attributes</c>/<c>excludedAttributes</c>.
    /// The projection always runs, also without those parameters: it is what removes <c>returned: never</c> attributes.
    /// </summary>
    public static JsonObject Render(ResourceKind kind, JsonObject resource, string baseUrl, IReadOnlyCollection<string>? attributes, IReadOnlyCollection<string>? excluded)
    {
        var id = resource["id"]?.GetValue<string>() ?? "";
        if (resource["meta"] is JsonObject meta)
        {
            meta["location"] = Location(kind, baseUrl, id);
        }

        if (resource["members"] is JsonArray members)
        {
            foreach (var member in members.OfType<JsonObject>())
            {
                // The grain renders each member's kind as "type" (User or Group) from its partition.
                var memberKind = member["type"] is JsonValue type && type.TryGetValue<string>(out var typeName) && typeName == "Group"
                    ? ResourceKind.Group
                    : ResourceKind.User;
                member["$ref"] = Location(memberKind, baseUrl, member["value"]?.GetValue<string>() ?? "");
            }
        }

        return ScimProjection.Apply(resource, attributes, excluded, kind.Type);
    }

    /// <summary>The SCIM 404 for an unknown or malformed id.</summary>
    public static IResult NotFound(ResourceKind kind, string id) =>
        ScimHttp.From((kind == ResourceKind.User ? ResourceWrites.Users : ResourceWrites.Groups).NotFound(id), _ => []);

    private static string Location(ResourceKind kind, string baseUrl, string id) => $"{baseUrl}{kind.Type.Endpoint}/{id}";
}
