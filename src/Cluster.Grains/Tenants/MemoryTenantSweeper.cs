using System.Text.Json.Nodes;
using Cluster.Grains.Indexes;
using Cluster.Grains.State;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Cluster.Grains.Tenants;

/// <summary>
/// The storage sweep with the memory provider (tests and throwaway runs), which cannot list keys: it erases what the tenant's
/// data reaches — its webhook, its setup links, its event log and every page up to the log's counter, its provisioning log and its pages, and for each id in its user and group
/// directories that resource's rows, index entries, member partitions and change chunks — children before what leads to them,
/// so a step cut short resumes where it stopped. What nothing references (an index entry left by a crash, a tombstoned
/// resource already out of its directory) is out of its reach; on Azure Table storage <see cref="AzureTableTenantSweeper"/>
/// finds those by key prefix. Rows are read and cleared through the grain storage itself, not through the grains.
/// </summary>
public sealed class MemoryTenantSweeper : ITenantStorageSweeper
{
    private readonly IServiceProvider _services;
    private readonly IGrainFactory _grains;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Type, GrainType> _types = new();

    public MemoryTenantSweeper(IServiceProvider services, IGrainFactory grains)
    {
        (_services, _grains) = (services, grains);

        // Every kind of tenant data must be reachable here: a new one added to TenantData without a way to reach it fails fast.
        if (TenantData.Grains.Except(Reached).FirstOrDefault() is { } unknown)
        {
            throw new InvalidOperationException($"{nameof(MemoryTenantSweeper)} does not know how to reach {unknown.Name} (TenantData lists it).");
        }
    }

    // The kinds of data Rows reaches.
    private static readonly Type[] Reached =
    [
        typeof(IWebhookGrain), typeof(IEventLogGrain), typeof(IEventPageGrain), typeof(IDirectoryGrain), typeof(IUserGrain),
        typeof(IGroupGrain), typeof(IGroupMembersGrain), typeof(IGroupChangeChunkGrain), typeof(IIndexEntryGrain),
        typeof(IPortalAccessGrain),
        typeof(IRequestLogGrain), typeof(IRequestLogPageGrain),
    ];

