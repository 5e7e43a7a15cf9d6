using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.ServiceDefaults.Telemetry;
using Cluster.Scim.Filtering;
using Cluster.Scim.Sorting;

namespace Cluster.Gateway.Querying;

/// <summary>
/// Answers <c>GET /Users</c> and <c>GET /Groups</c> for any <see cref="ResourceKind"/>: filters that an index can answer
/// (<c>eq</c> on <c>id</c> or an indexed attribute — users: <c>userName</c>, <c>externalId</c>,
/// <c>emails[type eq "work"].value</c>; groups: <c>displayName</c>, <c>externalId</c> — alone or inside <c>and</c>) cost
/// one call to the index entry, which reads its holders itself (<see cref="IIndexEntryGrain.FindAsync"/>; a query that
/// reads resources its own way asks the entry for the ids and then each candidate), whatever the tenant's size; other filters and plain listing walk
/// the tenant's directory of that kind in id order, fetching resources in bounded batches. Every candidate is checked
/// against the whole filter, so an index entry left behind by a crash never shows a client a wrong resource; such
/// entries are repaired on the way.
/// <para>
/// Sorted queries and queries over several kinds (<c>POST /.search</c>) collect one (sort key, id) pair per match — never
/// the resources themselves — order them, and then read only the requested page (see docs/architecture.md, "Sorting
/// and .search"). Without <c>sortBy</c> results are in id order.
/// </para>
/// </summary>
public sealed class ResourceQueries(IGrainFactory grains, ScimInstruments? instruments = null, ILogger<ResourceQueries>? logger = null)
{
    private const int FetchBatch = 64;

    /// <summary>
    /// The total number of matches and the requested page of them (stored JSON, in id order). <paramref name="fetch"/>
    /// reads one resource (default: the grain's <c>GetAsync</c>), e.g. a group with only the members a filter asks about.
    /// </summary>
    public async Task<(int Total, IReadOnlyList<JsonObject> Page)> QueryAsync(
        ResourceKind kind, string tenantId, FilterNode? filter, int startIndex, int count, Func<string, Task<ScimResult>>? fetch = null)
    {
        var (total, page) = await QueryStoredAsync(kind, tenantId, filter, startIndex, count, fetch);
        return (total, page.Select(r => r.Json).ToList());
    }

    // QueryAsync with each resource's text as the grain answered it beside its parsed form. pageFetch, when given, reads the
    // page's resources as they are shown, after fetch found the matches (a group's members: only those the filter asks
    // about while matching, all of them for the page); a resource gone or no longer matching by then is left out.
    private async Task<(int Total, IReadOnlyList<StoredResource> Page)> QueryStoredAsync(
        ResourceKind kind, string tenantId, FilterNode? filter, int startIndex, int count, Func<string, Task<ScimResult>>? fetch,
        Func<string, Task<ScimResult>>? pageFetch = null)
    {
        var query = new Query(kind, tenantId, fetch ?? (id => kind.Grain(grains, tenantId, id).GetAsync()), PlainGet: fetch is null);
        var pageQuery = pageFetch is null ? query : query with { Fetch = pageFetch, PlainGet = false };
        if (filter is null)
        {
            // A listed id whose resource is gone (a crash between its delete's writes) is repaired on the way and not
            // counted: the total is exact whenever the page covers every ghost.
            var ids = await ListIdsAsync(kind, tenantId);
            var page = await FetchAsync(pageQuery, ids.Skip(startIndex - 1).Take(count), reconcileMissing: true);
            return (ids.Count - page.Count(u => u is null), page.Where(u => u is not null).Select(u => u!.Value).ToList());
        }

        var (total, matched) = await MatchAsync(query, filter, startIndex, count);
        if (pageFetch is null || matched.Count == 0)
        {
            return (total, matched);
        }

        var reread = await FetchAsync(pageQuery, matched.Select(r => IdOf(r.Json)), reconcileMissing: false);
        var shown = reread.Where(r => r is { } resource && FilterEvaluator.Matches(filter, resource.Json, kind.Type)).Select(r => r!.Value).ToList();
        return (total - (matched.Count - shown.Count), shown);
    }

