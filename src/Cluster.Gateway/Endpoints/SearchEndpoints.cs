using Cluster.Abstractions;
using Cluster.Gateway.Hosting;
using Cluster.Gateway.Http;
using Cluster.Gateway.Querying;
using Cluster.Gateway.Resilience;
using Cluster.Scim.Filtering;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Endpoints;

/// <summary>
/// <c>POST /Users/.search</c>, <c>POST /Groups/.search</c> and <c>POST /.search</c> (RFC 7644 §3.4.3): the query of a GET
/// in a SearchRequest body, answered with the same ListResponse. The root searches users and groups together, ordered
/// and paged across both. Also the one answer of every list query (<c>GET /Users</c>, <c>GET /Groups</c>).
/// </summary>
public static class SearchEndpoints
{
    public static RouteGroupBuilder MapSearch(this RouteGroupBuilder scim)
    {
        scim.MapPost("/.search", (string tenantId, HttpRequest request, IGrainFactory grains, ResourceQueries queries, GrainCallRetry retry, IOptions<GatewayOptions> options) =>
            SearchAsync([ResourceKind.User, ResourceKind.Group], tenantId, request, grains, queries, retry, options));
        scim.MapPost("/Users/.search", (string tenantId, HttpRequest request, IGrainFactory grains, ResourceQueries queries, GrainCallRetry retry, IOptions<GatewayOptions> options) =>
            SearchAsync([ResourceKind.User], tenantId, request, grains, queries, retry, options));
        scim.MapPost("/Groups/.search", (string tenantId, HttpRequest request, IGrainFactory grains, ResourceQueries queries, GrainCallRetry retry, IOptions<GatewayOptions> options) =>
            SearchAsync([ResourceKind.Group], tenantId, request, grains, queries, retry, options));
        return scim;
    }

    /// <summary>
    /// Checks the query against the kinds it covers (filter: 400 <c>invalidFilter</c>, an attribute unknown to every kind
    /// included; sort: 400 <c>invalidValue</c>), runs it and answers the ListResponse (200).
    /// </summary>
    internal static async Task<IResult> RespondAsync(
        string tenantId, IReadOnlyList<KindQuery> kinds, ScimQuery query, HttpRequest request, ResourceQueries queries, GrainCallRetry retry, IOptions<GatewayOptions> options)
    {
        var types = kinds.Select(k => k.Kind.Type).ToList();
        if (query.Filter is not null)
        {
            if (types.Count == 1)
            {
                FilterEvaluator.Validate(query.Filter, types[0]);
            }
            else
            {
                FilterEvaluator.ValidateAcross(query.Filter, types);
            }
        }

        query.Sort?.Validate(types);
        var (total, page) = await retry.ExecuteAsync(
            CallSafety.Read,
            () => queries.QueryAsync(tenantId, kinds, query.Filter, query.Sort, query.StartIndex, query.Count),
            request.HttpContext.RequestAborted);
        var baseUrl = ScimUrls.TenantBase(request, options, tenantId);
        return ResourceHttp.List(
            total,
            page,
            query.StartIndex,
            r => ResourceHttp.Render(r.Kind, r.Resource.Json, baseUrl, query.Attributes, query.ExcludedAttributes),
            query.Attributes is null && query.ExcludedAttributes is null
                ? r => ResourceHttp.PlainText(r.Kind, r.Resource.Text, baseUrl, r.Resource.Json["id"]?.GetValue<string>() ?? "")
                : null);
    }

    private static async Task<IResult> SearchAsync(
        ResourceKind[] kinds, string tenantId, HttpRequest request, IGrainFactory grains, ResourceQueries queries, GrainCallRetry retry, IOptions<GatewayOptions> options)
    {
        var body = await ScimHttp.ReadObjectAsync(request, options.Value.MaxBodyBytes);
        var query = ScimQuery.FromSearchRequest(body, options.Value.MaxPageSize);
        if (kinds is [var only] && only == ResourceKind.Group)
        {
            query = GroupsEndpoints.AnsweringPreCheck(query); // as GET /Groups answers it
        }

        var parts = kinds.Select(k => k == ResourceKind.Group ? GroupsEndpoints.Query(grains, tenantId, query) : new KindQuery(k)).ToList();
        return await RespondAsync(tenantId, parts, query, request, queries, retry, options);
    }
}
