using Cluster.Gateway.Hosting;
using Cluster.Gateway.Http;
using Cluster.Gateway.Limits;
using Cluster.Gateway.Querying;
using Cluster.Scim.Discovery;
using Cluster.Scim.Schema;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Endpoints;

/// <summary><c>/ServiceProviderConfig</c>, <c>/ResourceTypes</c>, <c>/Schemas</c> (RFC 7644 §4), generated from the served schemas.</summary>
public static class DiscoveryEndpoints
{
    /// <summary>The resource types this gateway serves, with the configured extensions. Discovery lists exactly these.</summary>
    public static IReadOnlyList<ResourceTypeDefinition> Served => ScimSchemas.ResourceTypes;

    /// <summary>What the server really supports, for a tenant whose Bulk requests may carry <paramref name="bulkMaxOperations"/>.</summary>
    public static ServiceProviderFeatures Features(GatewayOptions options, int bulkMaxOperations) => new(
        Patch: true,
        Bulk: true,
        BulkMaxOperations: bulkMaxOperations,
        BulkMaxPayloadSize: options.BulkMaxPayloadSize,
        Filter: true,
        FilterMaxResults: options.MaxPageSize,
        ChangePassword: false,
        Sort: true,
        ETag: true);

    public static RouteGroupBuilder MapDiscovery(this RouteGroupBuilder group)
    {
        // RFC 7644 §4: these endpoints take no filter, and answer one with 403 so that no client takes it as applied.
        var scim = group.MapGroup("").AddEndpointFilter((context, next) => context.HttpContext.Request.Query.ContainsKey("filter")
            ? ValueTask.FromResult<object?>(ScimHttp.Error(403, null, "Discovery endpoints take no filter (RFC 7644 §4): ask without one."))
            : next(context));
        scim.MapGet("/ServiceProviderConfig", (string tenantId, HttpRequest request, IOptions<GatewayOptions> options, TenantRateLimitPolicy limits) =>
            ScimHttp.Json(200, DiscoveryDocuments.ServiceProviderConfig(
                Features(options.Value, limits.MaxBulkOperations(tenantId, options.Value.BulkMaxOperations)), Base(request, options, tenantId))));

        scim.MapGet("/ResourceTypes", (string tenantId, HttpRequest request, IOptions<GatewayOptions> options) =>
            ScimHttp.Json(200, DiscoveryDocuments.List([.. Served.Select(t => DiscoveryDocuments.ResourceType(t, Base(request, options, tenantId)))])));

        scim.MapGet("/ResourceTypes/{name}", (string tenantId, string name, HttpRequest request, IOptions<GatewayOptions> options) =>
            Served.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase)) is { } type
                ? ScimHttp.Json(200, DiscoveryDocuments.ResourceType(type, Base(request, options, tenantId)))
                : ScimHttp.Error(404, null, "Resource type not found."));

        scim.MapGet("/Schemas", (string tenantId, HttpRequest request, IOptions<GatewayOptions> options) =>
            ScimHttp.Json(200, DiscoveryDocuments.List([.. ServedSchemas().Select(s => DiscoveryDocuments.Schema(s, Base(request, options, tenantId)))])));

        scim.MapGet("/Schemas/{urn}", (string tenantId, string urn, HttpRequest request, IOptions<GatewayOptions> options) =>
            ServedSchemas().FirstOrDefault(s => string.Equals(s.Id, urn, StringComparison.OrdinalIgnoreCase)) is { } schema
                ? ScimHttp.Json(200, DiscoveryDocuments.Schema(schema, Base(request, options, tenantId)))
                : ScimHttp.Error(404, null, "Schema not found."));

        return group;
    }

    private static IEnumerable<SchemaDefinition> ServedSchemas() => ScimSchemas.All;

    private static string Base(HttpRequest request, IOptions<GatewayOptions> options, string tenantId) =>
        ScimUrls.TenantBase(request, options, tenantId);
}
