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
    private readonly CommittedState<IdSetState> _state = new(state);

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
        var ids = new HashSet<string>(_state.Value.Ids, StringComparer.Ordinal);
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
        await Commit(ids);
        return null;
    }

    public async Task ReleaseAsync(string resourceId)
    {
        if (_state.Value.Ids.Contains(resourceId))
        {
            await Commit([.. _state.Value.Ids.Where(id => id != resourceId)]);
        }
    }

    private Task Commit(HashSet<string> ids) => _state.CommitAsync(new IdSetState { Ids = ids }, this, clear: ids.Count == 0);

    public Task<string[]> LookupAsync() => Task.FromResult(_state.Value.Ids.ToArray());

    public async Task<IndexHit[]> FindAsync()
    {
        var ids = _state.Value.Ids.ToArray();
        var resources = await Task.WhenAll(ids.Select(id => Holder(id).GetAsync()));
        return [.. ids.Select((id, i) => new IndexHit(id, resources[i]))];
    }

    private Task<bool> HolderOwnsValueAsync(string holderId) => Holder(holderId).OwnsIndexValueAsync(_indexName, _valueHash);

    private IIndexedResourceGrain Holder(string id) => ResourceKind.OfIndex(_indexName).Grain(GrainFactory, _tenantId, id);
}
