using Cluster.Grains.State;

namespace Cluster.Grains.Indexes;

/// <summary>
/// The ids holding one value of one tenant index. Unique indexes hold at most one live id: a claim on a taken
/// value asks the holder whether it still owns the value, so an entry left by a crashed create or rename is
/// taken over instead of blocking the name forever.
/// </summary>
public sealed class IndexEntryGrain(
    [PersistentState("index", StorageNames.Default)] IPersistentState<IdSetState> state) : Grain, IIndexEntryGrain
{
    private string _tenantId = "";
    private string _indexName = "";
    private string _valueHash = "";

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        (_tenantId, _indexName) = GrainKeys.ParseIndexEntryKey(key);
        _valueHash = key[(key.LastIndexOf('/') + 1)..];
        return Task.CompletedTask;
    }

    public async Task<string?> ClaimAsync(string resourceId)
    {
        var ids = state.State.Ids;
        if (ids.Contains(resourceId))
        {
            return null;
        }

        if (IndexNames.IsUnique(_indexName))
        {
            foreach (var holder in ids.ToArray())
            {
                if (await HolderOwnsValueAsync(holder))
                {
                    return holder;
                }

                ids.Remove(holder);
            }
        }

        ids.Add(resourceId);
        await state.WriteStateAsync();
        return null;
    }

    public async Task ReleaseAsync(string resourceId)
    {
        if (!state.State.Ids.Remove(resourceId))
        {
            return;
        }

        if (state.State.Ids.Count == 0)
        {
            await state.ClearStateAsync();
        }
        else
        {
            await state.WriteStateAsync();
        }
    }

    public Task<string[]> LookupAsync() => Task.FromResult(state.State.Ids.ToArray());

    private Task<bool> HolderOwnsValueAsync(string holderId) =>
        GrainFactory.GetGrain<IUserGrain>(GrainKeys.User(_tenantId, holderId)).OwnsIndexValueAsync(_indexName, _valueHash);
}
