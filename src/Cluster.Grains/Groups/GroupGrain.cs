using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Grains.Indexes;
using Cluster.Grains.State;
using Cluster.Scim;
using Cluster.Scim.Errors;
using Cluster.Scim.Patching;
using Cluster.Scim.Resources;
using Orleans.Concurrency;
using Orleans.Serialization.Invocation;

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
/// A member is a user or another group of the tenant; the partitions store which. A group is thus also a member
/// (<see cref="IGroupMemberGrain"/>): it records the groups it belongs to in its own <c>parents</c> state, written by
/// calls that may interleave with this grain's own work (they touch nothing else), so parent and child groups never wait
/// on each other, whatever cycles the membership graph has.
/// </summary>
[MayInterleave(nameof(MayInterleave))]
public sealed partial class GroupGrain(
    [PersistentState("group", StorageNames.Default)] IPersistentState<GroupState> state,
    [PersistentState("parents", StorageNames.Default)] IPersistentState<IdSetState> parents,
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

    // The member side: changes of the parents state (joins, leaves, a delete leaving every parent) take turns through
    // this chain, as they may interleave with each other and with this group's own calls.
    private Task _parentsTurn = Task.CompletedTask;

    // Set while a delete leaves its parents and after: no group may add this one any more.
    private bool _leavingParents;

    /// <summary>Joins and leaves of parent groups interleave: they only touch the <c>parents</c> state, in turns (<see cref="InParentsTurnAsync"/>).</summary>
    public static bool MayInterleave(IInvokable request) =>
        request.GetMethodName() is nameof(IGroupMemberGrain.JoinGroupAsync) or nameof(IGroupMemberGrain.LeaveGroupAsync);

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

        if (parents.State.Ids.Count > 0)
        {
            // Verify the recorded parents once per activation (a crash may have left one whose partition lacks this group).
            this.RegisterGrainTimer(_ => VerifyParentsAsync(), TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }

        return Task.CompletedTask;
    }

    public async Task<ScimResult> CreateAsync(string resource) =>
        ClientView.Of(await CreateCoreAsync(resource), Kind.Type);

    private async Task<ScimResult> CreateCoreAsync(string resource)
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
            return await CommitAsync(stamped, attributesChanged: true, 1, created: true, members, []);
        }
        catch (ScimException e)
        {
            return ScimResult.Error(e.Status, e.ScimType, e.Message);
        }
    }

    public Task<ScimResult> GetAsync() => ReadAsync(null);

    public async Task<ScimResult> ReadAsync(string[]? memberIds) =>
        ClientView.Of(await ReadCoreAsync(memberIds), Kind.Type);

    private async Task<ScimResult> ReadCoreAsync(string[]? memberIds)
    {
        await SettleAsync();
        if (_resource is null)
        {
            return NotFound();
        }

        var members = memberIds is null ? await AllMembersAsync() : await MembersAmongAsync(memberIds);
        return ScimResult.Ok(Render(_resource, members), state.State.Version);
    }

    public async Task<ScimResult> ReplaceAsync(string resource, ETagCondition? ifMatch = null) =>
        ClientView.Of(await ReplaceCoreAsync(resource, ifMatch), Kind.Type);

    private async Task<ScimResult> ReplaceCoreAsync(string resource, ETagCondition? ifMatch)
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
            MutabilityRules.KeepOmittedWriteOnly(_resource, body, Kind.Type);
            return await UpdateAsync(body, await AllMembersAsync(), members, ifMatch);
        }
        catch (ScimException e)
        {
            return Failed(e, ifMatch);
        }
    }

    public async Task<ScimResult> PatchAsync(string patchRequest, ETagCondition? ifMatch = null) =>
        ClientView.Of(await PatchCoreAsync(patchRequest, ifMatch), Kind.Type);

    private async Task<ScimResult> PatchCoreAsync(string patchRequest, ETagCondition? ifMatch)
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
            return await UpdateAsync(patched, before, after, ifMatch);
        }
        catch (ScimException e)
        {
            return Failed(e, ifMatch);
        }
        catch (JsonException)
        {
            return Failed(ScimException.InvalidSyntax("The PATCH body is not valid JSON."), ifMatch);
        }
    }

    public async Task<ScimResult> DeleteAsync(ETagCondition? ifMatch = null)
    {
        await SettleAsync();
        if (_resource is null)
        {
            return NotFound();
        }

        if (PreconditionFails(ifMatch))
        {
            return ScimResult.PreconditionFailed(state.State.Version);
        }

        // As a member, leave every parent group first (as a deleted user does): no parent ever lists a deleted group.
        // Keep this after every check that may still reject the delete, right before the tombstone.
        await LeaveAllParentsAsync();

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

    public Task RepairMemberAsync(string memberId) => RepairAsync(new MemberRef(memberId, MemberKind.User));

    public Task RepairGroupMemberAsync(string memberGroupId) => RepairAsync(new MemberRef(memberGroupId, MemberKind.Group));

    // The member side: this group as a member of other groups (its parents).
    public Task<bool> ExistsAsync() => Task.FromResult(_resource is not null && !_leavingParents);

    public Task<bool> JoinGroupAsync(string groupId) => InParentsTurnAsync(async () =>
    {
        if (_resource is null || _leavingParents)
        {
            return false;
        }

        if (!parents.State.Ids.Contains(groupId))
        {
            await parents.CommitAsync(new IdSetState { Ids = [.. parents.State.Ids, groupId] }, this);
        }

        return true;
    });

    public Task LeaveGroupAsync(string groupId) => InParentsTurnAsync(async () =>
    {
        if (parents.State.Ids.Contains(groupId))
        {
            var rest = parents.State.Ids.Where(id => id != groupId).ToHashSet(StringComparer.Ordinal);
            await parents.CommitAsync(new IdSetState { Ids = rest }, this, clear: rest.Count == 0);
        }

        return true;
    });

    public Task<bool> IsJoinedAsync(string groupId) =>
        Task.FromResult(_resource is not null && !_leavingParents && parents.State.Ids.Contains(groupId));

    public Task<string[]> GetGroupIdsAsync() => Task.FromResult(parents.State.Ids.Order(StringComparer.Ordinal).ToArray());

    public async Task MemberDeletedAsync(string memberId)
    {
        await SettleAsync();
        if (_resource is null)
        {
            return;
        }

        // Attributes unchanged, members changed: a new version (and lastModified) in one write of the group record.
        var version = state.State.Version + 1;
        var stamped = ScimResource.Stamp((JsonObject)_resource.DeepClone(), Kind.Type, _groupId, ScimResource.CreatedOf(_resource), time.GetUtcNow(), version);
        await state.CommitAsync(new GroupState { Json = ScimSerializer.Serialize(stamped), Version = version }, this);
        _resource = stamped;
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

    private bool PreconditionFails(ETagCondition? ifMatch) => ifMatch is not null && !ifMatch.Matches(state.State.Version);

    // The precondition is evaluated before the request (RFC 7232 §5): a failed one wins over a bad body.
    private ScimResult Failed(ScimException e, ETagCondition? ifMatch) =>
        PreconditionFails(ifMatch) ? ScimResult.PreconditionFailed(state.State.Version) : ScimResult.Error(e);

    private async Task<ScimResult> UpdateAsync(JsonObject updated, MemberRef[] before, MemberValue[] after, ETagCondition? ifMatch)
    {
        // The precondition comes first (RFC 7232 §5; see UserGrain.UpdateAsync: no answer may depend on hidden values).
        if (PreconditionFails(ifMatch))
        {
            return ScimResult.PreconditionFailed(state.State.Version);
        }

        var current = _resource!;
        if (MutabilityRules.CheckUpdate(current, updated, Kind.Type) is { } violation)
        {
            return ScimResult.Error(violation); // immutable attributes (RFC 7644 §3.5.1): 400 mutability, nothing written
        }

        var beforeIds = before.Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
        var afterIds = after.Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
        var adds = after.Where(m => !beforeIds.Contains(m.Id)).ToArray();
        var removes = before.Where(m => !afterIds.Contains(m.Id)).ToArray();
        var version = state.State.Version + 1;
        var stamped = ScimResource.Stamp(updated, Kind.Type, _groupId, ScimResource.CreatedOf(current), time.GetUtcNow(), version);
        var attributesChanged = !ScimResource.SameContent(stamped, current);

        // A request the group already reflects writes nothing.
        if (!attributesChanged && adds.Length == 0 && removes.Length == 0)
        {
            return ScimResult.Ok(state.State.Json, state.State.Version);
        }

        return await CommitAsync(stamped, attributesChanged, version, created: false, adds, removes);
    }

    // attributes: the group's attributes stamped with the new version (unchanged apart from meta when only members change).
    // Every change of the group, members included, writes the group record with the new version; a members-only change
    // in one partition writes it without a journal, before the partition (a crash in between leaves a new version on
    // unchanged content, which is harmless; never changed content under an old version).
    private async Task<ScimResult> CommitAsync(JsonObject attributes, bool attributesChanged, long version, bool created, MemberValue[] newMembers, MemberRef[] removes)
    {
        // Bad input changes nothing: every new member must be an existing user or group of this tenant before anything is written.
        var (adds, invalid) = await ResolveAsync(newMembers);
        if (invalid is not null)
        {
            return ScimResult.Error(400, ScimErrorType.InvalidValue, invalid);
        }

        var oldHashes = _claims.Held;
        var newHashes = attributesChanged ? ResourceIndexing.HashesOf(Kind, attributes) : oldHashes;
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

            // Every member to add was deleted meanwhile and none is removed: nothing changes.
            if (!attributesChanged && joined.Length == 0 && removes.Length == 0)
            {
                return ScimResult.Ok(state.State.Json, state.State.Version);
            }

            // 3. The group's write with its new version; a change spanning several writes goes into it as a journal.
            var partitions = joined.Concat(removes).Select(m => GrainKeys.GroupMemberPartitionOf(m.Id)).Distinct().Count();
            var journal = partitions > 1 || (attributesChanged && partitions > 0);
            await state.CommitAsync(
                new GroupState
                {
                    Json = ScimSerializer.Serialize(attributes),
                    Version = version,
                    PendingAdd = journal ? [.. joined.Select(m => m.Id)] : [],
                    PendingRemove = journal ? [.. removes.Select(m => m.Id)] : [],
                    PendingGroups = journal ? GroupIdsOf(joined.Concat(removes)) : null,
                },
                this);
            _resource = attributes;
            _claims.Commit(attributesChanged ? newHashes : null);

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
        var groups = state.State.PendingGroups ?? [];
        MemberRef Journaled(string id) => new(id, groups.Contains(id) ? MemberKind.Group : MemberKind.User);
        var joined = await JoinAsync([.. state.State.PendingAdd.Select(Journaled)]);
        await ApplyMembersAsync(joined, [.. state.State.PendingRemove.Select(Journaled)]);
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
            var members = await partition.ListMembersAsync();
            await InBatchesAsync(members, async member =>
            {
                await Member(member).LeaveGroupAsync(_groupId);
                return true;
            });
            await partition.ClearAsync();
        }));
        await state.CommitAsync(new GroupState(), this, clear: true);
    }

    private async Task<MemberRef[]> JoinAsync(MemberRef[] members)
    {
        var joined = await InBatchesAsync(members, m => Member(m).JoinGroupAsync(_groupId));
        return [.. members.Where((_, i) => joined[i])];
    }

    private async Task ApplyMembersAsync(MemberRef[] adds, MemberRef[] removes)
    {
        var changes = adds.Select(m => (Member: m, Add: true)).Concat(removes.Select(m => (Member: m, Add: false)))
            .GroupBy(c => GrainKeys.GroupMemberPartitionOf(c.Member.Id));
        await Task.WhenAll(changes.Select(c => GrainFactory
            .GetGrain<IGroupMembersGrain>(GrainKeys.GroupMembers(_tenantId, _groupId, c.Key))
            .ApplyMembersAsync([.. c.Where(x => x.Add).Select(x => x.Member)], [.. c.Where(x => !x.Add).Select(x => x.Member.Id)])));

        // Members that left forget the group; a failure leaves a record that reads verify and repair.
        await InBatchesAsync(removes, async m =>
        {
            await _claims.BestEffortAsync(() => Member(m).LeaveGroupAsync(_groupId));
            return true;
        });
    }

    /// <summary>
    /// The kinds of new members: each must be an existing user or group of this tenant, and not this group. A member's
    /// stated kind (<c>type</c>, <c>$ref</c>) decides; without one, a user with that id wins, else a group (ids are random
    /// per resource, so they do not collide in practice). Returns the members, or the 400 invalidValue detail.
    /// </summary>
    private async Task<(MemberRef[] Members, string? Invalid)> ResolveAsync(MemberValue[] members)
    {
        string[] asUser = [.. members.Where(m => m.StatedKind != MemberKind.Group).Select(m => m.Id)];
        var userExists = await InBatchesAsync(asUser, id => Member(new MemberRef(id, MemberKind.User)).ExistsAsync());
        var users = asUser.Where((_, i) => userExists[i]).ToHashSet(StringComparer.Ordinal);

        var asGroupCandidates = members.Where(m => m.StatedKind != MemberKind.User && !users.Contains(m.Id)).ToArray();
        if (asGroupCandidates.Any(m => m.Id == _groupId))
        {
            return ([], "A group cannot be a member of itself.");
        }

        string[] asGroup = [.. asGroupCandidates.Select(m => m.Id)];
        var groupExists = await InBatchesAsync(asGroup, id => Member(new MemberRef(id, MemberKind.Group)).ExistsAsync());
        var groups = asGroup.Where((_, i) => groupExists[i]).ToHashSet(StringComparer.Ordinal);

        var resolved = new List<MemberRef>(members.Length);
        foreach (var m in members)
        {
            if (users.Contains(m.Id))
            {
                resolved.Add(new MemberRef(m.Id, MemberKind.User));
            }
            else if (groups.Contains(m.Id))
            {
                resolved.Add(new MemberRef(m.Id, MemberKind.Group));
            }
            else
            {
                return ([], m.StatedKind switch
                {
                    MemberKind.User => $"Member '{m.Id}' is not a user of this tenant.",
                    MemberKind.Group => $"Member '{m.Id}' is not a group of this tenant.",
                    _ => $"Member '{m.Id}' is not a user or group of this tenant.",
                });
            }
        }

        return ([.. resolved], null);
    }

    private async Task RepairAsync(MemberRef member)
    {
        if (!GrainKeys.IsValidId(member.Id))
        {
            return;
        }

        await SettleAsync();
        if (_resource is not null && (await Partition(member.Id).ContainsAsync([member.Id])).Length > 0)
        {
            return;
        }

        LogMemberRepaired(logger, _tenantId, _groupId, member.Id);
        await Member(member).LeaveGroupAsync(_groupId);
    }

    /// <summary>
    /// This group as a member: asks each recorded parent whether its partition lists this group; a parent that does not
    /// (a crash between this group's record and the parent's partition write, or a parent deleted meanwhile) repairs the
    /// record in its own turn, after any change in flight — as a user's read does for its groups.
    /// </summary>
    private async Task VerifyParentsAsync()
    {
        var recorded = parents.State.Ids.Order(StringComparer.Ordinal).ToArray();
        var names = await Task.WhenAll(recorded.Select(p => Parent(p).DescribeMemberAsync(_groupId)));
        for (var i = 0; i < recorded.Length; i++)
        {
            if (names[i] is null)
            {
                await Parent(recorded[i]).RepairGroupMemberAsync(_groupId);
            }
        }
    }

    // Before a delete: removes this group from the partition of every group it records, then forgets them. Joins are
    // refused from here on (a failure lets them in again; a failed tombstone write deactivates the grain).
    private Task LeaveAllParentsAsync() => InParentsTurnAsync(async () =>
    {
        _leavingParents = true;
        if (parents.State.Ids.Count == 0)
        {
            return true;
        }

        try
        {
            await Task.WhenAll(parents.State.Ids.Select(p => GrainFactory
                .GetGrain<IGroupMembersGrain>(GrainKeys.GroupMembers(_tenantId, p, GrainKeys.GroupMemberPartitionOf(_groupId)))
                .ApplyAsync([], [_groupId])));

            // Each parent's membership changed: it takes a new version (one-way, as for a deleted user).
            await Task.WhenAll(parents.State.Ids.Select(p => Parent(p).MemberDeletedAsync(_groupId)));
            await parents.CommitAsync(new IdSetState(), this, clear: true);
            return true;
        }
        catch
        {
            _leavingParents = false;
            throw;
        }
    });

    // Runs work on the parents state after every earlier such work has finished (all on this activation's one thread).
    private async Task<T> InParentsTurnAsync<T>(Func<Task<T>> work)
    {
        var previous = _parentsTurn;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _parentsTurn = done.Task;
        try
        {
            await previous;
            return await work();
        }
        finally
        {
            done.SetResult();
        }
    }

    private async Task<MemberRef[]> AllMembersAsync()
    {
        var partitions = await Task.WhenAll(Enumerable.Range(0, GrainKeys.GroupMemberPartitions)
            .Select(p => GrainFactory.GetGrain<IGroupMembersGrain>(GrainKeys.GroupMembers(_tenantId, _groupId, p)).ListMembersAsync()));
        return [.. partitions.SelectMany(p => p)];
    }

    private async Task<MemberRef[]> MembersAmongAsync(IEnumerable<string> ids)
    {
        var found = await Task.WhenAll(ids.Where(GrainKeys.IsValidId).Distinct(StringComparer.Ordinal)
            .GroupBy(GrainKeys.GroupMemberPartitionOf)
            .Select(g => GrainFactory.GetGrain<IGroupMembersGrain>(GrainKeys.GroupMembers(_tenantId, _groupId, g.Key)).FindAsync([.. g])));
        return [.. found.SelectMany(f => f)];
    }

    private static List<string>? GroupIdsOf(IEnumerable<MemberRef> members) =>
        members.Where(m => m.Kind == MemberKind.Group).Select(m => m.Id).ToList() is { Count: > 0 } ids ? ids : null;

    private static async Task<TResult[]> InBatchesAsync<TItem, TResult>(TItem[] items, Func<TItem, Task<TResult>> call)
    {
        var results = new List<TResult>(items.Length);
        foreach (var batch in items.Chunk(MemberCallBatch))
        {
            results.AddRange(await Task.WhenAll(batch.Select(call)));
        }

        return [.. results];
    }

    private static string Render(JsonObject attributes, IEnumerable<MemberRef> members)
    {
        var resource = (JsonObject)attributes.DeepClone();
        var meta = resource["meta"];
        resource.Remove("meta");
        resource["members"] = MemberPatches.ToJson(members);
        resource["meta"] = meta?.DeepClone();
        return ScimSerializer.Serialize(resource);
    }

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    private ScimResult NotFound() => ScimResult.NotFound($"Group {_groupId} not found.");

    private IGroupMemberGrain Member(MemberRef member) => member.Grain(GrainFactory, _tenantId);

    private IGroupGrain Parent(string groupId) => GrainFactory.GetGrain<IGroupGrain>(GrainKeys.Group(_tenantId, groupId));

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
