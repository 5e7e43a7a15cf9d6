using Microsoft.Extensions.DependencyInjection;
using Orleans.Core;
using Orleans.Storage;

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
/// <para>
/// A <em>deferred</em> state (<see cref="DeferredState"/>) is not read when its grain activates: the grain calls
/// <see cref="LoadAsync"/> before it first looks at it, or <see cref="AssumeAbsent"/> when its caller has just made the
/// grain's id up (a create's first attempt: nothing can be stored under a new random id), which saves the read of an
/// empty row. A state assumed absent writes with no ETag, which storage executes as an insert: were a row there after
/// all, the write fails (Azure Table 409, memory storage an ETag mismatch) like any failed write, and overwrites nothing.
/// </para>
/// </remarks>
/// <param name="storage">The activation's storage bridge of this state.</param>
/// <param name="deferred">Whether Orleans does not read it on activation (<see cref="DeferredState"/>).</param>
/// <param name="fresh">Makes another bridge to the same row, for <see cref="ReadStoredAsync"/>.</param>
internal sealed class CommittedState<T>(IStorage<T> storage, bool deferred = false, Func<IStorage<T>>? fresh = null) : IDeferredState
    where T : class, new()
{
    // Until the first write, storage.State is what activation (or LoadAsync) loaded: committed by definition.
    private T? _value;
    private bool _exists;
    private bool _published;
    private bool _loaded;

    /// <summary>The committed state (the type's empty value when there is no record).</summary>
    public T Value => _published ? _value! : storage.State;

    /// <summary>
    /// True when storage holds a record for this state. A resource's fence row (<see cref="StoredRow{T}"/>: a record at
    /// version 0, which only names an attempt of a commit that never landed) is no record.
    /// </summary>
    public bool Exists => _published ? _exists : storage.RecordExists && !StoredRow<T>.IsFence(storage.State);

    /// <summary>
    /// True after a write of this activation failed in any way (the failure deactivates it). Such a write may still have
    /// reached storage — even one storage refused (<see cref="InconsistentStateException"/>: an ETag mismatch, an insert that
    /// found a row): the storage client retries a write whose answer was lost, and the retry meets the write itself; or
    /// another activation of the grain (a silo declared dead while still running) wrote the same change. So until this
    /// activation is replaced nobody may act as if it had not landed (give back its claims, discard its events), and work the
    /// grain would start on its own, such as a write on deactivation, must not run any more.
    /// </summary>
    public bool Failed { get; private set; }

    /// <summary>True when <see cref="Value"/> may be read: always for a state Orleans loads on activation.</summary>
    public bool Loaded => !deferred || _published || _loaded;

    /// <summary>Reads a deferred state unless it is loaded. The grain makes sure only one read runs at a time.</summary>
    public async Task LoadAsync()
    {
        if (!Loaded)
        {
            await storage.ReadStateAsync();
            _loaded = true;
        }
    }

    /// <summary>
    /// The record as storage holds it now (null without one), read through a bridge of its own: this state is not touched, so
    /// the read may run beside its writes. For an answer no ETag checks: the activation may be an outdated one beside a newer
    /// one that has written since (a silo declared dead while still running). Only states made by <see cref="DeferredState"/>.
    /// </summary>
    public async Task<T?> ReadStoredAsync() => (await ReadRowAsync()).Record;

    /// <summary>
    /// The record as storage holds it now, as <see cref="ReadStoredAsync"/> reads it, with the means to write over it checked
    /// against that read (<see cref="StoredRow{T}.TryWriteAsync"/>).
    /// </summary>
    public async Task<StoredRow<T>> ReadRowAsync()
    {
        var row = (fresh ?? throw new InvalidOperationException("This state cannot be read afresh."))();
        await row.ReadStateAsync();
        return new StoredRow<T>(row);
    }

    /// <summary>
    /// Reads the record again, as storage holds it now, and serves that from here on: for an activation that has learnt it
    /// holds an outdated record (a newer activation beside it has written since). Never while a write is under way; the
    /// grain makes sure only one read runs at a time.
    /// </summary>
    public async Task ReloadAsync()
    {
        await storage.ReadStateAsync();
        (_published, _loaded) = (false, true);
    }

    /// <summary>
    /// Takes the state as absent without reading it: only for a grain whose id its caller has just made up, and never while
    /// a read is under way. Its first write is an insert.
    /// </summary>
    public void AssumeAbsent()
    {
        if (!Loaded)
        {
            (_value, _exists, _published) = (new T(), false, true);
        }
    }

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
            Failed = true;
            grain.DeactivateOnIdle();
            throw;
        }

        (_value, _exists) = (value, !clear);
    }
}

