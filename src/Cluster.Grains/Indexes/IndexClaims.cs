using System.Text.Json.Nodes;
using Orleans.Configuration;

namespace Cluster.Grains.Indexes;

/// <summary>
/// One resource grain's index values and the claim → write → release protocol around them, shared by
/// <c>UserGrain</c> and <c>GroupGrain</c>. The grain calls <see cref="ClaimAsync"/> before its state write,
/// <see cref="Commit"/> after it, <see cref="ReleaseAsync"/> for values no longer held, and <see cref="AbandonAsync"/>
/// in a <c>finally</c> (it gives back claims of a change that never reached storage). A unique index entry that asks
/// about a value being claimed (<see cref="OwnsAsync"/>) gets its answer when the change settles — written, or given
/// back — so the value is never handed to someone else mid-claim, and a claim that fails (its process died, storage
/// refused the write) never turns another create away with a 409.
/// </summary>
internal sealed class IndexClaims(
    IGrainFactory grains, ResourceKind kind, string tenantId, string resourceId, ClaimSettling settling, Action<Exception> cleanupFailed)
{
    private readonly Dictionary<string, HashSet<string>> _claiming = new(StringComparer.Ordinal);

    // The unique values whose entry has accepted this resource's claim (only those are worth waiting for: a claim still
    // queued at its entry may be queued behind the very question being asked). Allocated by the first change that claims.
    private HashSet<(string Index, string Hash)>? _entered;

    // Completes when the claims in flight settle (the change is written or given up); null when nothing is being claimed.
    private TaskCompletionSource? _settled;

    // When questions about the claims in flight stop waiting: one deadline per change, however many claimants ask.
    private DateTimeOffset _settleBy;

    /// <summary>The value hashes held by the stored resource, per index.</summary>
    public Dictionary<string, string[]> Held { get; private set; } = new(StringComparer.Ordinal);

    /// <summary>Sets <see cref="Held"/> from a stored resource (on activation, or null after a delete).</summary>
    public void Load(JsonObject? resource) => Held = ResourceIndexing.HashesOf(kind, resource);

    /// <summary>True when the resource holds, or is claiming, the value.</summary>
    public bool Owns(string indexName, string valueHash) =>
        IsClaiming(indexName, valueHash) || (Held.TryGetValue(indexName, out var held) && held.Contains(valueHash));

    /// <summary>
    /// For a unique index entry deciding between this resource and another claimant: whether the resource holds the value.
    /// A claim of it in flight, once its entry has accepted it, is waited for (the grain call interleaves with the change),
    /// until <see cref="ClaimSettling.Wait"/> after the claim began — one deadline for every question about it — so the
    /// answer is what the change did: held if it was written, not held if it failed. A change still unsettled then, a
    /// claim not yet accepted by its entry, and a write of unknown outcome count as owning the value.
    /// </summary>
    public async Task<bool> OwnsAsync(string indexName, string valueHash)
    {
        var left = _settleBy - settling.Time.GetUtcNow();
        if (_settled is { } settled && _entered?.Contains((indexName, valueHash)) == true && left > TimeSpan.Zero)
        {
            try
            {
                await settled.Task.WaitAsync(left, settling.Time);
            }
            catch (TimeoutException)
            {
            }
        }

        return Owns(indexName, valueHash);
    }

    private bool IsClaiming(string indexName, string valueHash) =>
        _claiming.TryGetValue(indexName, out var claiming) && claiming.Contains(valueHash);

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

        if (added.Count > 0 && _settled is null)
        {
            _settled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _settleBy = settling.Time.GetUtcNow() + settling.Wait;
        }

        foreach (var (index, hashes) in added.Where(a => IndexNames.IsUnique(a.Key)))
        {
            foreach (var hash in hashes)
            {
                if (await Entry(index, hash).ClaimAsync(resourceId) is { } holder)
                {
                    return (index, holder);
                }

                (_entered ??= []).Add((index, hash));
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

        Settle();
    }

    /// <summary>Step 3: releases the values of <paramref name="from"/> not in <see cref="Held"/> (best effort; leftovers are repaired lazily).</summary>
    public Task ReleaseAsync(Dictionary<string, string[]> from) =>
        Task.WhenAll(ResourceIndexing.Difference(from, Held)
            .SelectMany(r => r.Value.Select(hash => BestEffortAsync(() => Entry(r.Key, hash).ReleaseAsync(resourceId)))));

    /// <summary>
    /// In a <c>finally</c> after <see cref="ClaimAsync"/>: if the change never reached storage, gives back what it claimed
    /// (and the directory entry of a resource that was never created). If its write failed (<paramref name="uncertain"/>:
    /// in any way, a refusal included, it may have landed: <c>CommittedState.Failed</c>), the claims stay and count as owned,
    /// nothing is given back: the activation is being replaced, and the next one answers from what storage holds (lookups
    /// repair what is left).
    /// </summary>
    public async Task AbandonAsync(bool created, bool exists, bool uncertain)
    {
        if (_claiming.Count == 0)
        {
            return;
        }

        if (uncertain)
        {
            Answer();
            return;
        }

        // Settled (an entry waiting in OwnsAsync learns the value is free) before the releases: an entry may be waiting on
        // this very answer, and so could not take the release call until it has it.
        var claimed = _claiming.ToDictionary(c => c.Key, c => c.Value.ToArray(), StringComparer.Ordinal);
        Settle();
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

    // The claims in flight are decided (written or given back): entries waiting in OwnsAsync get their answer.
    private void Settle()
    {
        _claiming.Clear();
        _entered?.Clear();
        Answer();
    }

    // Entries waiting in OwnsAsync answer from what is claimed and held now.
    private void Answer()
    {
        _settled?.TrySetResult();
        _settled = null;
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

/// <summary>
/// How long after a claim began questions about it wait for it to settle (<see cref="IndexClaims.OwnsAsync"/>): a third of the
/// silo's grain-call response timeout (<c>Cluster:ResponseTimeoutSeconds</c>), because three calls nest — the claimant's
/// request to its grain, the grain's claim at the entry, the entry's question to the holder — and the outermost must still
/// get its answer in time. The deadline is per claim, so claimants queued at one entry do not add their waits up. A claim
/// still unsettled after that counts as owning the value (409 for the other claimant). One per silo (registered by
/// <c>AddScimGrains</c>), shared by every user and group activation.
/// </summary>
public sealed record ClaimSettling(TimeSpan Wait, TimeProvider Time)
{
    public static ClaimSettling Of(SiloMessagingOptions messaging, TimeProvider time) => new(messaging.ResponseTimeout / 3, time);
}
