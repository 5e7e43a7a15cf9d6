using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Grains.Indexes;
using Cluster.Grains.State;
using Cluster.Scim;
using Cluster.Scim.Errors;
using Cluster.Scim.Patching;
using Cluster.Scim.Resources;

namespace Cluster.Grains.Groups;

/// <summary>
/// One group. Its attributes are indexed like a user's (claim → write → release, see <c>UserGrain</c>); its members
/// live in <see cref="IGroupMembersGrain"/> partitions, the source of truth of membership, and each member user
/// records the group ids it belongs to. A membership change runs in this order (docs/architecture.md, "Groups and
/// membership"):
/// <list type="number">
/// <item>check that every new member exists (a 400 changes nothing); claim new index values;</item>
/// <item>new members record the group (their lists are a superset of the truth, verified when read);</item>
/// <item>when the change spans more than one write (several partitions, or attributes and members), write the group
/// with the change as a journal: from here it is committed and replayed until done;</item>
/// <item>write the partitions (one write per partition touched);</item>
/// <item>removed members forget the group; clear the journal; release old index values.</item>
/// </list>
/// </summary>
public sealed partial class GroupGrain(
    [PersistentState("group", StorageNames.Default)] IPersistentState<GroupState> state,
    TimeProvider time,
    ILogger<GroupGrain> logger) : Grain, IGroupGrain
{
    private const int MemberCallBatch = 256;
    private static readonly ResourceKind Kind = ResourceKind.Group;

    private string _tenantId = "";
    private string _groupId = "";

    // The group's attributes (no members); null when it does not exist or is being deleted.
    private JsonObject? _resource;
    private IndexClaims _claims = null!;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_tenantId, _groupId) = GrainKeys.ParseResourceKey(this.GetPrimaryKeyString());
        _claims = new IndexClaims(GrainFactory, Kind, _tenantId, _groupId, e => LogCleanupFailed(logger, e, _tenantId, _groupId));
        if (state.RecordExists && !state.State.Deleting && state.State.Json.Length > 0)
        {
            _resource = Parse(state.State.Json);
        }

        _claims.Load(_resource);
        if (HasUnfinishedWork)
        {
            // A crash left a journaled change or a delete behind: finish it now, not only on the next call.
            this.RegisterGrainTimer(_ => SettleAsync(), TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }

        return Task.CompletedTask;
    }

    public async Task<ScimResult> CreateAsync(string resource)
    {
        await SettleAsync();
        if (state.RecordExists)
        {
            return ScimResult.Error(409, ScimErrorType.Uniqueness, "A resource with this id already exists.");
        }

        try
        {
            var body = Parse(resource);
            var members = MemberPatches.TakeMembers(body);
            var now = time.GetUtcNow();
            var stamped = ScimResource.Stamp(body, Kind.Type, _groupId, now, now, 1);
            return await CommitAsync(stamped, 1, created: true, members, []);
        }
        catch (ScimException e)
        {
            return ScimResult.Error(e.Status, e.ScimType, e.Message);
        }
    }

    public Task<ScimResult> GetAsync() => ReadAsync(null);

    public async Task<ScimResult> ReadAsync(string[]? memberIds)
    {
        await SettleAsync();
        if (_resource is null)
        {
            return NotFound();
        }

        var members = memberIds is null ? await AllMembersAsync() : await MembersAmongAsync(memberIds);
        return ScimResult.Ok(Render(_resource, members), state.State.Version);
    }

    public async Task<ScimResult> ReplaceAsync(string resource)
    {
        await SettleAsync();
        if (_resource is null)
        {
            return NotFound();
        }

        try
        {
            var body = Parse(resource);
            var members = MemberPatches.TakeMembers(body);
            return await UpdateAsync(body, await AllMembersAsync(), members);
        }
        catch (ScimException e)
        {
            return ScimResult.Error(e.Status, e.ScimType, e.Message);
        }
    }

    public async Task<ScimResult> PatchAsync(string patchRequest)
    {
        await SettleAsync();
        if (_resource is null)
        {
            return NotFound();
        }

        try
        {
            var request = PatchRequest.Parse(JsonNode.Parse(patchRequest) ?? throw ScimException.InvalidSyntax("The PATCH body is empty."));

            // Apply the request to the attributes plus only the members it refers to (their partitions), unless it
            // needs them all; the member set after minus before is exactly the change.
            var referenced = MemberPatches.ReferencedMembers(request);
            var before = referenced is null ? await AllMembersAsync() : await MembersAmongAsync(referenced);
            var working = (JsonObject)_resource.DeepClone();
            if (before.Length > 0)
            {
                working["members"] = MemberPatches.ToJson(before);
            }

            var patched = PatchApplier.Apply(working, request, Kind.Type);
            var after = MemberPatches.TakeMembers(patched);
            return await UpdateAsync(patched, before, after);
        }
        catch (ScimException e)
        {
            return ScimResult.Error(e.Status, e.ScimType, e.Message);
        }
        catch (JsonException)
        {
            return ScimResult.Error(400, ScimErrorType.InvalidSyntax, "The PATCH body is not valid JSON.");
        }
    }

    public async Task<ScimResult> DeleteAsync()
    {
        await SettleAsync();
        if (_resource is null)
        {
            return NotFound();
        }

        // The tombstone is the commit point: the group is gone for every reader from here, and a crash resumes below.
        await state.CommitAsync(new GroupState { Json = state.State.Json, Version = state.State.Version, Deleting = true }, this);
        _resource = null;
        await FinishDeleteAsync();
        return ScimResult.NoContent();
    }

    public async Task<string?> DescribeMemberAsync(string memberId)
    {
        if (_resource?["displayName"] is not JsonValue nameValue || !nameValue.TryGetValue<string>(out var name))
        {
            return null;
        }

        // A journaled change is committed: answer as if it were done.
        if (state.State.PendingRemove.Contains(memberId))
        {
            return null;
        }

        if (state.State.PendingAdd.Contains(memberId))
        {
            return name;
        }

        return (await Partition(memberId).ContainsAsync([memberId])).Length > 0 ? name : null;
    }

    public async Task RepairMemberAsync(string memberId)
    {
        if (!GrainKeys.IsValidId(memberId))
        {
            return;
        }

        await SettleAsync();
        if (_resource is not null && (await Partition(memberId).ContainsAsync([memberId])).Length > 0)
        {
            return;
        }

        LogMemberRepaired(logger, _tenantId, _groupId, memberId);
        await Member(memberId).LeaveGroupAsync(_groupId);
    }

    public Task<bool> OwnsIndexValueAsync(string indexName, string valueHash) => Task.FromResult(_claims.Owns(indexName, valueHash));

    public async Task ReconcileAsync(string? indexName, string? valueHash)
    {
        await SettleAsync();
        if (await _claims.ReconcileAsync(_resource is not null, indexName, valueHash))
        {
            LogReconciled(logger, _tenantId, _groupId, indexName!);
        }
    }

    private bool HasUnfinishedWork => state.State.Deleting || state.State.PendingAdd.Count > 0 || state.State.PendingRemove.Count > 0;

    private async Task<ScimResult> UpdateAsync(JsonObject updated, string[] before, string[] after)
    {
        var current = _resource!;
        if (MutabilityRules.CheckUpdate(current, updated, Kind.Type) is { } violation)
        {
            return ScimResult.Error(violation); // immutable attributes (RFC 7644 §3.5.1): 400 mutability, nothing written
        }

        var adds = after.Except(before, StringComparer.Ordinal).ToArray();
        var removes = before.Except(after, StringComparer.Ordinal).ToArray();
        var version = state.State.Version + 1;
        var stamped = ScimResource.Stamp(updated, Kind.Type, _groupId, ScimResource.CreatedOf(current), time.GetUtcNow(), version);
        var attributesChanged = !SameContent(stamped, current);
        if (!attributesChanged && adds.Length == 0 && removes.Length == 0)
        {
            return ScimResult.Ok(state.State.Json, state.State.Version);
        }

        return await CommitAsync(attributesChanged ? stamped : null, attributesChanged ? version : state.State.Version, created: false, adds, removes);
    }

    // attributes: the new attributes (stamped), or null when only members change.
    private async Task<ScimResult> CommitAsync(JsonObject? attributes, long version, bool created, string[] adds, string[] removes)
    {
        // Bad input changes nothing: every new member must be an existing user of this tenant before anything is written.
        var exist = await InBatchesAsync(adds, id => Member(id).ExistsAsync());
        if (Array.IndexOf(exist, false) is var missing and >= 0)
        {
            return ScimResult.Error(400, ScimErrorType.InvalidValue, $"Member '{adds[missing]}' is not a user of this tenant.");
        }

        var oldHashes = _claims.Held;
        var newHashes = attributes is null ? oldHashes : ResourceIndexing.HashesOf(Kind, attributes);
        try
        {
            // 1. Claim new index values: the unique displayName first, so a conflict leaves nothing behind.
            if (await _claims.ClaimAsync(newHashes, created) is { } conflict)
            {
                LogUniquenessConflict(logger, _tenantId, _groupId, conflict.Index, conflict.Holder);
                return ScimResult.Error(409, ScimErrorType.Uniqueness, "A group with this displayName already exists in this tenant.");
            }

            // 2. New members record the group (a member deleted meanwhile is skipped: added, then removed by its delete).
            var joined = await JoinAsync(adds);

            // 3. The group's write; a change spanning several writes goes into it as a journal.
            var partitions = joined.Concat(removes).Select(GrainKeys.GroupMemberPartitionOf).Distinct().Count();
            var journal = partitions > 1 || (attributes is not null && partitions > 0);
            if (attributes is not null || journal)
            {
                await state.CommitAsync(
                    new GroupState
                    {
                        Json = attributes is null ? state.State.Json : ScimSerializer.Serialize(attributes),
                        Version = version,
                        PendingAdd = journal ? [.. joined] : [],
                        PendingRemove = journal ? [.. removes] : [],
                    },
                    this);
                if (attributes is not null)
                {
                    _resource = attributes;
                }
            }

            _claims.Commit(attributes is not null ? newHashes : null);

            // 4.–5. Partitions, members that left, journal done, old index values.
            await ApplyMembersAsync(joined, removes);
            if (journal)
            {
                await state.CommitAsync(new GroupState { Json = state.State.Json, Version = state.State.Version }, this);
            }

            await _claims.ReleaseAsync(oldHashes);
            return created
                ? ScimResult.Created(Render(_resource!, joined), version)
                : ScimResult.Ok(state.State.Json, state.State.Version);
        }
        finally
        {
            // Failed before the write: give back what was claimed (stale claims are also repaired lazily).
            await _claims.AbandonAsync(created, _resource is not null);
        }
    }

    /// <summary>Finishes what a crash left: a journaled membership change, or a delete.</summary>
    private async Task SettleAsync()
    {
        if (state.State.Deleting)
        {
            await FinishDeleteAsync();
            return;
        }

        if (state.State.PendingAdd.Count == 0 && state.State.PendingRemove.Count == 0)
        {
            return;
        }

        LogReplayed(logger, _tenantId, _groupId);
        var joined = await JoinAsync([.. state.State.PendingAdd]);
        await ApplyMembersAsync(joined, [.. state.State.PendingRemove]);
        await state.CommitAsync(new GroupState { Json = state.State.Json, Version = state.State.Version }, this);
    }

    private async Task FinishDeleteAsync()
    {
        var old = ResourceIndexing.HashesOf(Kind, state.State.Json.Length > 0 ? Parse(state.State.Json) : null);
        _claims.Load(null);
        await _claims.ReleaseAsync(old);
        await _claims.LeaveDirectoryAsync();

        // Every member forgets the group, then its partition is cleared (a crash in between repeats this, idempotently).
        await Task.WhenAll(Enumerable.Range(0, GrainKeys.GroupMemberPartitions).Select(async p =>
        {
            var partition = GrainFactory.GetGrain<IGroupMembersGrain>(GrainKeys.GroupMembers(_tenantId, _groupId, p));
            var members = await partition.ListAsync();
            await InBatchesAsync(members, async id =>
            {
                await Member(id).LeaveGroupAsync(_groupId);
                return true;
            });
            await partition.ClearAsync();
        }));
        await state.CommitAsync(new GroupState(), this, clear: true);
    }

    private async Task<string[]> JoinAsync(string[] ids)
    {
        var joined = await InBatchesAsync(ids, id => Member(id).JoinGroupAsync(_groupId));
        return [.. ids.Where((_, i) => joined[i])];
    }

    private async Task ApplyMembersAsync(string[] adds, string[] removes)
    {
        var changes = adds.Select(id => (Id: id, Add: true)).Concat(removes.Select(id => (Id: id, Add: false)))
            .GroupBy(c => GrainKeys.GroupMemberPartitionOf(c.Id));
        await Task.WhenAll(changes.Select(c => GrainFactory
            .GetGrain<IGroupMembersGrain>(GrainKeys.GroupMembers(_tenantId, _groupId, c.Key))
            .ApplyAsync([.. c.Where(x => x.Add).Select(x => x.Id)], [.. c.Where(x => !x.Add).Select(x => x.Id)])));

        // Members that left forget the group; a failure leaves a record that reads verify and repair.
        await InBatchesAsync(removes, async id =>
        {
            await _claims.BestEffortAsync(() => Member(id).LeaveGroupAsync(_groupId));
            return true;
        });
    }

    private async Task<string[]> AllMembersAsync()
    {
        var partitions = await Task.WhenAll(Enumerable.Range(0, GrainKeys.GroupMemberPartitions)
            .Select(p => GrainFactory.GetGrain<IGroupMembersGrain>(GrainKeys.GroupMembers(_tenantId, _groupId, p)).ListAsync()));
        return [.. partitions.SelectMany(p => p)];
    }

    private async Task<string[]> MembersAmongAsync(IEnumerable<string> ids)
    {
        var found = await Task.WhenAll(ids.Where(GrainKeys.IsValidId).Distinct(StringComparer.Ordinal)
            .GroupBy(GrainKeys.GroupMemberPartitionOf)
            .Select(g => GrainFactory.GetGrain<IGroupMembersGrain>(GrainKeys.GroupMembers(_tenantId, _groupId, g.Key)).ContainsAsync([.. g])));
        return [.. found.SelectMany(f => f)];
    }

    private static async Task<T[]> InBatchesAsync<T>(string[] ids, Func<string, Task<T>> call)
    {
        var results = new List<T>(ids.Length);
        foreach (var batch in ids.Chunk(MemberCallBatch))
        {
            results.AddRange(await Task.WhenAll(batch.Select(call)));
        }

        return [.. results];
    }

    private static string Render(JsonObject attributes, IEnumerable<string> members)
    {
        var resource = (JsonObject)attributes.DeepClone();
        var meta = resource["meta"];
        resource.Remove("meta");
        resource["members"] = MemberPatches.ToJson(members);
        resource["meta"] = meta?.DeepClone();
        return ScimSerializer.Serialize(resource);
    }

    private static bool SameContent(JsonObject a, JsonObject b)
    {
        var x = (JsonObject)a.DeepClone();
        var y = (JsonObject)b.DeepClone();
        x.Remove("meta");
        y.Remove("meta");
        return JsonNode.DeepEquals(x, y);
    }

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    private ScimResult NotFound() => ScimResult.NotFound($"Group {_groupId} not found.");

    private IGroupMemberGrain Member(string id) => GrainFactory.GetGrain<IUserGrain>(GrainKeys.User(_tenantId, id));

    private IGroupMembersGrain Partition(string memberId) =>
        GrainFactory.GetGrain<IGroupMembersGrain>(GrainKeys.GroupMembers(_tenantId, _groupId, GrainKeys.GroupMemberPartitionOf(memberId)));


    [LoggerMessage(1101, LogLevel.Information, "Tenant {TenantId}: group {GroupId} lost a uniqueness claim on {IndexName} to {HolderId}.")]
    private static partial void LogUniquenessConflict(ILogger logger, string tenantId, string groupId, string indexName, string holderId);

    [LoggerMessage(1102, LogLevel.Warning, "Tenant {TenantId}: group {GroupId} repaired a stale {IndexName} index entry.")]
    private static partial void LogReconciled(ILogger logger, string tenantId, string groupId, string indexName);

    [LoggerMessage(1103, LogLevel.Warning, "Tenant {TenantId}: cleanup for group {GroupId} failed; it will be repaired later.")]
    private static partial void LogCleanupFailed(ILogger logger, Exception exception, string tenantId, string groupId);

    [LoggerMessage(1104, LogLevel.Warning, "Tenant {TenantId}: group {GroupId} finished a membership change a crash interrupted.")]
    private static partial void LogReplayed(ILogger logger, string tenantId, string groupId);

    [LoggerMessage(1105, LogLevel.Warning, "Tenant {TenantId}: group {GroupId} repaired the group list of member {MemberId}.")]
    private static partial void LogMemberRepaired(ILogger logger, string tenantId, string groupId, string memberId);
}
