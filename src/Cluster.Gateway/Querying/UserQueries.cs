using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.ServiceDefaults.Telemetry;
using Cluster.Scim.Filtering;
using Cluster.Scim.Schema;

namespace Cluster.Gateway.Querying;

/// <summary>
/// Answers <c>GET /Users</c>: filters that an index can answer (<c>id</c>, <c>userName</c>, <c>externalId</c>,
/// <c>emails[type eq "work"].value</c> with <c>eq</c>, alone or inside <c>and</c>) cost one index grain call plus one
/// call per candidate, whatever the tenant's size; other filters and plain listing walk the tenant's directory in
/// id order, fetching users in bounded batches. Every candidate is checked against the whole filter, so an index
/// entry left behind by a crash never shows a client a wrong user; such entries are repaired on the way.
/// </summary>
public sealed class UserQueries(IGrainFactory grains, ScimInstruments? instruments = null)
{
    private const int FetchBatch = 64;
    private static readonly ResourceTypeDefinition ResourceType = ScimSchemas.UserResource;

    /// <summary>The total number of matches and the requested page of them (stored JSON, in id order).</summary>
    public async Task<(int Total, IReadOnlyList<JsonObject> Page)> QueryAsync(string tenantId, FilterNode? filter, int startIndex, int count)
    {
        if (filter is not null && UserIndexes.Plan(filter) is { } probe)
        {
            var matches = await FromIndexAsync(tenantId, probe, filter);
            return (matches.Count, matches.Skip(startIndex - 1).Take(count).ToList());
        }

        var ids = await ListIdsAsync(tenantId);
        if (filter is null)
        {
            var page = await FetchAsync(tenantId, ids.Skip(startIndex - 1).Take(count), reconcileMissing: true);
            return (ids.Count, page.Where(u => u is not null).Select(u => u!).ToList());
        }

        var total = 0;
        var pageItems = new List<JsonObject>();
        foreach (var batch in ids.Chunk(FetchBatch))
        {
            foreach (var user in await FetchAsync(tenantId, batch, reconcileMissing: true))
            {
                if (user is not null && FilterEvaluator.Matches(filter, user, ResourceType))
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

    /// <summary>The number of users in a tenant.</summary>
    public async Task<int> CountAsync(string tenantId)
    {
        var counts = await Task.WhenAll(Enumerable.Range(0, GrainKeys.DirectoryPartitions)
            .Select(p => grains.GetGrain<IDirectoryGrain>(GrainKeys.Directory(tenantId, "users", p)).CountAsync()));
        return counts.Sum();
    }

    private async Task<List<JsonObject>> FromIndexAsync(string tenantId, IndexProbe probe, FilterNode filter)
    {
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

        var users = await FetchAsync(tenantId, candidates, reconcileMissing: probe.IndexName is null);
        var matches = new List<JsonObject>();
        for (var i = 0; i < candidates.Length; i++)
        {
            var user = users[i];
            if (probe.IndexName is not null && !HoldsValue(user, probe))
            {
                // The entry points at a user that no longer holds the value: a crash between two writes.
                await User(tenantId, candidates[i]).ReconcileAsync(probe.IndexName, hash);
                instruments?.IndexLookup(probe.IndexName, ScimInstruments.LookupResults.StaleRepaired);
                continue;
            }

            if (user is not null && FilterEvaluator.Matches(filter, user, ResourceType))
            {
                matches.Add(user);
            }
        }

        if (probe.IndexName is not null)
        {
            instruments?.IndexLookup(probe.IndexName, users.Any(u => HoldsValue(u, probe)) ? ScimInstruments.LookupResults.Hit : ScimInstruments.LookupResults.Miss);
        }

        matches.Sort((a, b) => string.CompareOrdinal(IdOf(a), IdOf(b)));
        return matches;
    }

    private static bool HoldsValue(JsonObject? user, IndexProbe probe)
    {
        var normalized = IndexNames.Normalize(probe.Value);
        return user is not null && UserIndexes.ValuesOf(user)[probe.IndexName!].Any(v => IndexNames.Normalize(v) == normalized);
    }

    private async Task<List<string>> ListIdsAsync(string tenantId)
    {
        var partitions = await Task.WhenAll(Enumerable.Range(0, GrainKeys.DirectoryPartitions)
            .Select(p => grains.GetGrain<IDirectoryGrain>(GrainKeys.Directory(tenantId, "users", p)).ListAsync()));
        var ids = partitions.SelectMany(p => p).ToList();
        ids.Sort(StringComparer.Ordinal);
        return ids;
    }

    private async Task<JsonObject?[]> FetchAsync(string tenantId, IEnumerable<string> ids, bool reconcileMissing)
    {
        var idList = ids.ToArray();
        var results = await Task.WhenAll(idList.Select(id => User(tenantId, id).GetAsync()));
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
                await User(tenantId, idList[i]).ReconcileAsync(null, null);
            }
        }

        return users;
    }

    private static string IdOf(JsonObject user) => user["id"]?.GetValue<string>() ?? "";

    private IUserGrain User(string tenantId, string id) => grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, id));
}
