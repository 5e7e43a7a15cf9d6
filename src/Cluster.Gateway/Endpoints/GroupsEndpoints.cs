using Cluster.Abstractions;
using Cluster.Gateway.Hosting;
using Cluster.Gateway.Http;
using Cluster.Gateway.Querying;
using Cluster.Gateway.RequestLog;
using Cluster.Gateway.Resilience;
using Cluster.Scim;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Endpoints;

/// <summary>
/// <c>/Groups</c> and <c>/Groups/{id}</c> (RFC 7644 §3), as Microsoft Entra ID uses them (entra-scim.md §2.8): match by
/// <c>displayName</c> with <c>excludedAttributes=members</c>, create without members, membership by PATCH (204).
/// Members are read only when the response shows them or the filter needs them.
/// </summary>
public static class GroupsEndpoints
{
    private static readonly ResourceKind Kind = ResourceKind.Group;
    private static readonly ResourceWrites Writes = ResourceWrites.Groups;

    public static RouteGroupBuilder MapGroups(this RouteGroupBuilder scim)
    {
        var groups = scim.MapGroup("/Groups");
        groups.MapGet("", ListAsync);
        groups.MapPost("", CreateAsync);
        groups.MapGet("/{id}", GetAsync);
        groups.MapPut("/{id}", ReplaceAsync);
        groups.MapPatch("/{id}", PatchAsync);
        groups.MapDelete("/{id}", DeleteAsync);
        return scim;
    }

    private static Task<IResult> ListAsync(string tenantId, HttpRequest request, IGrainFactory grains, ResourceQueries queries, GrainCallRetry retry, IOptions<GatewayOptions> options)
    {
        var query = AnsweringPreCheck(ScimQuery.From(request, options.Value.MaxPageSize));
        return SearchEndpoints.RespondAsync(tenantId, [Query(grains, tenantId, query)], query, request, queries, retry, options);
    }

    /// <summary>
    /// Entra's membership pre-check (<see cref="MemberFilter.IsMembershipCheck"/>) is answered without members unless
    /// <c>attributes</c> asks for them (entra-scim.md §2.8): a 0/1 answer, not a member list that may hold 100,000.
    /// </summary>
    internal static ScimQuery AnsweringPreCheck(ScimQuery query) =>
        query.Attributes is not { Count: > 0 } && MemberFilter.IsMembershipCheck(query.Filter)
            ? query with { ExcludedAttributes = [.. query.ExcludedAttributes ?? [], "members"] }
            : query;

    /// <summary>
    /// How a query reads groups: members only as far as needed — while collecting matches, those the filter asks about
    /// (one partition each; all for other member filters or a sort by members); for the page, all when shown.
    /// </summary>
    internal static KindQuery Query(IGrainFactory grains, string tenantId, ScimQuery query)
    {
        var asked = MemberFilter.ReferencedIds(query.Filter);
        var scanMembers = asked is null || query.Sort?.For(Kind.Type)?.IsAttribute("members") == true ? null : asked;
        var pageMembers = ShowsMembers(query.Attributes, query.ExcludedAttributes) ? null : scanMembers;
        return new KindQuery(Kind, id => Group(grains, tenantId, id).ReadAsync(scanMembers), pageMembers == scanMembers ? null : id => Group(grains, tenantId, id).ReadAsync(pageMembers));
    }

    private static async Task<IResult> CreateAsync(string tenantId, HttpRequest request, IGrainFactory grains, GrainCallRetry retry, IOptions<GatewayOptions> options)
    {
        var body = await ScimHttp.ReadObjectAsync(request, options.Value.MaxBodyBytes);
        return Respond(await Writes.CreateAsync(ScimCall.Of(tenantId, request, grains, retry, options), body), request, options, tenantId);
    }

    private static async Task<IResult> GetAsync(string tenantId, string id, HttpRequest request, IGrainFactory grains, GrainCallRetry retry, IOptions<GatewayOptions> options)
    {
        if (!GrainKeys.IsValidId(id))
        {
            return NotFound(id);
        }

        var (attributes, excluded) = ScimQuery.Projection(request);
        var result = await retry.ExecuteAsync(CallSafety.Read, () => Group(grains, tenantId, id).ReadAsync(ShowsMembers(attributes, excluded) ? null : []), request.HttpContext.RequestAborted);
        return Respond(result, request, options, tenantId);
    }

