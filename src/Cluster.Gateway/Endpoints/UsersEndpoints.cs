using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Gateway.Hosting;
using Cluster.Gateway.Http;
using Cluster.Gateway.Querying;
using Cluster.Gateway.Resilience;
using Cluster.Scim;
using Cluster.Scim.Filtering;
using Cluster.Scim.Projection;
using Cluster.Scim.Resources;
using Cluster.Scim.Schema;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Endpoints;

/// <summary>
/// <c>/Users</c> and <c>/Users/{id}</c> (RFC 7644 §3), as Microsoft Entra ID uses them. Every grain call goes through
/// <see cref="GrainCallRetry"/> with its <see cref="CallSafety"/>: GET and filters are reads; PUT, PATCH, DELETE and
/// POST (whose id is chosen here, before the first attempt) are idempotent.
/// </summary>
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

    private static async Task<IResult> ListAsync(string tenantId, HttpRequest request, ResourceQueries queries, GrainCallRetry retry, IOptions<GatewayOptions> options)
    {
        var query = ScimQuery.From(request, options.Value.MaxPageSize);
        if (query.Filter is not null)
        {
            FilterEvaluator.Validate(query.Filter, ResourceType);
        }

        var (total, page) = await retry.ExecuteAsync(CallSafety.Read, () => queries.QueryAsync(ResourceKind.User, tenantId, query.Filter, query.StartIndex, query.Count), request.HttpContext.RequestAborted);
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

    private static async Task<IResult> CreateAsync(string tenantId, HttpRequest request, IGrainFactory grains, GrainCallRetry retry, IOptions<GatewayOptions> options)
    {
        var resource = ScimSerializer.Serialize(ResourceNormalizer.Normalize(await ScimHttp.ReadObjectAsync(request, options.Value.MaxBodyBytes), ResourceType));

        // The id is chosen once, before the first attempt: a repeated create of the same content on it is answered as
        // the original one, so the create is idempotent and safe to retry after an unknown outcome.
        var id = GrainKeys.NewResourceId();
        var result = await retry.ExecuteAsync(CallSafety.Idempotent, () => User(grains, tenantId, id).CreateAsync(resource), request.HttpContext.RequestAborted);
        return Respond(result, request, options, tenantId);
    }

    private static async Task<IResult> GetAsync(string tenantId, string id, HttpRequest request, IGrainFactory grains, GrainCallRetry retry, IOptions<GatewayOptions> options) =>
        GrainKeys.IsValidId(id)
            ? Respond(await retry.ExecuteAsync(CallSafety.Read, () => User(grains, tenantId, id).GetAsync(), request.HttpContext.RequestAborted), request, options, tenantId)
            : NotFound(id);

    private static async Task<IResult> ReplaceAsync(string tenantId, string id, HttpRequest request, IGrainFactory grains, GrainCallRetry retry, IOptions<GatewayOptions> options)
    {
        if (!GrainKeys.IsValidId(id))
        {
            return NotFound(id);
        }

        var resource = ScimSerializer.Serialize(ResourceNormalizer.Normalize(await ScimHttp.ReadObjectAsync(request, options.Value.MaxBodyBytes), ResourceType));
        var result = await retry.ExecuteAsync(CallSafety.Idempotent, () => User(grains, tenantId, id).ReplaceAsync(resource), request.HttpContext.RequestAborted);
        return Respond(result, request, options, tenantId);
    }

    private static async Task<IResult> PatchAsync(string tenantId, string id, HttpRequest request, IGrainFactory grains, GrainCallRetry retry, IOptions<GatewayOptions> options)
    {
        if (!GrainKeys.IsValidId(id))
        {
            return NotFound(id);
        }

        var body = ScimSerializer.Serialize(await ScimHttp.ReadObjectAsync(request, options.Value.MaxBodyBytes));

        // Re-applying the same operations yields the same resource (add skips equal elements, remove of a missing
        // value is a no-op) and a PATCH that changes nothing writes nothing: idempotent.
        var result = await retry.ExecuteAsync(CallSafety.Idempotent, () => User(grains, tenantId, id).PatchAsync(body), request.HttpContext.RequestAborted);
        return Respond(result, request, options, tenantId);
    }

    // A retry of a delete whose first attempt did happen answers 404: the user is gone either way (documented in
    // docs/operations.md).
    private static async Task<IResult> DeleteAsync(string tenantId, string id, HttpRequest request, IGrainFactory grains, GrainCallRetry retry) =>
        GrainKeys.IsValidId(id)
            ? ScimHttp.From(await retry.ExecuteAsync(CallSafety.Idempotent, () => User(grains, tenantId, id).DeleteAsync(), request.HttpContext.RequestAborted), _ => [])
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
