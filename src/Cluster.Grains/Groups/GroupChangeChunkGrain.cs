using Cluster.Grains.State;

namespace Cluster.Grains.Groups;

/// <summary>One chunk of a large membership change of a group (see <see cref="GroupChangeState"/>): a bounded row.</summary>
public sealed class GroupChangeChunkGrain(
    [PersistentState("change", StorageNames.Default)] IPersistentState<GroupChangeChunkState> state) : Grain, IGroupChangeChunkGrain
{
    private readonly CommittedState<GroupChangeChunkState> _state = new(state);

    public Task WriteAsync(GroupChangeChunk chunk)
    {
        var groups = chunk.Add.Concat(chunk.Remove).Where(m => m.Kind == MemberKind.Group).Select(m => m.Id).ToList();
        return _state.CommitAsync(
            new GroupChangeChunkState
            {
                Version = chunk.Version,
                Add = [.. chunk.Add.Select(m => m.Id)],
                Remove = [.. chunk.Remove.Select(m => m.Id)],
                Groups = groups.Count > 0 ? groups : null,
            },
            this);
    }

    public Task<GroupChangeChunk?> ReadAsync()
    {
        if (!_state.Exists)
        {
            return Task.FromResult<GroupChangeChunk?>(null);
        }

        var stored = _state.Value;
        var groups = stored.Groups ?? [];
        MemberRef Ref(string id) => new(id, groups.Contains(id) ? MemberKind.Group : MemberKind.User);
        return Task.FromResult<GroupChangeChunk?>(new GroupChangeChunk(stored.Version, [.. stored.Add.Select(Ref)], [.. stored.Remove.Select(Ref)]));
    }

    public async Task ClearAsync()
    {
        if (_state.Exists)
        {
            await _state.CommitAsync(new GroupChangeChunkState(), this, clear: true);
        }

        DeactivateOnIdle();
    }
}
