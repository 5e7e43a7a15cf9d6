using Cluster.Gateway.Querying;

namespace Cluster.Gateway.Telemetry;

/// <summary>
/// Names a SCIM request for metrics from its HTTP method and matched route pattern (never from the raw path, so
/// ids in URLs never become label values): <c>users.create</c>, <c>users.get</c>, <c>users.list</c>,
/// <c>users.replace</c>, <c>users.patch</c>, <c>users.delete</c>, the same for <c>groups</c>, and
/// <c>discovery.serviceproviderconfig</c> / <c>discovery.resourcetypes</c> / <c>discovery.schemas</c>, and
/// <c>users.search</c> / <c>groups.search</c> / <c>search</c> for <c>POST …/.search</c>, and <c>bulk</c> for
/// <c>POST …/Bulk</c> (one request, whatever its number of operations).
/// A request that matched no route is <c>unmatched</c>.
/// </summary>
public static class ScimOperations
{
    public const string Unmatched = "unmatched";
    public const string NoResource = "none";

    private static readonly string Prefix = ScimUrls.TenantRoutePrefix.TrimEnd('/') + "/";

    private static readonly HashSet<string> Discovery = new(["ServiceProviderConfig", "ResourceTypes", "Schemas"], StringComparer.OrdinalIgnoreCase);

    /// <summary>The operation and resource type of a request to <paramref name="routePattern"/> (null: no route matched).</summary>
    public static (string Operation, string ResourceType) Classify(string method, string? routePattern)
    {
        if (routePattern is null || !routePattern.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return (Unmatched, NoResource);
        }

        var segments = routePattern[Prefix.Length..].Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length == 0)
        {
            return (Unmatched, NoResource);
        }

        var collection = segments[0];
        if (segments[^1] == ".search")
        {
            return segments.Length == 1 ? ("search", NoResource) : ($"{collection.ToLowerInvariant()}.search", collection.EndsWith('s') ? collection[..^1] : collection);
        }

        if (segments.Length == 1 && collection.Equals("Bulk", StringComparison.OrdinalIgnoreCase))
        {
            return ("bulk", NoResource);
        }

        if (Discovery.Contains(collection))
        {
            return ($"discovery.{collection.ToLowerInvariant()}", collection);
        }

        var resourceType = collection.EndsWith('s') ? collection[..^1] : collection;
        var withId = segments.Length > 1;
        var verb = method.ToUpperInvariant() switch
        {
            "GET" => withId ? "get" : "list",
            "POST" => "create",
            "PUT" => "replace",
            "PATCH" => "patch",
            "DELETE" => "delete",
            _ => "other",
        };
        return ($"{collection.ToLowerInvariant()}.{verb}", resourceType);
    }
}
