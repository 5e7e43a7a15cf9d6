using System.Text.Json.Nodes;

namespace Cluster.Grains.Indexes;

/// <summary>
/// One resource grain's index values and the claim → write → release protocol around them, shared by
/// <c>UserGrain</c> and <c>GroupGrain</c>. The grain calls <see cref="ClaimAsync"/> before its state write,
/// <see cref="Commit"/> after it, <see cref="ReleaseAsync"/> for values no longer held, and <see cref="AbandonAsync"/>
/// in a <c>finally</c> (it gives back claims of a change that never reached storage). Values being claimed count as
/// owned (<see cref="Owns"/>), so a unique index entry asking during a claim never hands the value to someone else.
/// </summary>
internal sealed class IndexClaims(IGrainFactory grains, ResourceKind kind, string tenantId, string resourceId, Action<Exception> cleanupFailed)
{
    private readonly Dictionary<string, HashSet<string>> _claiming = new(StringComparer.Ordinal);

    /// <summary>The value hashes held by the stored resource, per index.</summary>
    public Dictionary<string, string[]> Held { get; private set; } = new(StringComparer.Ordinal);

    /// <summary>Sets <see cref="Held"/> from a stored resource (on activation, or null after a delete).</summary>
    public void Load(JsonObject? resource) => Held = ResourceIndexing.HashesOf(kind, resource);

    /// <summary>True when the resource holds, or is claiming, the value.</summary>
    public bool Owns(string indexName, string valueHash) =>
        (_claiming.TryGetValue(indexName, out var claiming) && claiming.Contains(valueHash))
        || (Held.TryGetValue(indexName, out var held) && held.Contains(valueHash));

    /// <summary>
    /// Step 1: claims the values of <paramref name="next"/> not held yet — unique ones first, so a conflict leaves
    /// nothing behind — then the others and, for a new resource, its directory entry, in parallel. Returns the
    /// conflicting (index, holder) of a lost unique claim, or null.
    /// </summary>
    public async Task<(string Index, string Holder)?> ClaimAsync(Dictionary<string, string[]> next, bool created)
    {
        var added = ResourceIndexing.Difference(next, Held);
        foreach (var (index, hashes) in added)
        {
            _claiming[index] = [.. hashes];
        }

        foreach (var (index, hashes) in added.Where(a => IndexNames.IsUnique(a.Key)))
        {
            foreach (var hash in hashes)
            {
                if (await Entry(index, hash).ClaimAsync(resourceId) is { } holder)
                {
                    return (index, holder);
                }
            }
        }

        var pending = added.Where(a => !IndexNames.IsUnique(a.Key))
            .SelectMany(a => a.Value.Select(hash => (Task)Entry(a.Key, hash).ClaimAsync(resourceId)))
            .ToList();
        if (created)
        {
            pending.Add(Directory().AddAsync(resourceId));
        }

        await Task.WhenAll(pending);
        return null;
    }

    /// <summary>Step 2 is done (the state is written): the claims are now held (<paramref name="next"/>, or unchanged when null).</summary>
    public void Commit(Dictionary<string, string[]>? next)
    {
        if (next is not null)
        {
            Held = next;
        }

        _claiming.Clear();
    }

    /// <summary>Step 3: releases the values of <paramref name="from"/> not in <see cref="Held"/> (best effort; leftovers are repaired lazily).</summary>
    public Task ReleaseAsync(Dictionary<string, string[]> from) =>
        Task.WhenAll(ResourceIndexing.Difference(from, Held)
            .SelectMany(r => r.Value.Select(hash => BestEffortAsync(() => Entry(r.Key, hash).ReleaseAsync(resourceId)))));

    /// <summary>
    /// In a <c>finally</c> after <see cref="ClaimAsync"/>: if the change never reached storage, gives back what it claimed
    /// (and the directory entry of a resource that was never created).
    /// </summary>
    public async Task AbandonAsync(bool created, bool exists)
    {
        if (_claiming.Count == 0)
        {
            return;
        }

        var claimed = _claiming.ToDictionary(c => c.Key, c => c.Value.ToArray(), StringComparer.Ordinal);
        _claiming.Clear();
        await ReleaseAsync(claimed);
        if (created && !exists)
        {
            await BestEffortAsync(() => Directory().RemoveAsync(resourceId));
        }
    }

    /// <summary>
    /// Repairs entries after a lookup found one that disagrees with the resource: releases the probed entry when it is
    /// not owned (returns true then), removes a resource that does not exist from the directory, and restores every
    /// entry of one that does (all idempotent).
    /// </summary>
    public async Task<bool> ReconcileAsync(bool exists, string? indexName, string? valueHash)
    {
        var released = false;
        if (indexName is not null && valueHash is not null && !Owns(indexName, valueHash))
        {
            await Entry(indexName, valueHash).ReleaseAsync(resourceId);
            released = true;
        }

        if (!exists)
        {
            await Directory().RemoveAsync(resourceId);
            return released;
        }

        foreach (var (index, hashes) in Held)
        {
            foreach (var hash in hashes)
            {
                await Entry(index, hash).ClaimAsync(resourceId);
            }
        }

        await Directory().AddAsync(resourceId);
        return released;
    }

    /// <summary>Removes the resource from its directory partition (best effort).</summary>
    public Task LeaveDirectoryAsync() => BestEffortAsync(() => Directory().RemoveAsync(resourceId));

    /// <summary>Runs a cleanup step; a failure is reported and left for lazy repair.</summary>
    public async Task BestEffortAsync(Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (Exception e)
        {
            cleanupFailed(e);
        }
    }

    private IIndexEntryGrain Entry(string index, string hash) =>
        grains.Grain<IIndexEntryGrain>(GrainKeys.IndexEntry(tenantId, index, hash));

    private IDirectoryGrain Directory() => kind.Directory(grains, tenantId, GrainKeys.DirectoryPartitionOf(resourceId));
}
