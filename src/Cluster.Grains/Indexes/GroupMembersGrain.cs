using Cluster.Grains.State;

namespace Cluster.Grains.Indexes;

/// <summary>
/// One partition of a group's members: the source of truth of membership. Adding or removing members rewrites only
/// this partition. An added member is asked (an interleaving call) whether it still has the group in its list, so a
/// member deleted while the group was adding it never becomes a dangling member.
/// </summary>
public sealed class GroupMembersGrain(
    [PersistentState("members", StorageNames.Default)] IPersistentState<IdSetState> state) : Grain, IGroupMembersGrain
{
    private string _tenantId = "";
    private string _groupId = "";

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_tenantId, _groupId) = GrainKeys.ParseGroupMembersKey(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public async Task<string[]> ApplyAsync(string[] add, string[] remove)
    {
        var ids = new HashSet<string>(state.State.Ids, StringComparer.Ordinal);
        var changed = false;
        foreach (var id in remove)
        {
            changed |= ids.Remove(id);
        }

        var candidates = add.Where(id => !ids.Contains(id)).Distinct(StringComparer.Ordinal).ToArray();
        var joined = await Task.WhenAll(candidates.Select(id => Member(id).IsJoinedAsync(_groupId)));
        var rejected = new List<string>();
        for (var i = 0; i < candidates.Length; i++)
        {
            if (joined[i])
            {
                changed |= ids.Add(candidates[i]);
            }
            else
            {
                rejected.Add(candidates[i]);
            }
        }

        if (changed)
        {
            await state.CommitAsync(new IdSetState { Ids = ids }, this, clear: ids.Count == 0);
        }

        return [.. rejected];
    }

    public Task<string[]> ContainsAsync(string[] memberIds) =>
        Task.FromResult(memberIds.Where(state.State.Ids.Contains).ToArray());

    public Task<string[]> ListAsync() => Task.FromResult(state.State.Ids.ToArray());

    public async Task ClearAsync()
    {
        if (state.RecordExists || state.State.Ids.Count > 0)
        {
            await state.CommitAsync(new IdSetState(), this, clear: true);
        }
    }

    private IGroupMemberGrain Member(string id) => GrainFactory.GetGrain<IUserGrain>(GrainKeys.User(_tenantId, id));
}
