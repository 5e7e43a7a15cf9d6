using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Gateway.Hosting;
using Cluster.Gateway.Http;
using Cluster.Gateway.Querying;
using Cluster.Scim;
using Cluster.Scim.Filtering;
using Cluster.Scim.Projection;
using Cluster.Scim.Resources;
using Cluster.Scim.Schema;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Endpoints;

/// <summary><c>/Users</c> and <c>/Users/{id}</c> (RFC 7644 §3), as Microsoft Entra ID uses them.</summary>
public static class UsersEndpoints
{
    private static readonly ResourceTypeDefinition ResourceType = ScimSchemas.UserResource;

    public static RouteGroupBuilder MapUsers(this RouteGroupBuilder scim)
    {
        var users = scim.MapGroup("/Users");
        users.MapGet("", ListAsync);
        users.MapPost("", CreateAsync);
        users.MapGet("/{id}", GetAsync);
        users.MapPut("/{id}", ReplaceAsync);
        users.MapPatch("/{id}", PatchAsync);
        users.MapDelete("/{id}", DeleteAsync);
        return scim;
    }

    private static async Task<IResult> ListAsync(string tenantId, HttpRequest request, ResourceQueries queries, IOptions<GatewayOptions> options)
    {
        var query = ScimQuery.From(request, options.Value.MaxPageSize);
        if (query.Filter is not null)
        {
            FilterEvaluator.Validate(query.Filter, ResourceType);
        }

        var (total, page) = await queries.QueryAsync(ResourceKind.User, tenantId, query.Filter, query.StartIndex, query.Count);
        var baseUrl = ScimUrls.TenantBase(request, options, tenantId);
        var resources = new JsonArray([.. page.Select(u => (JsonNode)Render(u, baseUrl, query.Attributes, query.ExcludedAttributes))]);
        return ScimHttp.Json(200, new JsonObject
        {
            ["schemas"] = new JsonArray(ScimConstants.ListResponseSchema),
            ["totalResults"] = total,
            ["Resources"] = resources,
            ["startIndex"] = query.StartIndex,
            ["itemsPerPage"] = resources.Count,
        });
    }

    private static async Task<IResult> CreateAsync(string tenantId, HttpRequest request, IGrainFactory grains, IOptions<GatewayOptions> options)
    {
        var resource = ResourceNormalizer.Normalize(await ScimHttp.ReadObjectAsync(request, options.Value.MaxBodyBytes), ResourceType);
        var id = GrainKeys.NewResourceId();
        var result = await User(grains, tenantId, id).CreateAsync(ScimSerializer.Serialize(resource));
        return Respond(result, request, options, tenantId);
    }

    private static async Task<IResult> GetAsync(string tenantId, string id, HttpRequest request, IGrainFactory grains, IOptions<GatewayOptions> options) =>
        GrainKeys.IsValidId(id)
            ? Respond(await User(grains, tenantId, id).GetAsync(), request, options, tenantId)
            : NotFound(id);

    private static async Task<IResult> ReplaceAsync(string tenantId, string id, HttpRequest request, IGrainFactory grains, IOptions<GatewayOptions> options)
    {
        if (!GrainKeys.IsValidId(id))
        {
            return NotFound(id);
        }

        var resource = ResourceNormalizer.Normalize(await ScimHttp.ReadObjectAsync(request, options.Value.MaxBodyBytes), ResourceType);
        return Respond(await User(grains, tenantId, id).ReplaceAsync(ScimSerializer.Serialize(resource)), request, options, tenantId);
    }

    private static async Task<IResult> PatchAsync(string tenantId, string id, HttpRequest request, IGrainFactory grains, IOptions<GatewayOptions> options)
    {
        if (!GrainKeys.IsValidId(id))
        {
            return NotFound(id);
        }

        var body = await ScimHttp.ReadObjectAsync(request, options.Value.MaxBodyBytes);
        return Respond(await User(grains, tenantId, id).PatchAsync(ScimSerializer.Serialize(body)), request, options, tenantId);
    }

    private static async Task<IResult> DeleteAsync(string tenantId, string id, IGrainFactory grains) =>
        GrainKeys.IsValidId(id)
            ? ScimHttp.From(await User(grains, tenantId, id).DeleteAsync(), _ => [])
            : NotFound(id);

    private static IResult Respond(ScimResult result, HttpRequest request, IOptions<GatewayOptions> options, string tenantId)
    {
        var baseUrl = ScimUrls.TenantBase(request, options, tenantId);
        var (attributes, excluded) = ScimQuery.Projection(request);
        return ScimHttp.From(
            result,
            json => Render(JsonNode.Parse(json)!.AsObject(), baseUrl, attributes, excluded),
            body => $"{baseUrl}/Users/{body["id"]}");
    }

    /// <summary>
    /// Adds <c>meta.location</c> and applies <c>attributes</c>/<c>excludedAttributes</c>. The projection always runs,
    /// also without those parameters: it is what removes <c>returned: never</c> attributes (<c>password</c>).
    /// </summary>
    private static JsonObject Render(JsonObject user, string baseUrl, IReadOnlyCollection<string>? attributes, IReadOnlyCollection<string>? excluded)
    {
        if (user["meta"] is JsonObject meta)
        {
            meta["location"] = $"{baseUrl}/Users/{user["id"]}";
        }

        return ScimProjection.Apply(user, attributes, excluded, ResourceType);
    }

    private static IResult NotFound(string id) => ScimHttp.Error(404, null, $"User {(id.Length > 64 ? id[..64] : id)} not found.");

    private static IUserGrain User(IGrainFactory grains, string tenantId, string id) => grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, id));
}