    // The matches of a filter (their number, and the page of them), read with the query's fetch.
    private async Task<(int Total, List<StoredResource> Page)> MatchAsync(Query query, FilterNode filter, int startIndex, int count)
    {
        var kind = query.Kind;
        if (kind.Plan(filter) is { } probe)
        {
            var matches = await FromIndexAsync(query, probe, r => FilterEvaluator.Matches(filter, r, kind.Type));
            return (matches.Count, matches.Skip(startIndex - 1).Take(count).ToList());
        }

        var total = 0;
        var pageItems = new List<StoredResource>();
        foreach (var batch in (await ListIdsAsync(kind, query.TenantId)).Chunk(FetchBatch))
        {
            foreach (var stored in await FetchAsync(query, batch, reconcileMissing: true))
            {
                if (stored is { } user && FilterEvaluator.Matches(filter, user.Json, kind.Type))
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

    /// <summary>
    /// A query over one or more kinds, optionally sorted: the total number of matches and the requested page, each
    /// resource with its kind. With one kind and no sort this is <see cref="QueryAsync(ResourceKind, string, FilterNode?, int, int, Func{string, Task{ScimResult}}?)"/>.
    /// Over several kinds an attribute a kind lacks matches nothing there (<see cref="FilterEvaluator.MatchesAcross"/>).
    /// </summary>
    public async Task<(int Total, IReadOnlyList<(ResourceKind Kind, StoredResource Resource)> Page)> QueryAsync(
        string tenantId, IReadOnlyList<KindQuery> kinds, FilterNode? filter, ScimSort? sort, int startIndex, int count)
    {
        if (kinds.Count == 1 && sort is null)
        {
            var only = kinds[0];
            var (total, page) = await QueryStoredAsync(only.Kind, tenantId, filter, startIndex, count, only.ScanFetch, only.PageFetch);
            return (total, page.Select(r => (only.Kind, r)).ToList());
        }

        var across = kinds.Count > 1;
        var sources = new List<Source>();
        foreach (var kind in kinds)
        {
            if (filter is null || !across || FilterEvaluator.CanMatch(filter, kind.Kind.Type))
            {
                var keys = sort?.For(kind.Kind.Type);
                Func<JsonObject, bool> matches = filter is null
                    ? _ => true
                    : across ? r => FilterEvaluator.MatchesAcross(filter, r, kind.Kind.Type) : r => FilterEvaluator.Matches(filter, r, kind.Kind.Type);
                sources.Add(new Source(sources.Count, kind, new Query(kind.Kind, tenantId, kind.ScanFetch ?? (id => kind.Kind.Grain(grains, tenantId, id).GetAsync()), PlainGet: kind.ScanFetch is null), matches, keys));
            }
        }

        // Phase 1: one (key, id) pair per match. Resources are read in batches and dropped after their key is taken.
        var entries = new List<Entry>();
        foreach (var source in sources)
        {
            await CollectAsync(source, filter, sort is not null, entries);
        }

        // Phase 2: order them (by key, then id; unsorted: by id) and read the page.
        var target = sources.Select(s => s.Keys?.Target).FirstOrDefault(t => t is not null);
        entries.Sort((a, b) =>
        {
            var order = sort is not null && target is not null
                ? sort.Compare(a.Key, a.Id, b.Key, b.Id, target)
                : string.CompareOrdinal(a.Id, b.Id);
            return order != 0 ? order : a.Source.CompareTo(b.Source);
        });
        var pageEntries = entries.Skip(startIndex - 1).Take(count).ToList();
        var resources = new StoredResource?[pageEntries.Count];
        foreach (var group in pageEntries.Select((e, i) => (Entry: e, Index: i)).GroupBy(x => x.Entry.Source))
        {
            var source = sources[group.Key];
            var pageQuery = source.Kind.PageFetch is { } pageFetch ? source.Query with { Fetch = pageFetch, PlainGet = false } : source.Query;
            var fetched = await FetchAsync(pageQuery, group.Select(x => x.Entry.Id), reconcileMissing: true);
            var i = 0;
            foreach (var (_, index) in group)
            {
                // A resource deleted, or changed so that it no longer matches, since phase 1 is left out of the page.
                resources[index] = fetched[i++] is { } r && source.Matches(r.Json) ? r : null;
            }
        }

        var result = new List<(ResourceKind, StoredResource)>();
        for (var i = 0; i < pageEntries.Count; i++)
        {
            if (resources[i] is { } resource)
            {
                result.Add((sources[pageEntries[i].Source].Kind.Kind, resource));
            }
        }

        // Entries of the page that turned out gone (or no longer matching) are not counted either.
        return (entries.Count - (pageEntries.Count - result.Count), result);
    }

    private async Task CollectAsync(Source source, FilterNode? filter, bool sorted, List<Entry> entries)
    {
        if (filter is not null && source.Kind.Kind.Plan(filter) is { } probe)
        {
            foreach (var match in await FromIndexAsync(source.Query, probe, source.Matches))
            {
                entries.Add(new Entry(source.Keys?.KeyOf(match.Json), IdOf(match.Json), source.Index));
            }

            return;
        }

        var ids = await ListIdsAsync(source.Kind.Kind, source.Query.TenantId);
        if (filter is null && !sorted)
        {
            // Every listed id, unread: the page read drops ghosts (listed, but deleted).
            entries.AddRange(ids.Select(id => new Entry(null, id, source.Index)));
            return;
        }

        foreach (var batch in ids.Chunk(FetchBatch))
        {
            var resources = await FetchAsync(source.Query, batch, reconcileMissing: true);
            for (var i = 0; i < batch.Length; i++)
            {
                // The id string of the directory list, already in memory, not a copy from the resource.
                if (resources[i] is { } resource && source.Matches(resource.Json))
                {
                    entries.Add(new Entry(source.Keys?.KeyOf(resource.Json), batch[i], source.Index));
                }
            }
        }
    }

    /// <summary>The number of resources of a kind in a tenant.</summary>
    public async Task<int> CountAsync(ResourceKind kind, string tenantId)
    {
        var counts = await Task.WhenAll(Enumerable.Range(0, GrainKeys.DirectoryPartitions)
            .Select(p => kind.Directory(grains, tenantId, p).CountAsync()));
        return counts.Sum();
    }

    private async Task<List<StoredResource>> FromIndexAsync(Query query, IndexProbe probe, Func<JsonObject, bool> matches)
    {
        var tenantId = query.TenantId;
        string[] candidates;
        StoredResource?[] users;
        string? hash = null;
        if (probe.IndexName is null)
        {
            candidates = GrainKeys.IsValidId(probe.Value) ? [probe.Value] : [];
            users = await FetchAsync(query, candidates, reconcileMissing: true);
        }
        else
        {
            hash = IndexNames.Hash(probe.Value);
            var entry = grains.Grain<IIndexEntryGrain>(GrainKeys.IndexEntry(tenantId, probe.IndexName, hash));
            if (query.PlainGet)
            {
                // One call: the entry reads its holders (the same GetAsync, at the same moment as a second call would).
                var hits = await entry.FindAsync();
                candidates = [.. hits.Select(h => h.Id)];
                users = [.. hits.Select(h => ParseOrNull(h.Resource, plain: true))];
            }
            else
            {
                candidates = await entry.LookupAsync();
                users = await FetchAsync(query, candidates, reconcileMissing: false);
            }
        }

        var found = new List<StoredResource>();
        var anyHolds = false;
        for (var i = 0; i < candidates.Length; i++)
        {
            var user = users[i];
            if (probe.IndexName is not null && !HoldsValue(query.Kind, user?.Json, probe))
            {
                // The entry points at a resource that no longer holds the value: a crash between two writes.
                if (await RepairAsync(query.Kind, tenantId, candidates[i], probe.IndexName, hash))
                {
                    instruments?.IndexLookup(probe.IndexName, ScimInstruments.LookupResults.StaleRepaired);
                }

                continue;
            }

            anyHolds |= user is not null;
            if (user is { } stored && matches(stored.Json))
            {
                found.Add(stored);
            }
        }

        if (probe.IndexName is not null)
        {
            instruments?.IndexLookup(probe.IndexName, anyHolds ? ScimInstruments.LookupResults.Hit : ScimInstruments.LookupResults.Miss);
        }

        found.Sort((a, b) => string.CompareOrdinal(IdOf(a.Json), IdOf(b.Json)));
        return found;
    }

    // A repair met on the way is best effort: the answer is already known without the stale entry, and the next lookup that
    // meets the entry repairs it again, so a failing repair (storage refusing writes) never turns a correct answer into 5xx.
    private async Task<bool> RepairAsync(ResourceKind kind, string tenantId, string id, string? indexName, string? valueHash)
    {
        try
        {
            await kind.Grain(grains, tenantId, id).ReconcileAsync(indexName, valueHash);
            return true;
        }
        catch (Exception e)
        {
            if (logger is not null)
            {
                GatewayLog.RepairFailed(logger, e, tenantId, kind.Type.Name, id);
            }

            return false;
        }
    }

    private static bool HoldsValue(ResourceKind kind, JsonObject? resource, IndexProbe probe)
    {
        var normalized = IndexNames.Normalize(probe.Value);
        return resource is not null && kind.ValuesIn(resource, probe.IndexName!).Any(v => IndexNames.Normalize(v) == normalized);
    }

    private async Task<List<string>> ListIdsAsync(ResourceKind kind, string tenantId)
    {
        var partitions = await Task.WhenAll(Enumerable.Range(0, GrainKeys.DirectoryPartitions)
            .Select(p => kind.Directory(grains, tenantId, p).ListAsync()));
        var ids = partitions.SelectMany(p => p).ToList();
        ids.Sort(StringComparer.Ordinal);
        return ids;
    }

    private async Task<StoredResource?[]> FetchAsync(Query query, IEnumerable<string> ids, bool reconcileMissing)
    {
        var idList = ids.ToArray();
        var results = await Task.WhenAll(idList.Select(query.Fetch));
        var users = new StoredResource?[idList.Length];
        for (var i = 0; i < idList.Length; i++)
        {
            users[i] = ParseOrNull(results[i], query.PlainGet);
            if (users[i] is null && reconcileMissing)
            {
                // Listed but gone: a delete that crashed before it left the directory.
                await RepairAsync(query.Kind, query.TenantId, idList[i], null, null);
            }
        }

        return users;
    }

    private static string IdOf(JsonObject user) => user["id"]?.GetValue<string>() ?? "";

    private static StoredResource? ParseOrNull(ScimResult result, bool plain) =>
        result.Resource is { } json ? new StoredResource(JsonNode.Parse(json)!.AsObject(), plain ? json : null) : null;

    // PlainGet: Fetch is the grain's own GetAsync, which an index entry can call for the caller (IIndexEntryGrain.FindAsync).
    private sealed record Query(ResourceKind Kind, string TenantId, Func<string, Task<ScimResult>> Fetch, bool PlainGet);

    private sealed record Source(int Index, KindQuery Kind, Query Query, Func<JsonObject, bool> Matches, SortKeys? Keys);

    // What a sorted or multi-kind query keeps per match: the sort key (null: none, or unsorted), the id, the source.
    private readonly record struct Entry(string? Key, string Id, int Source);
}

/// <summary>
/// A resource a query found: parsed (<paramref name="Json"/>, what filters, sorting and rendering look at) and, when it
/// was read by the grain's own <c>GetAsync</c>, that answer's text (<paramref name="Text"/>, which a list without
/// <c>attributes</c> or <c>excludedAttributes</c> sends on as a plain GET does; null when it was read another way).
/// </summary>
public readonly record struct StoredResource(JsonObject Json, string? Text);

/// <summary>
/// One kind's part of a query: how to read a resource while collecting matches (<paramref name="ScanFetch"/>, null: the
/// grain's <c>GetAsync</c>) and for the page (<paramref name="PageFetch"/>, null: as while collecting). Groups read fewer
/// members while collecting than the page may show.
/// </summary>
public sealed record KindQuery(ResourceKind Kind, Func<string, Task<ScimResult>>? ScanFetch = null, Func<string, Task<ScimResult>>? PageFetch = null);
