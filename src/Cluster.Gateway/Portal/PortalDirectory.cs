using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Gateway.Querying;
using Cluster.Scim.Filtering;

namespace Cluster.Gateway.Portal;

/// <summary>
/// The portal's read-only view of a tenant's users and groups: pages of the directory, and a search that finds a user by
/// userName, work email or externalId, or a group by displayName or externalId — exact matches through the same indexes
/// Entra's lookups use (canonical form: case and Unicode spelling do not matter), so a search costs one lookup whatever the
/// tenant's size.
/// </summary>
public sealed class PortalDirectory(ResourceQueries queries, IGrainFactory grains)
{
    /// <summary>Resources per page.</summary>
    public const int PageSize = 25;

    public async Task<(int Total, IReadOnlyList<JsonObject> Items)> ListAsync(ResourceKind kind, string tenantId, string? search, int page)
    {
        if (!string.IsNullOrWhiteSpace(search))
        {
            foreach (var filter in SearchFilters(kind, search.Trim()))
            {
                var (total, found) = await queries.QueryAsync(kind, tenantId, FilterParser.Parse(filter), 1, PageSize, Fetch(kind, tenantId));
                if (total > 0)
                {
                    return (total, found);
                }
            }

            return (0, []);
        }

        return await queries.QueryAsync(kind, tenantId, null, ((Math.Max(1, page) - 1) * PageSize) + 1, PageSize, Fetch(kind, tenantId));
    }

    /// <summary>One resource as the portal shows it (a group with its members), or null.</summary>
    public async Task<JsonObject?> GetAsync(ResourceKind kind, string tenantId, string id)
    {
        if (!GrainKeys.IsValidId(id))
        {
            return null;
        }

        var result = kind == ResourceKind.Group
            ? await grains.Grain<IGroupGrain>(GrainKeys.Group(tenantId, id)).ReadAsync(null)
            : await kind.Grain(grains, tenantId, id).GetAsync();
        return result.IsSuccess && result.Resource is { } json ? JsonNode.Parse(json)!.AsObject() : null;
    }

    private Func<string, Task<ScimResult>>? Fetch(ResourceKind kind, string tenantId) =>
        kind == ResourceKind.Group ? id => grains.Grain<IGroupGrain>(GrainKeys.Group(tenantId, id)).ReadAsync([]) : null;

    private static IEnumerable<string> SearchFilters(ResourceKind kind, string term)
    {
        var quoted = "\"" + term.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
        return kind == ResourceKind.Group
            ? [$"displayName eq {quoted}", $"externalId eq {quoted}"]
            : [$"userName eq {quoted}", $"emails[type eq \"work\"].value eq {quoted}", $"externalId eq {quoted}"];
    }
}
