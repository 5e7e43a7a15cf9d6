namespace Cluster.Grains.State;

/// <summary>
/// The one way grains read and change persisted state. Readers see only what storage has acknowledged: a value is
/// published to <see cref="Value"/> (and <see cref="Exists"/>) only after its write completes, so a call that interleaves
/// with a write in flight (an <c>[AlwaysInterleave]</c> or <c>[MayInterleave]</c> method) reads the previous value, never
/// one that may still be rolled back. Orleans' <see cref="IPersistentState{TState}"/> writes whatever its <c>State</c> holds,
/// so that property is the write buffer only; grains never read it directly.
/// </summary>
/// <typeparam name="T">The persisted state type.</typeparam>
/// <remarks>
/// If a write fails, the activation keeps the committed value, is deactivated so the next call reloads from storage (the
/// write may have reached storage after all: a timeout is not a rejection), and the exception propagates: nothing
/// unacknowledged is ever served.
/// </remarks>
internal sealed class CommittedState<T>(IPersistentState<T> storage)
    where T : class
{
    // Until the first write, storage.State is what activation loaded: committed by definition.
    private T? _value;
    private bool _exists;
    private bool _published;

    /// <summary>The committed state (the type's empty value when there is no record).</summary>
    public T Value => _published ? _value! : storage.State;

    /// <summary>True when storage holds a record for this state.</summary>
    public bool Exists => _published ? _exists : storage.RecordExists;

    /// <summary>
    /// Writes <paramref name="value"/> (or, when <paramref name="clear"/>, clears the record and takes
    /// <paramref name="value"/> as the empty value), then publishes it to readers.
    /// </summary>
    public async Task CommitAsync(T value, IGrainBase grain, bool clear = false)
    {
        var (committed, existed) = (Value, Exists);
        (_value, _exists, _published) = (committed, existed, true);
        storage.State = value;
        try
        {
            if (clear)
            {
                await storage.ClearStateAsync();
            }
            else
            {
                await storage.WriteStateAsync();
            }
        }
        catch
        {
            storage.State = committed;
            grain.DeactivateOnIdle();
            throw;
        }

        (_value, _exists) = (value, !clear);
    }
}
