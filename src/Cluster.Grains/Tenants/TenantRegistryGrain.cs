using Cluster.Grains.State;

namespace Cluster.Grains.Tenants;

/// <summary>
/// The root of the tenant registry (docs/architecture.md, "Tenant lifecycle and offboarding"): the buckets' lower bounds, in
/// key order. Every change goes through this grain (one turn each: tenants are created, renamed and deleted rarely), so a
/// split — the new bucket written, then this row, then the old bucket trimmed — never interleaves with another change;
/// listings are read-only turns and see the last committed boundaries. An empty bucket (not the first) is dropped.
/// </summary>
/// <remarks>
/// Bounds (Azure Table entities are at most 1 MiB; Orleans stores up to 960 KB of serialized state): a key is at most 64
/// characters of canonical name and a 32-character id, so about 70 bytes of JSON for a plain name and at most about 470 for
/// one whose 64 characters all need a <c>\uXXXX</c> escape. A bucket splits above <see cref="MaxBucketKeys"/> keys (typically
/// ~70 KB, at worst ~470 KB); the root holds at most <see cref="MaxBuckets"/> boundaries (typically ~130 KB, at worst ~700
/// KB). Splits leave buckets at least half full, so the registry holds at least 1,500 × 500 = 750,000 tenants within these
/// bounds; beyond, buckets are no longer split and grow past their size (a warning is logged; a third level is the next step).
/// </remarks>
public sealed partial class TenantRegistryGrain(
    [PersistentState("registry", StorageNames.Default)] IPersistentState<TenantRegistryState> state,
    ILogger<TenantRegistryGrain> logger) : Grain, ITenantRegistryGrain
{
    /// <summary>A bucket holding more keys than this is split in two.</summary>
    public const int MaxBucketKeys = 1000;

    /// <summary>Most buckets: the root's row stays bounded.</summary>
    public const int MaxBuckets = 1500;

    /// <summary>Most keys one listing returns.</summary>
    public const int MaxListLimit = 1000;

    private readonly CommittedState<TenantRegistryState> _state = new(state);

    // The first bucket (0, no lower bound) exists before anything is written.
    private List<RegistryBucketRecord> Buckets => _state.Value.Buckets.Count > 0 ? _state.Value.Buckets : [new RegistryBucketRecord { Id = 0 }];

    public async Task AddAsync(TenantListingKey key)
    {
        var buckets = Buckets;
        var i = IndexOf(buckets, key);
        var (lower, upper) = Bounds(buckets, i);
        var count = await Bucket(buckets[i].Id).AddAsync(key, lower, upper);
        if (count <= MaxBucketKeys)
        {
            return;
        }

        if (buckets.Count >= MaxBuckets)
        {
            LogFull(logger, this.GetPrimaryKeyString(), count);
            return;
        }

        await SplitAsync(buckets, i);
    }

    public async Task RemoveAsync(TenantListingKey key)
    {
        var buckets = Buckets;
        var i = IndexOf(buckets, key);
        var (lower, upper) = Bounds(buckets, i);
        var bucket = Bucket(buckets[i].Id);
        if (await bucket.RemoveAsync(key, lower, upper) == 0 && i > 0)
        {
            // Its range joins the previous bucket's. Cleared first: a crash in between leaves an empty bucket in the root, as before.
            await bucket.ClearAsync();
            await _state.CommitAsync(new TenantRegistryState { Buckets = [.. buckets.Where((_, j) => j != i)], NextBucket = NextBucket }, this);
        }
    }

    public async Task<TenantListingPage> ListAsync(TenantListingKey? after, string? prefix, int limit)
    {
        limit = Math.Clamp(limit, 1, MaxListLimit);
        prefix ??= "";
        var first = new TenantListingKey(prefix, "");
        var (start, exclusive) = after is { } cursor && cursor >= first ? (cursor, true) : (first, false);
        var buckets = Buckets;
        var keys = new List<TenantListingKey>(Math.Min(limit + 1, 256));
        for (var i = IndexOf(buckets, start); i < buckets.Count && keys.Count <= limit; i++)
        {
            var (lower, upper) = Bounds(buckets, i);
            if (lower is { } from && !from.Name.StartsWith(prefix, StringComparison.Ordinal) && string.CompareOrdinal(from.Name, prefix) > 0)
            {
                break; // this bucket and every later one lie past the prefix's range
            }

            var read = await Bucket(buckets[i].Id).ReadAsync(lower, upper, start, exclusive, prefix, limit + 1 - keys.Count);
            keys.AddRange(read.Keys);
            if (read.End)
            {
                break;
            }
        }

        return new TenantListingPage([.. keys.Take(limit)], keys.Count > limit);
    }

    /// <summary>Moves the upper half of bucket <paramref name="i"/> to a new bucket: written first, then the root, then the old bucket trimmed.</summary>
    private async Task SplitAsync(List<RegistryBucketRecord> buckets, int i)
    {
        var (lower, upper) = Bounds(buckets, i);
        var old = Bucket(buckets[i].Id);
        var keys = (await old.ReadAsync(lower, upper, null, false, "", int.MaxValue)).Keys;
        if (keys.Length <= MaxBucketKeys)
        {
            return;
        }

        var middle = keys[keys.Length / 2];
        var id = NextBucket;
        await Bucket(id).WriteAsync(keys[(keys.Length / 2)..]);
        List<RegistryBucketRecord> split = [.. buckets];
        split.Insert(i + 1, new RegistryBucketRecord { Id = id, FromName = middle.Name, FromTenant = middle.TenantId });
        await _state.CommitAsync(new TenantRegistryState { Buckets = split, NextBucket = id + 1 }, this);
        await old.TrimAsync(lower, middle);
        LogSplit(logger, this.GetPrimaryKeyString(), buckets[i].Id, id, split.Count);
    }

    private int NextBucket => Math.Max(_state.Value.NextBucket, 1);

    private ITenantRegistryBucketGrain Bucket(int id) =>
        GrainFactory.Grain<ITenantRegistryBucketGrain>(GrainKeys.TenantRegistryBucket(this.GetPrimaryKeyString(), id));

    private static TenantListingKey? LowerOf(RegistryBucketRecord bucket) =>
        bucket.FromName is null ? null : new TenantListingKey(bucket.FromName, bucket.FromTenant ?? "");

    private static (TenantListingKey? Lower, TenantListingKey? Upper) Bounds(List<RegistryBucketRecord> buckets, int i) =>
        (LowerOf(buckets[i]), i + 1 < buckets.Count ? LowerOf(buckets[i + 1]) : null);

    // The last bucket whose lower bound is at or before the key (binary search; the first bucket has none).
    private static int IndexOf(List<RegistryBucketRecord> buckets, TenantListingKey key)
    {
        var (low, high) = (0, buckets.Count - 1);
        while (low < high)
        {
            var middle = (low + high + 1) / 2;
            if (LowerOf(buckets[middle]) is { } from && from <= key)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        return low;
    }

    [LoggerMessage(1401, LogLevel.Information, "Tenant registry {Registry}: bucket {Bucket} split; its upper half is bucket {NewBucket} ({Buckets} buckets).")]
    private static partial void LogSplit(ILogger logger, string registry, int bucket, int newBucket, int buckets);

    [LoggerMessage(1402, LogLevel.Warning, "Tenant registry {Registry} has its most buckets; a bucket now holds {Keys} keys and grows past its size.")]
    private static partial void LogFull(ILogger logger, string registry, int keys);
}

/// <summary>One bucket of the tenant registry: a sorted run of keys (see <see cref="TenantRegistryGrain"/>).</summary>
public sealed class TenantRegistryBucketGrain(
    [PersistentState("bucket", StorageNames.Default)] IPersistentState<TenantRegistryBucketState> state) : Grain, ITenantRegistryBucketGrain
{
    private readonly CommittedState<TenantRegistryBucketState> _state = new(state);
    private List<TenantListingKey>? _keys;

    // The committed keys, in order (kept in memory: every call reads them).
    private List<TenantListingKey> Keys => _keys ??= [.. _state.Value.Entries.Select(e => new TenantListingKey(e.Name, e.TenantId))];

    public async Task<int> AddAsync(TenantListingKey key, TenantListingKey? lower, TenantListingKey? upper)
    {
        var keys = Within(lower, upper);
        var at = keys.BinarySearch(key);
        if (at < 0 && InRange(key, lower, upper))
        {
            keys.Insert(~at, key);
        }

        return await CommitIfChangedAsync(keys);
    }

    public async Task<int> RemoveAsync(TenantListingKey key, TenantListingKey? lower, TenantListingKey? upper)
    {
        var keys = Within(lower, upper);
        var at = keys.BinarySearch(key);
        if (at >= 0)
        {
            keys.RemoveAt(at);
        }

        return await CommitIfChangedAsync(keys);
    }

    public Task<TenantRegistryRead> ReadAsync(TenantListingKey? lower, TenantListingKey? upper, TenantListingKey? start, bool exclusive, string prefix, int limit)
    {
        var keys = Keys;
        var from = 0;
        if (start is { } s)
        {
            from = keys.BinarySearch(s);
            from = from >= 0 ? (exclusive ? from + 1 : from) : ~from;
        }

        var found = new List<TenantListingKey>(Math.Min(Math.Max(limit, 0), 256));
        for (var i = from; i < keys.Count && found.Count < limit; i++)
        {
            var key = keys[i];
            if (!InRange(key, lower, upper))
            {
                continue; // left by a split that crashed before trimming; the other bucket holds it
            }

            if (!key.Name.StartsWith(prefix, StringComparison.Ordinal))
            {
                // Keys from the start on are at or after the prefix, so the first that does not match is past its range.
                return Task.FromResult(new TenantRegistryRead([.. found], End: true));
            }

            found.Add(key);
        }

        return Task.FromResult(new TenantRegistryRead([.. found], End: false));
    }

    public async Task WriteAsync(TenantListingKey[] keys) => await CommitAsync([.. keys.Order()]);

    public async Task TrimAsync(TenantListingKey? lower, TenantListingKey? upper) => await CommitIfChangedAsync(Within(lower, upper));

    public async Task ClearAsync()
    {
        if (_state.Exists)
        {
            await _state.CommitAsync(new TenantRegistryBucketState(), this, clear: true);
        }

        _keys = null;
        DeactivateOnIdle();
    }

    private static bool InRange(TenantListingKey key, TenantListingKey? lower, TenantListingKey? upper) =>
        (lower is not { } l || key >= l) && (upper is not { } u || key < u);

    private List<TenantListingKey> Within(TenantListingKey? lower, TenantListingKey? upper) =>
        [.. Keys.Where(k => InRange(k, lower, upper))];

    private async Task<int> CommitIfChangedAsync(List<TenantListingKey> keys)
    {
        if (!keys.SequenceEqual(Keys))
        {
            await CommitAsync(keys);
        }

        return keys.Count;
    }

    private async Task CommitAsync(List<TenantListingKey> keys)
    {
        await _state.CommitAsync(new TenantRegistryBucketState { Entries = [.. keys.Select(k => new RegistryEntryRecord { Name = k.Name, TenantId = k.TenantId })] }, this);
        _keys = keys;
    }
}
