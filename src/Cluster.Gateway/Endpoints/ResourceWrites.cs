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
/// The one implementation of create, replace, patch and delete of a resource kind: id check, normalization, the grain
/// call with its <see cref="CallSafety"/> and preconditions. The HTTP routes (<c>UsersEndpoints</c>, <c>GroupsEndpoints</c>)
/// and <c>/Bulk</c> both call these and map the <see cref="ScimResult"/> through <c>ScimHttp</c>. Bad input throws
/// <c>ScimException</c>; an unknown or malformed id is a 404 result.
/// </summary>
internal abstract class ResourceWrites
{
    public static readonly ResourceWrites Users = new UserWrites();

    public static readonly ResourceWrites Groups = new GroupWrites();

    public abstract ResourceKind Kind { get; }

    /// <summary>The writes of the kind served at <paramref name="endpoint"/> (<c>/Users</c>, <c>/Groups</c>), or null.</summary>
    public static ResourceWrites? ForEndpoint(string endpoint) =>
        string.Equals(endpoint, Users.Kind.Type.Endpoint, StringComparison.Ordinal) ? Users
        : string.Equals(endpoint, Groups.Kind.Type.Endpoint, StringComparison.Ordinal) ? Groups
        : null;

    /// <summary>POST: creates a resource from a request body. 201, 400, 409.</summary>
    public abstract Task<ScimResult> CreateAsync(ScimCall call, JsonObject body);

    /// <summary>PUT. 200, 400, 404, 409, 412.</summary>
    public async Task<ScimResult> ReplaceAsync(ScimCall call, string id, JsonObject body, ETagCondition? ifMatch)
    {
        if (!GrainKeys.IsValidId(id))
        {
            return NotFound(id);
        }

        var resource = Normalize(body);
        return await call.Retry.ExecuteAsync(CallSafety.Idempotent, () => ReplaceCoreAsync(call, id, resource, ifMatch), call.Aborted);
    }

    /// <summary>
    /// PATCH with a PatchOp body. 200, 400, 404, 409, 412. Re-applying the same operations yields the same resource and
    /// a PATCH that changes nothing writes nothing: idempotent.
    /// </summary>
    public async Task<ScimResult> PatchAsync(ScimCall call, string id, JsonObject body, ETagCondition? ifMatch)
    {
        if (!GrainKeys.IsValidId(id))
        {
            return NotFound(id);
        }

        var json = ScimSerializer.Serialize(body);
        return await call.Retry.ExecuteAsync(CallSafety.Idempotent, () => PatchCoreAsync(call, id, json, ifMatch), call.Aborted);
    }

    /// <summary>DELETE. 204, 404, 412. A retry of a delete whose first attempt did happen answers 404 (docs/operations.md).</summary>
    public async Task<ScimResult> DeleteAsync(ScimCall call, string id, ETagCondition? ifMatch) =>
        GrainKeys.IsValidId(id)
            ? await call.Retry.ExecuteAsync(CallSafety.Idempotent, () => DeleteCoreAsync(call, id, ifMatch), call.Aborted)
            : NotFound(id);

    /// <summary>The SCIM 404 of an unknown or malformed id.</summary>
    public ScimResult NotFound(string id) => ScimResult.NotFound($"{Kind.Type.Name} {(id.Length > 64 ? id[..64] : id)} not found.");

    /// <summary>Normalizes and serializes a POST/PUT body of this kind.</summary>
    protected string Normalize(JsonObject body) => ScimSerializer.Serialize(ResourceNormalizer.Normalize(body, Kind.Type));

    protected abstract Task<ScimResult> ReplaceCoreAsync(ScimCall call, string id, string resource, ETagCondition? ifMatch);

    protected abstract Task<ScimResult> PatchCoreAsync(ScimCall call, string id, string patch, ETagCondition? ifMatch);

    protected abstract Task<ScimResult> DeleteCoreAsync(ScimCall call, string id, ETagCondition? ifMatch);

    private sealed class UserWrites : ResourceWrites
    {
        public override ResourceKind Kind => ResourceKind.User;

        public override async Task<ScimResult> CreateAsync(ScimCall call, JsonObject body)
        {
            var resource = Normalize(body);

            // The id is chosen once, before the first attempt: a repeated create of the same content on it is answered as
            // the original one, so the create is idempotent and safe to retry after an unknown outcome.
            var id = GrainKeys.NewResourceId();
            return await call.Retry.ExecuteAsync(CallSafety.Idempotent, () => User(call, id).CreateAsync(resource), call.Aborted);
        }

        protected override Task<ScimResult> ReplaceCoreAsync(ScimCall call, string id, string resource, ETagCondition? ifMatch) =>
            User(call, id).ReplaceAsync(resource, ifMatch);

        protected override Task<ScimResult> PatchCoreAsync(ScimCall call, string id, string patch, ETagCondition? ifMatch) =>
            User(call, id).PatchAsync(patch, ifMatch);

        protected override Task<ScimResult> DeleteCoreAsync(ScimCall call, string id, ETagCondition? ifMatch) =>
            User(call, id).DeleteAsync(ifMatch);

        private static IUserGrain User(ScimCall call, string id) => call.Grains.GetGrain<IUserGrain>(GrainKeys.User(call.TenantId, id));
    }

    private sealed class GroupWrites : ResourceWrites
    {
        public override ResourceKind Kind => ResourceKind.Group;

        public override async Task<ScimResult> CreateAsync(ScimCall call, JsonObject body)
        {
            // The normalizer ignores request schemas, so Entra's extra ADSCIM schema URI is accepted.
            // A group create is not retried: unlike the user grain, the group grain does not recognise a repeated create.
            var resource = Normalize(body);
            var id = GrainKeys.NewResourceId();
            return await call.Retry.ExecuteAsync(CallSafety.Unsafe, () => Group(call, id).CreateAsync(resource), call.Aborted);
        }

        protected override Task<ScimResult> ReplaceCoreAsync(ScimCall call, string id, string resource, ETagCondition? ifMatch) =>
            Group(call, id).ReplaceAsync(resource, ifMatch);

        // Re-adding a member or re-removing an absent one is a no-op, so a repeated PATCH leaves the same result.
        protected override Task<ScimResult> PatchCoreAsync(ScimCall call, string id, string patch, ETagCondition? ifMatch) =>
            Group(call, id).PatchAsync(patch, ifMatch);

        protected override Task<ScimResult> DeleteCoreAsync(ScimCall call, string id, ETagCondition? ifMatch) =>
            Group(call, id).DeleteAsync(ifMatch);

        private static IGroupGrain Group(ScimCall call, string id) => call.Grains.GetGrain<IGroupGrain>(GrainKeys.Group(call.TenantId, id));
    }
}
