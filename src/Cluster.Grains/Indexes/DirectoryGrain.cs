using Cluster.Grains.State;

namespace Cluster.Grains.Indexes;

/// <summary>One partition of a tenant's directory of resource ids.</summary>
public sealed class DirectoryGrain(
    [PersistentState("directory", StorageNames.Default)] IPersistentState<IdSetState> state) : Grain, IDirectoryGrain
{
    private readonly CommittedState<IdSetState> _state = new(state);

    public async Task AddAsync(string resourceId)
    {
        if (!_state.Value.Ids.Contains(resourceId))
        {
            await Commit([.. _state.Value.Ids, resourceId]);
        }
    }

    public async Task RemoveAsync(string resourceId)
    {
        if (_state.Value.Ids.Contains(resourceId))
        {
            await Commit([.. _state.Value.Ids.Where(id => id != resourceId)]);
        }
    }

    public Task<string[]> ListAsync() => Task.FromResult(_state.Value.Ids.ToArray());

    public Task<int> CountAsync() => Task.FromResult(_state.Value.Ids.Count);

    private Task Commit(HashSet<string> ids) => _state.CommitAsync(new IdSetState { Ids = ids }, this);
}
