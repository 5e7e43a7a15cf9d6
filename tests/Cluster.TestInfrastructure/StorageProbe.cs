using System.Collections.Concurrent;
using Cluster.Abstractions;
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
    private static readonly ConcurrentDictionary<(string Key, string State), int> Reads = new();
    private static readonly ConcurrentDictionary<string, int> Writes = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, int> Failures = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<(string Key, string State), int> StateFailures = new();
    private static readonly ConcurrentDictionary<(string Key, string State), object?> Written = new();
    private static readonly ConcurrentDictionary<string, HeldWrite> Holds = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, HeldWrite> ReadHolds = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, int> LandedRefusals = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<(string Key, string State), int> Outages = new();
    private static readonly ConcurrentDictionary<string, int> ReadOutages = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, long> LargestOf = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, long> TenantWrites = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, long> AnswerWrites = new(StringComparer.Ordinal);

    private const long Unanswered = -1;

    private static long _totalReads;
    private static long _totalWrites;
    private static long _largestWrite;

    /// <summary>State reads of every grain so far.</summary>
    public static long TotalReads => Interlocked.Read(ref _totalReads);

    /// <summary>Writes (and clears) of every grain so far.</summary>
    public static long TotalWrites => Interlocked.Read(ref _totalWrites);

    /// <summary>Writes (and clears) so far of every grain whose key belongs to this tenant.</summary>
    public static long WritesOfTenant(string tenantId) => TenantWrites.TryGetValue(tenantId, out var n) ? n : 0;

    /// <summary>
    /// Notes <see cref="WritesOfTenant"/> of the grain's tenant once the grain with this primary key has run its next call to
    /// its end (in the silo, before the answer leaves): what that call wrote, and whatever ran beside it, but not the work the
    /// grain starts after answering (its timers) however late the caller reads the answer. Later calls of the grain (from the
    /// work it started, say) change nothing until the key is watched again. Silos count answers only with
    /// <see cref="AnswerProbe"/> among their grain call filters.
    /// </summary>
    public static void WatchNextAnswer(string key) => AnswerWrites[key] = Unanswered;

    /// <summary>Writes of the tenant counted when the watched grain with this key answered (see <see cref="WatchNextAnswer"/>).</summary>
    public static long TenantWritesAtAnswer(string key) =>
        AnswerWrites.TryGetValue(key, out var n) && n != Unanswered ? n : throw new InvalidOperationException($"{key} has not answered since it was watched.");

    internal static void OnAnswered(string key)
    {
        if (AnswerWrites.TryGetValue(key, out var n) && n == Unanswered)
        {
            AnswerWrites.TryUpdate(key, TenantOf(key) is { } tenant ? WritesOfTenant(tenant) : 0, Unanswered);
        }
    }

    /// <summary>The largest state written so far for the grain with this primary key, measured as <see cref="LargestWrite"/>.</summary>
    public static long LargestWriteOf(string key) => LargestOf.TryGetValue(key, out var largest) ? largest : 0;

    /// <summary>The largest state written so far, in bytes of its System.Text.Json form (how the silos store it).</summary>
    public static long LargestWrite => Interlocked.Read(ref _largestWrite);

    /// <summary>
    /// Routes a silo's grain storage (memory storage, <c>Storage:Provider=Memory</c>) through the probe. Call after the
    /// silo's own registrations: the last registration of the storage name wins.
    /// </summary>
    public static void Install(IServiceCollection siloServices) =>
        siloServices.AddGrainStorage(StorageNames.Default, (sp, name) => new ProbedGrainStorage(new KeyedRowGrainStorage(MemoryGrainStorageFactory.Create(sp, name))));

    /// <summary>
    /// Routes a silo's grain storage on Azure Table storage (<c>Storage:Provider=AzureTable</c>) through the probe. Call
    /// after the silo's own registrations.
    /// </summary>
    public static void InstallOverAzureTable(IServiceCollection siloServices) =>
        siloServices.AddGrainStorage(StorageNames.Default, (sp, name) => new ProbedGrainStorage(new KeyedRowGrainStorage(AzureTableGrainStorageFactory.Create(sp, name))));

    /// <summary>
    /// Activations of the grain with this primary key that read its state so far: an activation reads each of its states once,
    /// so this is the most reads of any one state name (a grain with two states, like the tenant grain, still counts one).
    /// </summary>
    public static int ReadsOf(string key) => Reads.Where(r => r.Key.Key == key).Select(r => r.Value).DefaultIfEmpty(0).Max();

    /// <summary>Writes (and clears) of the grain with this primary key so far.</summary>
    public static int WritesOf(string key) => Writes.TryGetValue(key, out var n) ? n : 0;

    /// <summary>The state last written for the grain with this primary key under <paramref name="stateName"/> (null if none): what storage holds.</summary>
    public static object? LastWrittenState(string key, string stateName) => Written.TryGetValue((key, stateName), out var state) ? state : null;

    /// <summary>
    /// The (grain key, state name) pairs whose last write through the probe stored something (not a clear), among the keys
    /// <paramref name="key"/> accepts: what storage holds of them, for tests that erase.
    /// </summary>
    public static IReadOnlyList<(string Key, string State)> Holding(Func<string, bool> key) =>
        [.. Written.Where(w => w.Value is not null && key(w.Key.Key)).Select(w => w.Key).OrderBy(w => w.Key, StringComparer.Ordinal).ThenBy(w => w.State, StringComparer.Ordinal)];

    /// <summary>The next <paramref name="times"/> writes of the grain with this primary key throw.</summary>
    public static void FailNextWrites(string key, int times = 1) => Failures[key] = times;

    /// <summary>
    /// The next <paramref name="times"/> writes of state <paramref name="state"/> of the grain with this primary key fail as
    /// Azure Storage fails when it is unreachable or answers 5xx (<see cref="Azure.RequestFailedException"/>, status 503),
    /// where <see cref="FailNextWrites(string, string, int)"/> throws an error of no known kind.
    /// </summary>
    public static void FailNextWritesAsOutage(string key, string state, int times = 1) => Outages[(key, state)] = times;

    /// <summary>
    /// The next <paramref name="times"/> state reads of the grain with this primary key fail as an outage of Azure Storage
    /// does (status 503; 0: none any more): an activation that cannot read its state fails, and so does the call that made it.
    /// </summary>
    public static void FailNextReadsAsOutage(string key, int times = 1) => ReadOutages[key] = times;

    /// <summary>
    /// Every state read of the grain with this primary key fails as an outage from now on (until
    /// <c>FailNextReadsAsOutage(key, 0)</c>), and its activation goes: idle activations are collected until
    /// <paramref name="failing"/>, a call that needs the grain, sees its new activation fail. One collection is not enough:
    /// Orleans skips an activation that is busy or kept alive by a timer (an event log resolving an unconfirmed commit).
    /// </summary>
    public static async Task FailReadsOfNextActivationAsync(IServiceProvider silo, string key, Func<Task<bool>> failing)
    {
        FailNextReadsAsOutage(key, int.MaxValue);
        var management = silo.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
        await Eventually.TrueAsync(
            async () =>
            {
                await management.ForceActivationCollection(TimeSpan.Zero);
                return await failing();
            },
            what: $"a new activation of {key} that cannot read its state");
    }

    /// <summary>The next <paramref name="times"/> writes (or clears) of state <paramref name="state"/> of the grain with this primary key throw.</summary>
    public static void FailNextWrites(string key, string state, int times = 1) => StateFailures[(key, state)] = times;

    /// <summary>
    /// The next write of the grain with this primary key reaches storage, then is reported refused
    /// (<see cref="InconsistentStateException"/>): what a grain sees when the storage client's own retry of a write whose
    /// answer was lost finds that write already there (Azure Table: 409 for an insert, 412 for an ETag-checked update).
    /// </summary>
    public static void RefuseAfterLanding(string key) => LandedRefusals[key] = 1;

    internal static void RefuseIfLanded(string key)
    {
        if (Spend(LandedRefusals, key))
        {
            throw new InconsistentStateException($"Injected refusal of a write that reached storage, for {key}.");
        }
    }

    /// <summary>
    /// Holds back the next write of the grain with this primary key: it reaches storage (or fails) only when the returned
    /// <see cref="HeldWrite"/> is released — a slow or failing storage write, for tests of what interleaving readers see.
    /// </summary>
    public static HeldWrite HoldNextWrite(string key)
    {
        var held = new HeldWrite();
        Holds[key] = held;
        return held;
    }

    internal static Task WaitIfHeldAsync(string key) => Holds.TryRemove(key, out var held) ? held.WaitAsync() : Task.CompletedTask;

    /// <summary>
    /// Holds back the next state read of the grain with this primary key (a slow activation) until the returned handle is
    /// released (or failed).
    /// </summary>
    public static HeldWrite HoldNextRead(string key)
    {
        var held = new HeldWrite();
        ReadHolds[key] = held;
        return held;
    }

    internal static Task WaitIfReadHeldAsync(string key) => ReadHolds.TryRemove(key, out var held) ? held.WaitAsync() : Task.CompletedTask;

    internal static void Remember(string key, string stateName, object? state)
    {
        Written[(key, stateName)] = state;
        var size = state is null ? 0 : System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(state, state.GetType()).LongLength;
        LargestOf.AddOrUpdate(key, size, (_, largest) => Math.Max(largest, size));
        for (var largest = LargestWrite; size > largest; largest = LargestWrite)
        {
            if (Interlocked.CompareExchange(ref _largestWrite, size, largest) == largest)
            {
                break;
            }
        }
    }

    internal static void OnRead(string key, string stateName)
    {
        Interlocked.Increment(ref _totalReads);
        Reads.AddOrUpdate((key, stateName), 1, (_, n) => n + 1);
        if (Spend(ReadOutages, key))
        {
            throw new Azure.RequestFailedException(503, $"Injected storage outage for {key}.");
        }
    }

    internal static void OnWrite(string key, string state)
    {
        Interlocked.Increment(ref _totalWrites);
        Writes.AddOrUpdate(key, 1, (_, n) => n + 1);
        if (TenantOf(key) is { } tenant)
        {
            TenantWrites.AddOrUpdate(tenant, 1, (_, n) => n + 1);
        }

        if (Spend(Failures, key) || Spend(StateFailures, (key, state)))
        {
            throw new IOException($"Injected storage failure for {key}.");
        }

        if (Spend(Outages, (key, state)))
        {
            throw new Azure.RequestFailedException(503, $"Injected storage outage for {key}.");
        }
    }

    // The tenant a grain key belongs to: the tenant grain's own key, or what comes before a key's first '/'; null for a
    // cluster-wide grain.
    private static string? TenantOf(string key) =>
        key.StartsWith(GrainKeys.ClusterWidePrefix) ? null : key.IndexOf('/', StringComparison.Ordinal) is > 0 and var slash ? key[..slash] : key;

    private static bool Spend<TKey>(ConcurrentDictionary<TKey, int> failures, TKey key)
        where TKey : notnull =>
        failures.TryGetValue(key, out var left) && left > 0 && failures.TryUpdate(key, left - 1, left);
}

