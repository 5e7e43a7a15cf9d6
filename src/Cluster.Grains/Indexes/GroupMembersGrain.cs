using Cluster.Grains.State;

namespace Cluster.Grains.Indexes;

/// <summary>
/// One partition of a group's members: the source of truth of membership. Adding or removing members rewrites only
/// this partition. A member is a user or a group; the partition stores which (<see cref="IdSetState.GroupIds"/>; a
/// member without that mark is a user, as every member was before nested groups). An added member is asked (an
/// interleaving call) whether it still has the group in its list, so a member deleted while the group was adding it
/// never becomes a dangling member. Its row is read before the first call, unless that call is
/// <see cref="AddToNewAsync"/>: the group knows the partition has no row, so it is written as an insert without a read.
/// <para>
/// Stamps (<see cref="IGroupMembersGrain"/>): an activation asked for a row at least as recent as the group's record says
/// reads its row again when it holds an older one, once, and answers from what storage holds: the best answer there is,
/// even when that row cannot say it is as recent (a row that is gone because its last member left; one that a silo of the
/// previous version wrote without a stamp).
/// </para>
/// </summary>
public sealed class GroupMembersGrain : Grain, IGroupMembersGrain, IIncomingGrainCallFilter
{
    private CommittedState<IdSetState> _state = null!;
    private DeferredLoad _load = null!;

    private string _tenantId = "";
    private string _groupId = "";

    // The latest stamp this activation's row is known to satisfy beyond its own (a reload that found an older row, or none).
    private long _currentAt;
    private Task? _reloading;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_tenantId, _groupId) = GrainKeys.ParseGroupMembersKey(this.GetPrimaryKeyString());
        _state = DeferredState.Of<IdSetState>(GrainContext, "members");
        _load = new DeferredLoad(() => { }, nameof(AddToNewAsync), _state);
        return Task.CompletedTask;
    }

    public Task Invoke(IIncomingGrainCallContext context) => _load.Invoke(context);

    public Task<string[]> AddToNewAsync(MemberRef[] add, long stamp = 0) => ApplyCoreAsync(add, [], stamp, fresh: true);

    public Task<string[]> ApplyAsync(string[] add, string[] remove) =>
        ApplyMembersAsync([.. add.Select(id => new MemberRef(id, MemberKind.User))], remove);

    public Task<string[]> ApplyMembersAsync(MemberRef[] add, string[] remove, long stamp = 0) => ApplyCoreAsync(add, remove, stamp, fresh: false);

    // fresh: the group knows the partition has no row (its write is an insert).
    private async Task<string[]> ApplyCoreAsync(MemberRef[] add, string[] remove, long stamp, bool fresh)
    {
        // A row that is gone may have been written since by another activation: a stamped change reads it first, so that
        // a change this activation would find already made is checked against storage too (a stamped write with a row is).
        if (!fresh && stamp > Stamp && !_state.Exists)
        {
            await ReloadAsync();
        }

        var ids = new HashSet<string>(_state.Value.Ids, StringComparer.Ordinal);
        var groups = new HashSet<string>(_state.Value.GroupIds ?? [], StringComparer.Ordinal);
        var changed = false;
        foreach (var id in remove)
        {
            changed |= ids.Remove(id);
            groups.Remove(id);
        }

        var candidates = add.Where(m => !ids.Contains(m.Id)).DistinctBy(m => m.Id, StringComparer.Ordinal).ToArray();
        var joined = await Task.WhenAll(candidates.Select(m => m.Grain(GrainFactory, _tenantId).IsJoinedAsync(_groupId)));
        var rejected = new List<string>();
        for (var i = 0; i < candidates.Length; i++)
        {
            if (joined[i])
            {
                changed |= ids.Add(candidates[i].Id);
                if (candidates[i].Kind == MemberKind.Group)
                {
                    groups.Add(candidates[i].Id);
                }
            }
            else
            {
                rejected.Add(candidates[i].Id);
            }
        }

        // A later stamp is written even when no member changes (a change replayed after another activation applied it):
        // the write is checked against the row's ETag, and the row then says it holds that commit. The group's own changes
        // keep an emptied row, with its stamp, so that its next activation need not read it twice (once to load it, once
        // more because a missing row cannot say how recent it is); others (a member's delete, the group's) remove it.
        var stamped = Math.Max(_state.Value.Stamp, stamp);
        if (changed || (stamped > _state.Value.Stamp && _state.Exists))
        {
            var value = new IdSetState { Ids = ids, GroupIds = groups.Count > 0 ? groups : null, Stamp = stamped };
            await _state.CommitAsync(value, this, clear: ids.Count == 0 && stamp == 0);
        }

        return [.. rejected];
    }

    public async Task<string[]> ContainsAsync(string[] memberIds, long atLeast = 0)
    {
        await AtLeastAsync(atLeast);
        return [.. memberIds.Where(_state.Value.Ids.Contains)];
    }

    public async Task<MemberRef[]> FindAsync(string[] memberIds, long atLeast = 0)
    {
        await AtLeastAsync(atLeast);
        return [.. memberIds.Where(_state.Value.Ids.Contains).Select(Ref)];
    }

    public Task<string[]> ListAsync() => Task.FromResult(_state.Value.Ids.ToArray());

    public async Task<MemberRef[]> ListMembersAsync(long atLeast = 0)
    {
        await AtLeastAsync(atLeast);
        return [.. _state.Value.Ids.Select(Ref)];
    }

    public async Task<MemberRef[]> ListMembersAsync(long atLeast, int max)
    {
        await AtLeastAsync(atLeast);
        return [.. _state.Value.Ids.Take(Math.Max(0, max)).Select(Ref)];
    }

    public async Task ClearAsync()
    {
        if (_state.Exists || _state.Value.Ids.Count > 0)
        {
            await _state.CommitAsync(new IdSetState(), this, clear: true);
        }
    }

    // The stamp this activation's row is known to satisfy.
    private long Stamp => Math.Max(_state.Value.Stamp, _currentAt);

    /// <summary>Before an answer: a row older than <paramref name="stamp"/> is read again (once, however many reads ask).</summary>
    private async Task AtLeastAsync(long stamp)
    {
        if (Stamp < stamp)
        {
            await ReloadAsync();
            _currentAt = Math.Max(_currentAt, stamp);
        }
    }

    // Reads can interleave with each other (never with a write): they share one read of the row.
    private async Task ReloadAsync()
    {
        var reload = _reloading ??= _state.ReloadAsync();
        try
        {
            await reload;
        }
        finally
        {
            if (_reloading == reload)
            {
                _reloading = null;
            }
        }
    }

    private MemberRef Ref(string id) =>
        new(id, _state.Value.GroupIds?.Contains(id) == true ? MemberKind.Group : MemberKind.User);
}
