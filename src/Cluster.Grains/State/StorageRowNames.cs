using System.Globalization;
using System.Net;
using Orleans.Storage;

namespace Cluster.Grains.State;

/// <summary>
/// The one place that names a grain state's storage row. Orleans' Azure Table storage keys a row by
/// PartitionKey = service id, grain type and key, and RowKey = the state's name. With a plain name ("user",
/// "index", ...) every user grain's row carries the same RowKey; real Azure Table Storage does not mind, but
/// Azurite (the local and test store) finds an entity through its RowKey index first and then scans every
/// entity sharing that RowKey, so each read and write cost time in proportion to the number of grains of that
/// kind: seeding a tenant slowed from ~65 to ~3 users/s by 13,000 users. Appending a stable hash of the grain
/// key makes each RowKey (all but) unique, which turns that scan into an index hit and leaves Azure unaffected.
/// </summary>
public static class StorageRowNames
{
    private const char Separator = '-';

    /// <summary>The row name of state <paramref name="stateName"/> of grain <paramref name="grainId"/>: <c>{stateName}-{16 hex}</c>.</summary>
    public static string For(string stateName, GrainId grainId) =>
        string.Create(CultureInfo.InvariantCulture, $"{stateName}{Separator}{KeyHash(grainId.Key.AsSpan()):x16}");

    /// <summary>
    /// 64-bit FNV-1a of the key's bytes. Stored in every row name, so it must never change and must not depend on
    /// the process (string.GetHashCode is randomized) or on Orleans (its grain hash places activations, not rows).
    /// </summary>
    private static ulong KeyHash(ReadOnlySpan<byte> key)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in key)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }
}

/// <summary>
/// Grain storage that stores each state under its <see cref="StorageRowNames"/> row name. The row name is made here, below
/// Orleans' state bridge, not given to the bridge as the state's name: the bridge keeps one shared entry per state name for
/// the silo's lifetime and labels its storage metrics and spans with it, so a name per grain made both grow with every
/// grain ever activated. It takes part in the silo's lifecycle for the storage it wraps (Azure Table storage opens its
/// table there), once however often it is asked.
/// </summary>
public sealed class KeyedRowGrainStorage(IGrainStorage inner) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>, IRestExceptionDecoder
{
    private int _participating;

    public void Participate(ISiloLifecycle lifecycle)
    {
        if (inner is ILifecycleParticipant<ISiloLifecycle> participant && Interlocked.Exchange(ref _participating, 1) == 0)
        {
            participant.Participate(lifecycle);
        }
    }

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ReadStateAsync(StorageRowNames.For(stateName, grainId), grainId, grainState);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.WriteStateAsync(StorageRowNames.For(stateName, grainId), grainId, grainState);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ClearStateAsync(StorageRowNames.For(stateName, grainId), grainId, grainState);

    // Orleans' bridge asks the storage to decode a failure for its error lines (the REST status of an Azure Table error).
    public bool DecodeException(Exception exception, out HttpStatusCode httpStatusCode, out string restStatus, bool getExtendedErrors = false)
    {
        if (inner is IRestExceptionDecoder decoder)
        {
            return decoder.DecodeException(exception, out httpStatusCode, out restStatus, getExtendedErrors);
        }

        httpStatusCode = default;
        restStatus = "";
        return false;
    }
}