/// <summary>The grain call filter behind <see cref="StorageProbe.WatchNextAnswer"/>: add it to a test silo to count answers.</summary>
public sealed class AnswerProbe : IIncomingGrainCallFilter
{
    /// <inheritdoc/>
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        await context.Invoke();
        StorageProbe.OnAnswered(context.TargetId.Key.ToString());
    }
}

/// <summary>A storage write (or read) held back by <see cref="StorageProbe.HoldNextWrite"/> (<see cref="StorageProbe.HoldNextRead"/>).</summary>
public sealed class HeldWrite
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the write has started and is being held.</summary>
    public Task Started => _started.Task;

    /// <summary>Lets the write reach storage.</summary>
    public void Release() => _outcome.TrySetResult();

    /// <summary>Makes the write fail, as a storage outage would.</summary>
    public void Fail() => _outcome.TrySetException(new IOException("Injected storage failure (held write)."));

    internal async Task WaitAsync()
    {
        _started.TrySetResult();
        await _outcome.Task;
    }
}

/// <summary>
/// Grain storage that reports every read and write to <see cref="StorageProbe"/> before passing it on. It takes part in the
/// silo's lifecycle for the storage it wraps (Azure Table storage opens its table there), once however often it is asked.
/// </summary>
internal sealed class ProbedGrainStorage(IGrainStorage inner) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    private int _participating;

    public void Participate(ISiloLifecycle lifecycle)
    {
        if (inner is ILifecycleParticipant<ISiloLifecycle> participant && Interlocked.Exchange(ref _participating, 1) == 0)
        {
            participant.Participate(lifecycle);
        }
    }

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = grainId.Key.ToString()!;
        await StorageProbe.WaitIfReadHeldAsync(key);
        StorageProbe.OnRead(key, stateName);
        await inner.ReadStateAsync(stateName, grainId, grainState);
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = grainId.Key.ToString()!;
        await StorageProbe.WaitIfHeldAsync(key);
        StorageProbe.OnWrite(key, stateName);
        StorageProbe.Remember(key, stateName, grainState.State);
        await inner.WriteStateAsync(stateName, grainId, grainState);
        StorageProbe.RefuseIfLanded(key);
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = grainId.Key.ToString()!;
        await StorageProbe.WaitIfHeldAsync(key);
        StorageProbe.OnWrite(key, stateName);
        StorageProbe.Remember(key, stateName, null);
        await inner.ClearStateAsync(stateName, grainId, grainState);
    }
}
