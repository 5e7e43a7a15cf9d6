using Cluster.Abstractions;
using Cluster.Gateway.Hosting;
using Cluster.Gateway.Http;
using Cluster.Gateway.Querying;
using Cluster.Gateway.RequestLog;
using Cluster.Gateway.Resilience;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Endpoints;

/// <summary>
/// <c>/Users</c> and <c>/Users/{id}</c> (RFC 7644 §3), as Microsoft Entra ID uses them. Every grain call goes through
/// <see cref="GrainCallRetry"/> with its <see cref="CallSafety"/>: GET and filters are reads; PUT, PATCH, DELETE and
/// POST (whose id is chosen here, before the first attempt) are idempotent. The writes themselves are
/// <see cref="ResourceWrites"/>, shared with <c>/Bulk</c>.
/// </summary>
public static class UsersEndpoints
{
    private static readonly ResourceKind Kind = ResourceKind.User;
    private static readonly ResourceWrites Writes = ResourceWrites.Users;

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
        var body = await ScimHttp.ReadObjectAsync(request, options.Value.MaxBodyBytes);
        return Respond(await Writes.CreateAsync(ScimCall.Of(tenantId, request, grains, retry, options), body), request, options, tenantId);
    }

    private static async Task<IResult> GetAsync(string tenantId, string id, HttpRequest request, IGrainFactory grains, GrainCallRetry retry, IOptions<GatewayOptions> options) =>
        GrainKeys.IsValidId(id)
            ? Respond(await retry.ExecuteAsync(CallSafety.Read, () => grains.Grain<IUserGrain>(GrainKeys.User(tenantId, id)).GetAsync(), request.HttpContext.RequestAborted), request, options, tenantId)
            : NotFound(id);

    private static async Task<IResult> ReplaceAsync(string tenantId, string id, HttpRequest request, IGrainFactory grains, GrainCallRetry retry, IOptions<GatewayOptions> options)
    {
        if (!GrainKeys.IsValidId(id))
        {
            return NotFound(id);
        }

        var body = await ScimHttp.ReadObjectAsync(request, options.Value.MaxBodyBytes);
        var result = await Writes.ReplaceAsync(ScimCall.Of(tenantId, request, grains, retry, options), id, body, ScimHttp.IfMatch(request));
        return Respond(result, request, options, tenantId);
    }

    private static async Task<IResult> PatchAsync(string tenantId, string id, HttpRequest request, IGrainFactory grains, GrainCallRetry retry, IOptions<GatewayOptions> options)
    {
        if (!GrainKeys.IsValidId(id))
        {
            return NotFound(id);
        }

        var body = await ScimHttp.ReadObjectAsync(request, options.Value.MaxBodyBytes);
        RequestLogFacts.NotePatch(request.HttpContext, body);
        var result = await Writes.PatchAsync(ScimCall.Of(tenantId, request, grains, retry, options), id, body, ScimHttp.IfMatch(request));
        return Respond(result, request, options, tenantId);
    }

    private static async Task<IResult> DeleteAsync(string tenantId, string id, HttpRequest request, IGrainFactory grains, GrainCallRetry retry, IOptions<GatewayOptions> options) =>
        ScimHttp.From(await Writes.DeleteAsync(ScimCall.Of(tenantId, request, grains, retry, options), id, ScimHttp.IfMatch(request)), _ => []);

    private static IResult Respond(ScimResult result, HttpRequest request, IOptions<GatewayOptions> options, string tenantId) =>
        ResourceHttp.Respond(Kind, result, request, options, tenantId);

    private static IResult NotFound(string id) => ResourceHttp.NotFound(Kind, id);
}
