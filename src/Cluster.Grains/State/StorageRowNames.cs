using System.Globalization;

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

    /// <summary>The state name a row name was built from (<paramref name="rowName"/> itself when it has no suffix).</summary>
    public static string StateNameOf(string rowName)
    {
        var cut = rowName.LastIndexOf(Separator);
        return cut < 0 ? rowName : rowName[..cut];
    }

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

/// <summary>Orleans' persistent-state factory, with each state stored under its <see cref="StorageRowNames"/> row name.</summary>
internal sealed class KeyedRowPersistentStateFactory : PersistentStateFactory
{
    protected override string GetFullStateName(IGrainContext context, IPersistentStateConfiguration cfg) =>
        StorageRowNames.For(base.GetFullStateName(context, cfg), context.GrainId);
}