/// <summary>
/// A state's row as one read through a bridge of its own found it (<see cref="CommittedState{T}.ReadRowAsync"/>): its
/// record, and a write over it that storage accepts only if the row is still as read (its ETag; an insert when there was
/// none). Such a write <em>fences</em> the row: a write of any activation prepared on what was read — an outdated one beside
/// a newer one, whose write may still be on its way — is refused from then on.
/// </summary>
/// <remarks>
/// A resource that has no record is fenced by a <em>fence row</em>: its empty record at version 0, which every activation
/// takes as no record (<see cref="CommittedState{T}.Exists"/>) and its next write replaces; it stays otherwise, until the
/// tenant's storage is swept.
/// </remarks>
internal sealed class StoredRow<T>(IStorage<T> row)
    where T : class, new()
{
    /// <summary>The record (null without one; a fence row is no record).</summary>
    public T? Record => row.RecordExists && !IsFence(row.State) ? row.State : null;

    /// <summary>The attempt a fence row names (null when the row is not one).</summary>
    public EventAttempt? FencedAttempt => row.RecordExists && IsFence(row.State) ? ((IRecordsEvents)row.State).EventsAttempt : null;

    /// <summary>True for a resource's fence row: a record at version 0 (every resource's first write is version 1).</summary>
    public static bool IsFence(T value) => value is IRecordsEvents { Version: 0 };

    /// <summary>
    /// Writes <paramref name="value"/> if the row is still as read: false when storage refused it (another write came
    /// between; read again to know what it did).
    /// </summary>
    public async Task<bool> TryWriteAsync(T value)
    {
        row.State = value;
        try
        {
            await row.WriteStateAsync();
            return true;
        }
        catch (InconsistentStateException)
        {
            return false;
        }
    }
}

/// <summary>Checks of a resource's <see cref="CommittedState{T}"/> against storage.</summary>
internal static class ResourceStates
{
    /// <summary>
    /// For a write that would store nothing (a change already made, a resource not found), whose answer no ETag checks:
    /// confirms that the activation holds the version storage holds. Otherwise it is an outdated activation beside a newer one
    /// that has written since (a silo declared dead while still running): it is replaced, and the call fails as a refused
    /// write does (<see cref="InconsistentStateException"/>; the gateway runs it again, on a fresh activation). One read.
    /// </summary>
    public static async Task EnsureCurrentAsync<T>(this CommittedState<T> state, IGrainBase grain, string resource)
        where T : class, IRecordsEvents, new()
    {
        var stored = await state.ReadStoredAsync();
        if ((stored?.Version ?? 0) != (state.Exists ? state.Value.Version : 0))
        {
            grain.DeactivateOnIdle();
            throw new InconsistentStateException($"{resource}: this activation is behind storage and is replaced.");
        }
    }
}

/// <summary>
/// Creates the deferred states of <see cref="CommittedState{T}"/>: Orleans' own state bridge (so its storage metrics and
/// traces stay), under the same row name as a <c>[PersistentState]</c> of that name, but outside the activation lifecycle.
/// </summary>
internal static class DeferredState
{
    public static CommittedState<T> Of<T>(IGrainContext grain, string stateName)
        where T : class, new()
    {
        var storage = grain.ActivationServices.GetRequiredKeyedService<IGrainStorage>(StorageNames.Default);
        IStorage<T> Bridge() => new StateStorageBridge<T>(stateName, grain, storage);
        return new CommittedState<T>(Bridge(), deferred: true, fresh: Bridge);
    }
}

/// <summary>What <see cref="DeferredLoad"/> needs of a deferred <see cref="CommittedState{T}"/>.</summary>
internal interface IDeferredState
{
    bool Loaded { get; }

    Task LoadAsync();

    void AssumeAbsent();
}

/// <summary>
/// The deferred states of one grain, read together (in parallel) before its first call runs, from the grain's
/// <see cref="IIncomingGrainCallFilter"/> — except when that call is the grain's <paramref name="createNew"/> method (a
/// resource's <c>CreateNewAsync</c>: a create's first attempt under an id its caller has just made up; a member partition's
/// <c>AddToNewAsync</c>: its group knows it has no row), which takes them all as absent (docs/architecture.md, "Storage
/// operations per create"). Calls that arrive during the read (interleaving ones, or queued behind it) wait for the same
/// read; a read that fails fails its call, and the next call reads again. <paramref name="loaded"/> runs once, when the
/// states are known (read or assumed absent), before any call sees them.
/// </summary>
internal sealed class DeferredLoad(Action loaded, string createNew, params IDeferredState[] states)
{
    private Task? _loading;
    private bool _ready;

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (_ready)
        {
            return context.Invoke();
        }

        if (_loading is null && context.ImplementationMethod.Name == createNew)
        {
            foreach (var state in states)
            {
                state.AssumeAbsent();
            }

            Ready();
            return context.Invoke();
        }

        return LoadThenInvokeAsync(context);
    }

    /// <summary>Completes when the states are known (at once after the first call).</summary>
    public async Task EnsureLoadedAsync()
    {
        if (_ready)
        {
            return;
        }

        try
        {
            await (_loading ??= LoadAsync());
        }
        catch
        {
            _loading = null; // the next call reads again
            throw;
        }
    }

    private async Task LoadThenInvokeAsync(IIncomingGrainCallContext context)
    {
        await EnsureLoadedAsync();
        await context.Invoke();
    }

    private async Task LoadAsync()
    {
        await Task.WhenAll(states.Select(s => s.LoadAsync()));
        Ready();
    }

    private void Ready()
    {
        loaded();
        _ready = true;
    }
}
