using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Gateway.Hosting;
using Cluster.Gateway.Http;
using Cluster.Gateway.Querying;
using Cluster.Scim;
using Cluster.Scim.Projection;
using Cluster.Scim.Resources;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Endpoints;

/// <summary>What the <c>/Users</c> and <c>/Groups</c> endpoints share: reading bodies, rendering resources and list responses.</summary>
internal static class ResourceHttp
{
    /// <summary>Reads, normalizes and serializes a POST/PUT body of <paramref name="kind"/>.</summary>
    public static async Task<string> ReadResourceAsync(ResourceKind kind, HttpRequest request, GatewayOptions options) =>
        ScimSerializer.Serialize(ResourceNormalizer.Normalize(await ScimHttp.ReadObjectAsync(request, options.MaxBodyBytes), kind.Type));

    /// <summary>A ListResponse (RFC 7644 §3.4.2) of one page.</summary>
    public static IResult List<T>(int total, IEnumerable<T> page, int startIndex, Func<T, JsonObject> render)
    {
        var resources = new JsonArray([.. page.Select(r => (JsonNode)render(r))]);
        return ScimHttp.Json(200, new JsonObject
        {
            ["schemas"] = new JsonArray(ScimConstants.ListResponseSchema),
            ["totalResults"] = total,
            ["Resources"] = resources,
            ["startIndex"] = startIndex,
            ["itemsPerPage"] = resources.Count,
        });
    }

    /// <summary>Maps a grain outcome to HTTP, rendering the resource with the request's projection.</summary>
    public static IResult Respond(ResourceKind kind, ScimResult result, HttpRequest request, IOptions<GatewayOptions> options, string tenantId)
    {
        var baseUrl = ScimUrls.TenantBase(request, options, tenantId);
        var (attributes, excluded) = ScimQuery.Projection(request);
        return ScimHttp.From(
            result,
            json => Render(kind, JsonNode.Parse(json)!.AsObject(), baseUrl, attributes, excluded),
            body => Location(kind, baseUrl, body["id"]!.GetValue<string>()));
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
                member["$ref"] = Location(ResourceKind.User, baseUrl, member["value"]?.GetValue<string>() ?? "");
            }
        }

        return ScimProjection.Apply(resource, attributes, excluded, kind.Type);
    }

    /// <summary>The SCIM 404 for an unknown or malformed id.</summary>
    public static IResult NotFound(ResourceKind kind, string id) =>
        ScimHttp.Error(404, null, $"{kind.Type.Name} {(id.Length > 64 ? id[..64] : id)} not found.");

    private static string Location(ResourceKind kind, string baseUrl, string id) => $"{baseUrl}{kind.Type.Endpoint}/{id}";
}
