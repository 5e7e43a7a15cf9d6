using Cluster.Grains.State;

namespace Cluster.Grains.Indexes;

/// <summary>
/// One partition of a group's members: the source of truth of membership. Adding or removing members rewrites only
/// this partition. A member is a user or a group; the partition stores which (<see cref="IdSetState.GroupIds"/>; a
/// member without that mark is a user, as every member was before nested groups). An added member is asked (an
/// interleaving call) whether it still has the group in its list, so a member deleted while the group was adding it
/// never becomes a dangling member. Its row is read before the first call, unless that call is
/// <see cref="AddToNewAsync"/>: the group knows the partition has no row, so it is written as an insert without a read.
/// </summary>
public sealed class GroupMembersGrain : Grain, IGroupMembersGrain, IIncomingGrainCallFilter
{
    private CommittedState<IdSetState> _state = null!;
    private DeferredLoad _load = null!;

    private string _tenantId = "";
    private string _groupId = "";

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_tenantId, _groupId) = GrainKeys.ParseGroupMembersKey(this.GetPrimaryKeyString());
        _state = DeferredState.Of<IdSetState>(GrainContext, "members");
        _load = new DeferredLoad(() => { }, nameof(AddToNewAsync), _state);
        return Task.CompletedTask;
    }

    public Task Invoke(IIncomingGrainCallContext context) => _load.Invoke(context);

    public Task<string[]> AddToNewAsync(MemberRef[] add) => ApplyMembersAsync(add, []);

    public Task<string[]> ApplyAsync(string[] add, string[] remove) =>
        ApplyMembersAsync([.. add.Select(id => new MemberRef(id, MemberKind.User))], remove);

    public async Task<string[]> ApplyMembersAsync(MemberRef[] add, string[] remove)
    {
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

        if (changed)
        {
            await _state.CommitAsync(new IdSetState { Ids = ids, GroupIds = groups.Count > 0 ? groups : null }, this, clear: ids.Count == 0);
        }

        return [.. rejected];
    }

    public Task<string[]> ContainsAsync(string[] memberIds) =>
        Task.FromResult(memberIds.Where(_state.Value.Ids.Contains).ToArray());

    public Task<MemberRef[]> FindAsync(string[] memberIds) =>
        Task.FromResult(memberIds.Where(_state.Value.Ids.Contains).Select(Ref).ToArray());

    public Task<string[]> ListAsync() => Task.FromResult(_state.Value.Ids.ToArray());

    public Task<MemberRef[]> ListMembersAsync() => Task.FromResult(_state.Value.Ids.Select(Ref).ToArray());

    public async Task ClearAsync()
    {
        if (_state.Exists || _state.Value.Ids.Count > 0)
        {
            await _state.CommitAsync(new IdSetState(), this, clear: true);
        }
    }

    private MemberRef Ref(string id) =>
        new(id, _state.Value.GroupIds?.Contains(id) == true ? MemberKind.Group : MemberKind.User);
}
