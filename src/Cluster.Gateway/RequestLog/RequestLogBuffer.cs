using System.Collections.Concurrent;
using Cluster.Abstractions;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.RequestLog;

/// <summary>
/// The gateway's bounded in-memory buffer of provisioning log entries: the only thing a SCIM request does for the log is
/// <see cref="Add"/>, which never blocks and never waits — a lock-free queue and one interlocked counter. When
/// <c>Portal:RequestLogBufferSize</c> entries are waiting, a new entry is dropped and counted (the metric, and per tenant
/// for its log's status). <see cref="RequestLogWriter"/> drains it.
/// </summary>
public sealed class RequestLogBuffer(IOptions<RequestLogOptions> options)
{
    // Tenants whose drops are counted for their logs at once; past this, drops are counted by the metric only.
    private const int MaxTenantsWithDrops = 10_000;

    private readonly ConcurrentQueue<(string TenantId, RequestLogEntry Entry)> _queue = new();
    private readonly ConcurrentDictionary<string, long> _droppedByTenant = new(StringComparer.Ordinal);
    private readonly int _capacity = options.Value.RequestLogBufferSize;
    private int _count;

    /// <summary>Raised with the number of entries dropped because the buffer was full.</summary>
    public event Action<int>? Dropped;

    /// <summary>Entries waiting.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Keeps an entry of <paramref name="tenantId"/> until the next flush, or drops it when the buffer is full.</summary>
    public bool Add(string tenantId, RequestLogEntry entry)
    {
        if (Interlocked.Increment(ref _count) > _capacity)
        {
            Interlocked.Decrement(ref _count);
            CountDropped(tenantId, 1);
            Dropped?.Invoke(1);
            return false;
        }

        _queue.Enqueue((tenantId, entry));
        return true;
    }

    /// <summary>
    /// Counts <paramref name="count"/> entries of <paramref name="tenantId"/> as lost, for its log's status with the next
    /// drain: entries the full buffer refused, and a failed flush's entries and the drop count it carried.
    /// </summary>
    public void CountDropped(string tenantId, long count)
    {
        if (count > 0 && (_droppedByTenant.Count < MaxTenantsWithDrops || _droppedByTenant.ContainsKey(tenantId)))
        {
            _droppedByTenant.AddOrUpdate(tenantId, count, (_, n) => n + count);
        }
    }

    /// <summary>Takes everything waiting, by tenant, with each tenant's count of entries dropped since the last drain.</summary>
    public List<TenantEntries> Drain()
    {
        var byTenant = new Dictionary<string, TenantEntries>(StringComparer.Ordinal);
        for (var left = Count; left > 0 && _queue.TryDequeue(out var item); left--)
        {
            Interlocked.Decrement(ref _count);
            if (!byTenant.TryGetValue(item.TenantId, out var batch))
            {
                byTenant[item.TenantId] = batch = new TenantEntries(item.TenantId);
            }

            batch.Entries.Add(item.Entry);
        }

        foreach (var tenantId in _droppedByTenant.Keys)
        {
            if (_droppedByTenant.TryRemove(tenantId, out var dropped))
            {
                if (!byTenant.TryGetValue(tenantId, out var batch))
                {
                    byTenant[tenantId] = batch = new TenantEntries(tenantId);
                }

                batch.Dropped += dropped;
            }
        }

        return [.. byTenant.Values];
    }
}

/// <summary>One tenant's share of a drained buffer.</summary>
public sealed class TenantEntries(string tenantId)
{
    public string TenantId { get; } = tenantId;

    public List<RequestLogEntry> Entries { get; } = [];

    /// <summary>Entries of this tenant dropped since the last drain.</summary>
    public long Dropped { get; set; }
}
