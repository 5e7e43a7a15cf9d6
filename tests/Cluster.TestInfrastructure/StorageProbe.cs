using System.Collections.Concurrent;
using Cluster.Grains;
using Cluster.Grains.State;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.Hosting;
using Orleans.Storage;

namespace Cluster.TestInfrastructure;

/// <summary>
/// Test-only view into grain storage: counts the reads and writes of each grain (by primary key) and makes chosen writes fail,
/// the way a storage outage or a process dying mid-operation would. Grain code knows nothing of it.
/// </summary>
public static class StorageProbe
{
    private static readonly ConcurrentDictionary<string, int> Reads = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, int> Writes = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, int> Failures = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<(string Key, string State), object?> Written = new();

    /// <summary>
    /// Routes a silo's grain storage (memory storage, <c>Storage:Provider=Memory</c>) through the probe. Call after the
    /// silo's own registrations: the last registration of the storage name wins.
    /// </summary>
    public static void Install(IServiceCollection siloServices) =>
        siloServices.AddGrainStorage(StorageNames.Default, (sp, name) => new ProbedGrainStorage(MemoryGrainStorageFactory.Create(sp, name)));

    /// <summary>State reads of the grain with this primary key so far (one per activation).</summary>
    public static int ReadsOf(string key) => Reads.TryGetValue(key, out var n) ? n : 0;

    /// <summary>Writes (and clears) of the grain with this primary key so far.</summary>
    public static int WritesOf(string key) => Writes.TryGetValue(key, out var n) ? n : 0;

    /// <summary>The state last written for the grain with this primary key under <paramref name="stateName"/> (null if none): what storage holds.</summary>
    public static object? LastWrittenState(string key, string stateName) => Written.TryGetValue((key, stateName), out var state) ? state : null;

    /// <summary>The next <paramref name="times"/> writes of the grain with this primary key throw.</summary>
    public static void FailNextWrites(string key, int times = 1) => Failures[key] = times;

    internal static void Remember(string key, string stateName, object? state) => Written[(key, stateName)] = state;

    internal static void OnRead(string key) => Reads.AddOrUpdate(key, 1, (_, n) => n + 1);

    internal static void OnWrite(string key)
    {
        Writes.AddOrUpdate(key, 1, (_, n) => n + 1);
        if (Failures.TryGetValue(key, out var left) && left > 0 && Failures.TryUpdate(key, left - 1, left))
        {
            throw new IOException($"Injected storage failure for {key}.");
        }
    }
}

/// <summary>Grain storage that reports every read and write to <see cref="StorageProbe"/> before passing it on.</summary>
internal sealed class ProbedGrainStorage(IGrainStorage inner) : IGrainStorage
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        StorageProbe.OnRead(grainId.Key.ToString()!);
        return inner.ReadStateAsync(stateName, grainId, grainState);
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        StorageProbe.OnWrite(grainId.Key.ToString()!);
        StorageProbe.Remember(grainId.Key.ToString()!, StorageRowNames.StateNameOf(stateName), grainState.State);
        return inner.WriteStateAsync(stateName, grainId, grainState);
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        StorageProbe.OnWrite(grainId.Key.ToString()!);
        return inner.ClearStateAsync(stateName, grainId, grainState);
    }
}
