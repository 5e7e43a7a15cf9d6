using System.Collections.Concurrent;

namespace Cluster.ServiceDefaults.Telemetry;

/// <summary>
/// Keys (tenant ids) with the time each was last touched, forgotten once untouched for <paramref name="keepFor"/>. Pruned
/// by the writers, at most once per <paramref name="keepFor"/>, so memory follows the keys touched lately whether or not
/// anything reads them, and a prune costs one pass over what is held however many keys are touched.
/// </summary>
/// <param name="time">The clock (tests drive it with a fake one).</param>
/// <param name="keepFor">How long a key is kept after its last touch.</param>
public sealed class RecentKeys(TimeProvider time, TimeSpan keepFor)
{
    private readonly ConcurrentDictionary<string, long> _touched = new(StringComparer.Ordinal);
    private long _prunedAt = time.GetTimestamp();

    /// <summary>Keys held now (touched within about twice <c>keepFor</c>).</summary>
    public int Count => _touched.Count;

    /// <summary>
    /// Touches <paramref name="key"/> now unless it was touched less than <paramref name="every"/> ago. True when this call
    /// touched it: of concurrent callers, only the one that moved its time on.
    /// </summary>
    public bool TryTouch(string key, TimeSpan every)
    {
        var now = time.GetTimestamp();
        if (_touched.TryGetValue(key, out var last))
        {
            if (time.GetElapsedTime(last, now) < every || !_touched.TryUpdate(key, now, last))
            {
                return false;
            }
        }
        else if (!_touched.TryAdd(key, now))
        {
            return false;
        }

        PruneIfDue(now);
        return true;
    }

    /// <summary>The keys touched within <paramref name="window"/> (at most <c>keepFor</c>).</summary>
    public int CountTouchedWithin(TimeSpan window)
    {
        var now = time.GetTimestamp();
        return _touched.Count(t => time.GetElapsedTime(t.Value, now) <= window);
    }

    private void PruneIfDue(long now)
    {
        var prunedAt = Interlocked.Read(ref _prunedAt);
        if (time.GetElapsedTime(prunedAt, now) < keepFor || Interlocked.CompareExchange(ref _prunedAt, now, prunedAt) != prunedAt)
        {
            return;
        }

        foreach (var (key, at) in _touched)
        {
            if (time.GetElapsedTime(at, now) >= keepFor)
            {
                _touched.TryRemove(new KeyValuePair<string, long>(key, at));
            }
        }
    }
}
