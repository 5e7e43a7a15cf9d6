using Cluster.Grains.State;

namespace Cluster.Grains.Indexes;

/// <summary>One partition of a tenant's directory of resource ids.</summary>
public sealed class DirectoryGrain(
    [PersistentState("directory", StorageNames.Default)] IPersistentState<IdSetState> state) : Grain, IDirectoryGrain
{
    public async Task AddAsync(string resourceId)
    {
        if (!state.State.Ids.Contains(resourceId))
        {
            await Commit([.. state.State.Ids, resourceId]);
        }
    }

    public async Task RemoveAsync(string resourceId)
    {
        if (state.State.Ids.Contains(resourceId))
        {
            await Commit([.. state.State.Ids.Where(id => id != resourceId)]);
        }
    }

    public Task<string[]> ListAsync() => Task.FromResult(state.State.Ids.ToArray());

    public Task<int> CountAsync() => Task.FromResult(state.State.Ids.Count);

    private Task Commit(HashSet<string> ids) => state.CommitAsync(new IdSetState { Ids = ids }, this);
}
