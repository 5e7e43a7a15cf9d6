using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.ServiceDefaults.Telemetry;
using Cluster.Scim.Filtering;

namespace Cluster.Gateway.Querying;

/// <summary>
/// Answers <c>GET /Users</c> and <c>GET /Groups</c> for any <see cref="ResourceKind"/>: filters that an index can answer
/// (<c>eq</c> on <c>id</c> or an indexed attribute — users: <c>userName</c>, <c>externalId</c>,
/// <c>emails[type eq "work"].value</c>; groups: <c>displayName</c>, <c>externalId</c> — alone or inside <c>and</c>) cost
/// one index grain call plus one call per candidate, whatever the tenant's size; other filters and plain listing walk
/// the tenant's directory of that kind in id order, fetching resources in bounded batches. Every candidate is checked
/// against the whole filter, so an index entry left behind by a crash never shows a client a wrong resource; such
/// entries are repaired on the way.
/// </summary>
public sealed class ResourceQueries(IGrainFactory grains, ScimInstruments? instruments = null)
{
    private const int FetchBatch = 64;

    /// <summary>
    /// The total number of matches and the requested page of them (stored JSON, in id order). <paramref name="fetch"/>
    /// reads one resource (default: the grain's <c>GetAsync</c>), e.g. a group with only the members a filter asks about.
    /// </summary>
    public async Task<(int Total, IReadOnlyList<JsonObject> Page)> QueryAsync(
        ResourceKind kind, string tenantId, FilterNode? filter, int startIndex, int count, Func<string, Task<ScimResult>>? fetch = null)
    {
        var query = new Query(kind, tenantId, fetch ?? (id => kind.Grain(grains, tenantId, id).GetAsync()));
        if (filter is not null && kind.Plan(filter) is { } probe)
        {
            var matches = await FromIndexAsync(query, probe, filter);
            return (matches.Count, matches.Skip(startIndex - 1).Take(count).ToList());
        }

        var ids = await ListIdsAsync(kind, tenantId);
        if (filter is null)
        {
            var page = await FetchAsync(query, ids.Skip(startIndex - 1).Take(count), reconcileMissing: true);
            return (ids.Count, page.Where(u => u is not null).Select(u => u!).ToList());
        }

        var total = 0;
        var pageItems = new List<JsonObject>();
        foreach (var batch in ids.Chunk(FetchBatch))
        {
            foreach (var user in await FetchAsync(query, batch, reconcileMissing: true))
            {
                if (user is not null && FilterEvaluator.Matches(filter, user, kind.Type))
                {
                    total++;
                    if (total >= startIndex && pageItems.Count < count)
                    {
                        pageItems.Add(user);
                    }
                }
            }
        }

        return (total, pageItems);
    }

    /// <summary>The number of resources of a kind in a tenant.</summary>
    public async Task<int> CountAsync(ResourceKind kind, string tenantId)
    {
        var counts = await Task.WhenAll(Enumerable.Range(0, GrainKeys.DirectoryPartitions)
            .Select(p => kind.Directory(grains, tenantId, p).CountAsync()));
        return counts.Sum();
    }

    private async Task<List<JsonObject>> FromIndexAsync(Query query, IndexProbe probe, FilterNode filter)
    {
        var tenantId = query.TenantId;
        string[] candidates;
        string? hash = null;
        if (probe.IndexName is null)
        {
            candidates = GrainKeys.IsValidId(probe.Value) ? [probe.Value] : [];
        }
        else
        {
            hash = IndexNames.Hash(probe.Value);
            candidates = await grains.GetGrain<IIndexEntryGrain>(GrainKeys.IndexEntry(tenantId, probe.IndexName, hash)).LookupAsync();
        }

        var users = await FetchAsync(query, candidates, reconcileMissing: probe.IndexName is null);
        var matches = new List<JsonObject>();
        for (var i = 0; i < candidates.Length; i++)
        {
            var user = users[i];
            if (probe.IndexName is not null && !HoldsValue(query.Kind, user, probe))
            {
                // The entry points at a resource that no longer holds the value: a crash between two writes.
                await query.Kind.Grain(grains, tenantId, candidates[i]).ReconcileAsync(probe.IndexName, hash);
                instruments?.IndexLookup(probe.IndexName, ScimInstruments.LookupResults.StaleRepaired);
                continue;
            }

            if (user is not null && FilterEvaluator.Matches(filter, user, query.Kind.Type))
            {
                matches.Add(user);
            }
        }

        if (probe.IndexName is not null)
        {
            instruments?.IndexLookup(probe.IndexName, users.Any(u => HoldsValue(query.Kind, u, probe)) ? ScimInstruments.LookupResults.Hit : ScimInstruments.LookupResults.Miss);
        }

        matches.Sort((a, b) => string.CompareOrdinal(IdOf(a), IdOf(b)));
        return matches;
    }

    private static bool HoldsValue(ResourceKind kind, JsonObject? resource, IndexProbe probe)
    {
        var normalized = IndexNames.Normalize(probe.Value);
        return resource is not null && kind.ValuesOf(resource)[probe.IndexName!].Any(v => IndexNames.Normalize(v) == normalized);
    }

    private async Task<List<string>> ListIdsAsync(ResourceKind kind, string tenantId)
    {
        var partitions = await Task.WhenAll(Enumerable.Range(0, GrainKeys.DirectoryPartitions)
            .Select(p => kind.Directory(grains, tenantId, p).ListAsync()));
        var ids = partitions.SelectMany(p => p).ToList();
        ids.Sort(StringComparer.Ordinal);
        return ids;
    }

    private async Task<JsonObject?[]> FetchAsync(Query query, IEnumerable<string> ids, bool reconcileMissing)
    {
        var idList = ids.ToArray();
        var results = await Task.WhenAll(idList.Select(query.Fetch));
        var users = new JsonObject?[idList.Length];
        for (var i = 0; i < idList.Length; i++)
        {
            if (results[i].Resource is { } json)
            {
                users[i] = JsonNode.Parse(json)!.AsObject();
            }
            else if (reconcileMissing)
            {
                // Listed but gone: a delete that crashed before it left the directory.
                await query.Kind.Grain(grains, query.TenantId, idList[i]).ReconcileAsync(null, null);
            }
        }

        return users;
    }

    private static string IdOf(JsonObject user) => user["id"]?.GetValue<string>() ?? "";

    private sealed record Query(ResourceKind Kind, string TenantId, Func<string, Task<ScimResult>> Fetch);
}