    private static async Task<IResult> ReplaceAsync(string tenantId, string id, HttpRequest request, IGrainFactory grains, GrainCallRetry retry, IOptions<GatewayOptions> options)
    {
        if (!GrainKeys.IsValidId(id))
        {
            return NotFound(id);
        }

        var body = await ScimHttp.ReadObjectAsync(request, options.Value.MaxBodyBytes);
        var result = await Writes.ReplaceAsync(ScimCall.Of(tenantId, request, grains, retry, options), id, body, ScimHttp.IfMatch(request));
        return Respond(await WithMembersIfShownAsync(result, Group(grains, tenantId, id), request), request, options, tenantId);
    }

    /// <summary>PATCH answers 204, or 200 with the group when the client asks for attributes (entra-scim.md §2.8).</summary>
    private static async Task<IResult> PatchAsync(string tenantId, string id, HttpRequest request, IGrainFactory grains, GrainCallRetry retry, IOptions<GatewayOptions> options)
    {
        if (!GrainKeys.IsValidId(id))
        {
            return NotFound(id);
        }

        var body = await ScimHttp.ReadObjectAsync(request, options.Value.MaxBodyBytes);
        RequestLogFacts.NotePatch(request.HttpContext, body);
        var result = await Writes.PatchAsync(ScimCall.Of(tenantId, request, grains, retry, options), id, body, ScimHttp.IfMatch(request));
        var (attributes, excluded) = ScimQuery.Projection(request);
        if (result.IsSuccess && attributes is null && excluded is null)
        {
            return ScimHttp.NoContent(result.Version, result.Resource);
        }

        return Respond(await WithMembersIfShownAsync(result, Group(grains, tenantId, id), request), request, options, tenantId);
    }

    private static async Task<IResult> DeleteAsync(string tenantId, string id, HttpRequest request, IGrainFactory grains, GrainCallRetry retry, IOptions<GatewayOptions> options) =>
        ScimHttp.From(await Writes.DeleteAsync(ScimCall.Of(tenantId, request, grains, retry, options), id, ScimHttp.IfMatch(request)), _ => []);

    // Writes answer with the group's attributes; when the response shows members, read them after the write.
    private static async Task<ScimResult> WithMembersIfShownAsync(ScimResult result, IGroupGrain group, HttpRequest request)
    {
        var (attributes, excluded) = ScimQuery.Projection(request);
        return result.IsSuccess && ShowsMembers(attributes, excluded) ? await group.ReadAsync(null) : result;
    }

    // Asking for a sub-attribute of members (members.value) shows members; excluding one (members.display) leaves the members
    // shown without it (RFC 7644 §3.4.2.5): only excluding members itself hides them.
    private static bool ShowsMembers(IReadOnlyCollection<string>? attributes, IReadOnlyCollection<string>? excluded) =>
        attributes is { Count: > 0 }
            ? attributes.Any(a => IsMembers(a, orSubAttribute: true))
            : excluded is null || !excluded.Any(a => IsMembers(a, orSubAttribute: false));

    private static bool IsMembers(string attribute, bool orSubAttribute)
    {
        var name = attribute.StartsWith(ScimConstants.GroupSchema + ":", StringComparison.OrdinalIgnoreCase)
            ? attribute[(ScimConstants.GroupSchema.Length + 1)..]
            : attribute;
        return name.Equals("members", StringComparison.OrdinalIgnoreCase) || (orSubAttribute && name.StartsWith("members.", StringComparison.OrdinalIgnoreCase));
    }

    private static IResult Respond(ScimResult result, HttpRequest request, IOptions<GatewayOptions> options, string tenantId) =>
        ResourceHttp.Respond(Kind, result, request, options, tenantId);

    private static IResult NotFound(string id) => ResourceHttp.NotFound(Kind, id);

    private static IGroupGrain Group(IGrainFactory grains, string tenantId, string id) => grains.Grain<IGroupGrain>(GrainKeys.Group(tenantId, id));
}
