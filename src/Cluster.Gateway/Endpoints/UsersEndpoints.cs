using Cluster.Abstractions;
using Cluster.Gateway.Hosting;
using Cluster.Gateway.Http;
using Cluster.Gateway.Querying;
using Cluster.Gateway.Resilience;
using Cluster.Scim;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Endpoints;

/// <summary>
/// <c>/Users</c> and <c>/Users/{id}</c> (RFC 7644 §3), as Microsoft Entra ID uses them. Every grain call goes through
/// <see cref="GrainCallRetry"/> with its <see cref="CallSafety"/>: GET and filters are reads; PUT, PATCH, DELETE and
/// POST (whose id is chosen here, before the first attempt) are idempotent.
/// </summary>
public static class UsersEndpoints
{
    private static readonly ResourceKind Kind = ResourceKind.User;

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

    private static Task<IResult> ListAsync(string tenantId, HttpRequest request, ResourceQueries queries, GrainCallRetry retry, IOptions<GatewayOptions> options) =>
        SearchEndpoints.RespondAsync(tenantId, [new KindQuery(Kind)], ScimQuery.From(request, options.Value.MaxPageSize), request, queries, retry, options);

    private static async Task<IResult> CreateAsync(string tenantId, HttpRequest request, IGrainFactory grains, GrainCallRetry retry, IOptions<GatewayOptions> options)
    {
        var resource = await ResourceHttp.ReadResourceAsync(Kind, request, options.Value);

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

        var resource = await ResourceHttp.ReadResourceAsync(Kind, request, options.Value);
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

    private static IResult Respond(ScimResult result, HttpRequest request, IOptions<GatewayOptions> options, string tenantId) =>
        ResourceHttp.Respond(Kind, result, request, options, tenantId);

    private static IResult NotFound(string id) => ResourceHttp.NotFound(Kind, id);

    private static IUserGrain User(IGrainFactory grains, string tenantId, string id) => grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, id));
}
