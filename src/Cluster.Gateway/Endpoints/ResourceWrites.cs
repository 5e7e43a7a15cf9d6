using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Gateway.Hosting;
using Cluster.Gateway.Resilience;
using Cluster.Scim;
using Cluster.Scim.Resources;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Endpoints;

/// <summary>What a write needs besides its input: the tenant, the cluster, the retry policy, the settings and the request's cancellation.</summary>
internal sealed record ScimCall(string TenantId, IGrainFactory Grains, GrainCallRetry Retry, GatewayOptions Options, CancellationToken Aborted)
{
    public static ScimCall Of(string tenantId, HttpRequest request, IGrainFactory grains, GrainCallRetry retry, IOptions<GatewayOptions> options) =>
        new(tenantId, grains, retry, options.Value, request.HttpContext.RequestAborted);
}

/// <summary>
/// The one implementation of create, replace, patch and delete, for users and groups alike: id check, normalization, the
/// grain call with its <see cref="CallSafety"/> and preconditions. The HTTP routes (<c>UsersEndpoints</c>, <c>GroupsEndpoints</c>)
/// and <c>/Bulk</c> both call these and map the <see cref="ScimResult"/> through <c>ScimHttp</c>. Bad input throws
/// <c>ScimException</c>; an unknown or malformed id is a 404 result. Every write is safe to retry after an unknown outcome
/// (<see cref="CallSafety.Idempotent"/>): a create's id is chosen here, before the first attempt, and the grain answers a
/// repeated create of the same content as the original one; PUT and PATCH that change nothing write nothing; a repeated
/// DELETE answers 404 (docs/operations.md).
/// </summary>
internal sealed class ResourceWrites(ResourceKind kind)
{
    public static readonly ResourceWrites Users = new(ResourceKind.User);

    public static readonly ResourceWrites Groups = new(ResourceKind.Group);

    public ResourceKind Kind => kind;

    /// <summary>The writes of the kind served at <paramref name="endpoint"/> (<c>/Users</c>, <c>/Groups</c>, in any case, as the routes match), or null.</summary>
    public static ResourceWrites? ForEndpoint(string endpoint) =>
        string.Equals(endpoint, Users.Kind.Type.Endpoint, StringComparison.OrdinalIgnoreCase) ? Users
        : string.Equals(endpoint, Groups.Kind.Type.Endpoint, StringComparison.OrdinalIgnoreCase) ? Groups
        : null;

    /// <summary>POST: creates a resource from a request body (the normalizer ignores request <c>schemas</c>, so Entra's extra ADSCIM URI is accepted). 201, 400, 409.</summary>
    public async Task<ScimResult> CreateAsync(ScimCall call, JsonObject body)
    {
        var resource = Normalize(body);
        var id = GrainKeys.NewResourceId();
        var first = true;
        return await call.Retry.ExecuteAsync(
            CallSafety.Idempotent,
            () =>
            {
                // The first attempt goes to an id nobody has seen: the grain need not read its (empty) state.
                var grain = Grain(call, id);
                var attempt = first ? grain.CreateNewAsync(resource) : grain.CreateAsync(resource);
                first = false;
                return attempt;
            },
            call.Aborted);
    }

    /// <summary>PUT. 200, 400, 404, 409, 412.</summary>
    public async Task<ScimResult> ReplaceAsync(ScimCall call, string id, JsonObject body, ETagCondition? ifMatch)
    {
        if (!GrainKeys.IsValidId(id))
        {
            return NotFound(id);
        }

        var resource = Normalize(body);
        return await call.Retry.ExecuteAsync(CallSafety.Idempotent, () => Grain(call, id).ReplaceAsync(resource, ifMatch), call.Aborted);
    }

    /// <summary>
    /// PATCH with a PatchOp body. 200, 400, 404, 409, 412. Re-applying the same operations yields the same resource (re-adding
    /// a member or re-removing an absent one is a no-op) and a PATCH that changes nothing writes nothing: idempotent.
    /// </summary>
    public async Task<ScimResult> PatchAsync(ScimCall call, string id, JsonObject body, ETagCondition? ifMatch)
    {
        if (!GrainKeys.IsValidId(id))
        {
            return NotFound(id);
        }

        var json = ScimSerializer.Serialize(body);
        return await call.Retry.ExecuteAsync(CallSafety.Idempotent, () => Grain(call, id).PatchAsync(json, ifMatch), call.Aborted);
    }

    /// <summary>DELETE. 204, 404, 412. A retry of a delete whose first attempt did happen answers 404 (docs/operations.md).</summary>
    public async Task<ScimResult> DeleteAsync(ScimCall call, string id, ETagCondition? ifMatch) =>
        GrainKeys.IsValidId(id)
            ? await call.Retry.ExecuteAsync(CallSafety.Idempotent, () => Grain(call, id).DeleteAsync(ifMatch), call.Aborted)
            : NotFound(id);

    /// <summary>The SCIM 404 of an unknown or malformed id.</summary>
    public ScimResult NotFound(string id) => ScimResult.NotFound($"{Kind.Type.Name} {(id.Length > 64 ? id[..64] : id)} not found.");

    /// <summary>Normalizes and serializes a POST/PUT body of this kind.</summary>
    private string Normalize(JsonObject body) => ScimSerializer.Serialize(ResourceNormalizer.Normalize(body, Kind.Type));

    private IIndexedResourceGrain Grain(ScimCall call, string id) => kind.Grain(call.Grains, call.TenantId, id);
}