    private IGrainStorage Storage => _services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Default);

    public async Task<int> SweepAsync(string tenantId, int maxRows, CancellationToken cancellationToken)
    {
        var erased = 0;
        await foreach (var clear in RowsAsync(tenantId).WithCancellation(cancellationToken))
        {
            if (await clear() && ++erased >= maxRows)
            {
                break;
            }
        }

        return erased;
    }

    public async Task EraseTenantRowsAsync(string tenantId, CancellationToken cancellationToken)
    {
        await ClearAsync<TenantState>(typeof(ITenantGrain), GrainKeys.Tenant(tenantId), "tenant");
        await ClearAsync<TenantLifecycleState>(typeof(ITenantGrain), GrainKeys.Tenant(tenantId), "lifecycle");
    }

    // Each row as a "clear it if it exists" step, in erase order.
    private async IAsyncEnumerable<Func<Task<bool>>> RowsAsync(string tenantId)
    {
        yield return () => ClearAsync<WebhookState>(typeof(IWebhookGrain), GrainKeys.Webhook(tenantId), "webhook");
        yield return () => ClearAsync<PortalAccessState>(typeof(IPortalAccessGrain), GrainKeys.PortalAccess(tenantId), "portal");

        var log = await ReadAsync<EventLogState>(typeof(IEventLogGrain), GrainKeys.EventLog(tenantId), "events");
        for (var page = 0L; page <= Math.Max(log.Next, log.SealedThrough) / Events.EventLogGrain.PageSize; page++)
        {
            var key = GrainKeys.EventPage(tenantId, page);
            yield return () => ClearAsync<EventPageState>(typeof(IEventPageGrain), key, "page");
        }

        yield return () => ClearAsync<EventLogState>(typeof(IEventLogGrain), GrainKeys.EventLog(tenantId), "events");

        var requests = await ReadAsync<RequestLogState>(typeof(IRequestLogGrain), GrainKeys.RequestLog(tenantId), "requests");
        for (var page = 0L; page <= requests.SealedThrough / RequestLog.RequestLogGrain.PageSize; page++)
        {
            var key = GrainKeys.RequestLogPage(tenantId, page);
            yield return () => ClearAsync<RequestLogPageState>(typeof(IRequestLogPageGrain), key, "page");
        }

        yield return () => ClearAsync<RequestLogState>(typeof(IRequestLogGrain), GrainKeys.RequestLog(tenantId), "requests");

        foreach (var kind in new[] { ResourceKind.User, ResourceKind.Group })
        {
            for (var partition = 0; partition < GrainKeys.DirectoryPartitions; partition++)
            {
                var directory = GrainKeys.Directory(tenantId, kind.DirectoryName, partition);
                foreach (var id in (await ReadAsync<IdSetState>(typeof(IDirectoryGrain), directory, "directory")).Ids)
                {
                    await foreach (var row in (kind == ResourceKind.User ? UserRowsAsync(tenantId, id) : GroupRowsAsync(tenantId, id)))
                    {
                        yield return row;
                    }
                }

                yield return () => ClearAsync<IdSetState>(typeof(IDirectoryGrain), directory, "directory");
            }
        }
    }

    private async IAsyncEnumerable<Func<Task<bool>>> UserRowsAsync(string tenantId, string id)
    {
        var key = GrainKeys.User(tenantId, id);
        var user = await ReadAsync<ResourceState>(typeof(IUserGrain), key, "user");
        foreach (var row in IndexRows(tenantId, ResourceKind.User, user.Json))
        {
            yield return row;
        }

        yield return () => ClearAsync<IdSetState>(typeof(IUserGrain), key, "groups");
        yield return () => ClearAsync<ResourceState>(typeof(IUserGrain), key, "user");
    }

    private async IAsyncEnumerable<Func<Task<bool>>> GroupRowsAsync(string tenantId, string id)
    {
        var key = GrainKeys.Group(tenantId, id);
        var group = await ReadAsync<GroupState>(typeof(IGroupGrain), key, "group");
        foreach (var row in IndexRows(tenantId, ResourceKind.Group, group.Json))
        {
            yield return row;
        }

        for (var partition = 0; partition < GrainKeys.GroupMemberPartitions; partition++)
        {
            var members = GrainKeys.GroupMembers(tenantId, id, partition);
            yield return () => ClearAsync<IdSetState>(typeof(IGroupMembersGrain), members, "members");
        }

        for (var chunk = 0; chunk < (group.Change?.Chunks ?? 0); chunk++)
        {
            var chunkKey = GrainKeys.GroupChangeChunk(tenantId, id, chunk);
            yield return () => ClearAsync<GroupChangeChunkState>(typeof(IGroupChangeChunkGrain), chunkKey, "change");
        }

        yield return () => ClearAsync<IdSetState>(typeof(IGroupGrain), key, "parents");
        yield return () => ClearAsync<GroupState>(typeof(IGroupGrain), key, "group");
    }

    private IEnumerable<Func<Task<bool>>> IndexRows(string tenantId, ResourceKind kind, string json)
    {
        var resource = json.Length > 0 ? JsonNode.Parse(json) as JsonObject : null;
        foreach (var (index, hashes) in ResourceIndexing.HashesOf(kind, resource))
        {
            foreach (var hash in hashes)
            {
                var key = GrainKeys.IndexEntry(tenantId, index, hash);
                yield return () => ClearAsync<IdSetState>(typeof(IIndexEntryGrain), key, "index");
            }
        }
    }

    private async Task<T> ReadAsync<T>(Type grain, string key, string stateName)
        where T : new()
    {
        var id = IdOf(grain, key);
        var state = new GrainState<T>();
        await Storage.ReadStateAsync(stateName, id, state);
        return state.RecordExists && state.State is { } value ? value : new T();
    }

    private async Task<bool> ClearAsync<T>(Type grain, string key, string stateName)
    {
        var id = IdOf(grain, key);
        var state = new GrainState<T>();
        await Storage.ReadStateAsync(stateName, id, state);
        if (!state.RecordExists)
        {
            return false;
        }

        await Storage.ClearStateAsync(stateName, id, state);
        return true;
    }

    // The silo's grain storage (KeyedRowGrainStorage) names the row from the state's name, as for the grains themselves.
    private GrainId IdOf(Type grain, string key) => GrainId.Create(_types.GetOrAdd(grain, g => TenantData.GrainTypeOf(_grains, g)), key);
}
