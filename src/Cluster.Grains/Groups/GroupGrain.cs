using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Grains.Events;
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
/// <item>write the group with its new version and the member change as a journal: from here it is committed (its
/// events count) and replayed until done;</item>
/// <item>write the partitions (one write per partition touched);</item>
/// <item>removed members forget the group; release old index values. The applied journal is dropped by the record's next
/// write, or on deactivation.</item>
/// </list>
/// A member is a user or another group of the tenant; the partitions store which. A group is thus also a member
/// (<see cref="IGroupMemberGrain"/>): it records the groups it belongs to in its own <c>parents</c> state, written by
/// calls that may interleave with this grain's own work (they touch nothing else), so parent and child groups never wait
/// on each other, whatever cycles the membership graph has.
/// </summary>
[MayInterleave(nameof(MayInterleave))]
public sealed partial class GroupGrain(TimeProvider time, ClaimSettling settling, ILogger<GroupGrain> logger) : Grain, IGroupGrain, IRemindable, IIncomingGrainCallFilter
{
    private CommittedState<GroupState> _state = null!;
    private CommittedState<IdSetState> _parents = null!;
    private DeferredLoad _load = null!;

    private const int MemberCallBatch = 256;

    /// <summary>
    /// Most member changes one step applies (joins, partition writes, leaves): a change of more members is written as chunks
    /// of this size and applied one chunk per step after the request that made it, and a delete forgets this many members
    /// per step. Bounds every storage row and how long any request waits behind such work.
    /// </summary>
    public const int StepSize = 500;

    /// <summary>How many steps of earlier work a write waits for before it answers 503 (busy) instead.</summary>
    private const int StepsAWriteWaitsFor = 2;

    private const string WorkReminder = "membership-work";

    /// <summary>How long after it is registered the work reminder first ticks: well after the request that registered it.</summary>
    internal static readonly TimeSpan WorkReminderDue = TimeSpan.FromSeconds(30);
    private static readonly ResourceKind Kind = ResourceKind.Group;

    private string _tenantId = "";
    private string _groupId = "";

    // The group's attributes (no members); null when it does not exist or is being deleted.
    private JsonObject? _resource;
    private IndexClaims _claims = null!;
    private EventCommits<GroupState> _events = null!;

    // The member side: changes of the parents state (joins, leaves, a delete leaving every parent) take turns through
    // this chain, as they may interleave with each other and with this group's own calls.
    private Task _parentsTurn = Task.CompletedTask;

    // Set while a delete leaves its parents and after: no group may add this one any more.
    private bool _leavingParents;

    // Runs the steps of a large membership change or of a delete after the request that started it (one step per tick).
    private IGrainTimer? _work;

    // Whether this activation has registered the work reminder (HoldReminderAsync), been woken by it, or given up trying (its
    // timer's tick); and the reminder as it registered it (null: ask the reminder service).
    private bool _reminderHeld;
    private IGrainReminder? _reminder;

    // Whether this activation has given back a deleted group's index values and directory entry (ReleaseDeletedAsync).
    private bool _deletedReleased;

    // The wait before a failed background step is tried again.
    private static readonly TimeSpan StepRetryDelay = TimeSpan.FromSeconds(1);

    // Set once this activation has answered a delete (its events stored for good, its background steps scheduled): a DELETE
    // that comes while those steps still run is another request for a group that is gone (404, as GET answers), not the
    // retry of one whose confirmation or first step failed, which finishes that delete.
    private bool _deleteTold;

    // The version whose journal this activation has applied (joins, partitions, leaves done). The record keeps that journal
    // until its next write (Revised drops it) or this activation's deactivation: clearing it at once cost every membership
    // change a second write of the record. Were the clearing lost (a crash), the next activation replays the journal,
    // which is idempotent.
    private long _journalAppliedAt = -1;

    /// <summary>Joins and leaves of parent groups interleave: they only touch the <c>parents</c> state, in turns (<see cref="InParentsTurnAsync"/>).</summary>
    public static bool MayInterleave(IInvokable request) =>
        request.GetMethodName() is nameof(IGroupMemberGrain.JoinGroupAsync) or nameof(IGroupMemberGrain.LeaveGroupAsync);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_tenantId, _groupId) = GrainKeys.ParseResourceKey(this.GetPrimaryKeyString());
        _state = DeferredState.Of<GroupState>(GrainContext, "group");
        _parents = DeferredState.Of<IdSetState>(GrainContext, "parents");
        _load = new DeferredLoad(Resume, nameof(CreateNewAsync), _state, _parents);
        _claims = new IndexClaims(GrainFactory, Kind, _tenantId, _groupId, settling, e => LogCleanupFailed(logger, e, _tenantId, _groupId));
        _events = new EventCommits<GroupState>(this, GrainFactory, time, _tenantId, Kind.Type.Name, _groupId, _state, e => LogConfirmFailed(logger, e, _tenantId, _groupId));
        return Task.CompletedTask;
    }

    /// <summary>
    /// Clears a journal this activation applied but the record still carries, so the next activation has nothing to replay.
    /// Best effort: were this write lost, the next activation replays the journal, which changes nothing that is done.
    /// </summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_state is { Loaded: true, Failed: false } && StoresJournal && !HasJournal)
        {
            try
            {
                await _state.CommitAsync(Revised(_ => { }), this);
            }
            catch (Exception e)
            {
                LogJournalNotCleared(logger, e, _tenantId, _groupId);
            }
        }
    }

    /// <summary>
    /// Every call (reminder ticks included) runs on loaded state: the first one loads it, unless it is a create's first
    /// attempt, which takes both states as absent and so creates without a read.
    /// </summary>
    public Task Invoke(IIncomingGrainCallContext context) => _load.Invoke(context);

    /// <summary>Once the states are known: the group's attributes, its index claims, and whatever work a crash left.</summary>
    private void Resume()
    {
        if (_state.Exists && !_state.Value.Deleting && _state.Value.Json.Length > 0)
        {
            _resource = Parse(_state.Value.Json);
        }

        _claims.Load(_resource);
        if (HasJournal)
        {
            // A crash left a journaled change behind: finish it now, not only on the next call.
            this.RegisterGrainTimer(_ => SettleAsync(), TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }

        if (HasBackgroundWork)
        {
            // A large change or a delete was under way: go on with it.
            StartWork();
        }

        if (_parents.Value.Ids.Count > 0)
        {
            // Verify the recorded parents once per activation (a crash may have left one whose partition lacks this group).
            this.RegisterGrainTimer(_ => VerifyParentsAsync(), TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }

    public Task<ScimResult> CreateNewAsync(string resource) => CreateAsync(resource);

    public async Task<ScimResult> CreateAsync(string resource) =>
        ClientView.Of(await CreateCoreAsync(resource), Kind.Type);

    private async Task<ScimResult> CreateCoreAsync(string resource)
    {
        await SettleAsync();
        try
        {
            var body = Parse(resource);
            var members = MemberPatches.TakeMembers(body);
            var now = time.GetUtcNow();
            var stamped = ScimResource.Stamp(body, Kind.Type, _groupId, now, now, 1);
            if (_state.Exists)
            {
                // The gateway picks a new id before the first attempt of a POST, so only a repetition of that same request
                // (a retry after an unknown outcome) reaches an existing group with identical content: answer it as the
                // original create did. Anything else under an existing id is a conflict. A create of many members may still
                // be applying them (its first attempt failed after its commit point): they are compared once applied (busy
                // until then), not while half of them are (that answered the client's own create 409 until 2026-12-07).
                if (await WaitForEarlierChangeAsync() is { } busy)
                {
                    return busy;
                }

                var current = _resource is null ? null : await AllMembersAsync();
                return current is not null && ScimResource.SameContent(stamped, _resource!) && await HoldsRequestedMembersAsync(current, members)
                    ? ScimResult.Created(Render(_resource!, current), _state.Value.Version)
                    : ScimResult.Error(409, ScimErrorType.Uniqueness, "A resource with this id already exists.");
            }

            return await CommitAsync(stamped, attributesChanged: true, 1, created: true, members, []);
        }
        catch (ScimException e)
        {
            return ScimResult.Error(e.Status, e.ScimType, e.Message);
        }
    }

    // Whether the group holds the members a create asked for, but those that are no longer users or groups of the tenant:
    // a member deleted meanwhile (even while the create was adding it) was added, then removed by its delete, so a retry of
    // that create is still the original one (it answered the client's own create 409 until 2026-12-07).
    private async Task<bool> HoldsRequestedMembersAsync(MemberRef[] current, MemberValue[] requested)
    {
        var held = current.Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
        if (!held.IsSubsetOf(requested.Select(m => m.Id)))
        {
            return false;
        }

        // One that exists and is not a member means the group changed since the create.
        var missing = requested.Where(m => !held.Contains(m.Id)).DistinctBy(m => m.Id, StringComparer.Ordinal);
        return (await Task.WhenAll(missing.Select(m => ResolveAsync([m])))).All(r => r.Invalid is not null);
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
        return ScimResult.Ok(Render(_resource, members), _state.Value.Version);
    }

    public async Task<ScimResult> ReplaceAsync(string resource, ETagCondition? ifMatch = null) =>
        ClientView.Of(await ReplaceCoreAsync(resource, ifMatch), Kind.Type);

    private async Task<ScimResult> ReplaceCoreAsync(string resource, ETagCondition? ifMatch)
    {
        await SettleAsync();
        if (_resource is null)
        {
            return await NotFoundForWriteAsync();
        }

        if (await WaitForEarlierChangeAsync() is { } busy)
        {
            return busy;
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
            return await NotFoundForWriteAsync();
        }

        if (await WaitForEarlierChangeAsync() is { } busy)
        {
            return busy;
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
        if (_state.Exists && _state.Value.Deleting)
        {
            if (_deleteTold)
            {
                return await NotFoundForWriteAsync();
            }

            // An earlier attempt wrote the tombstone, then failed to store its events' confirmation, or its silo died before
            // it finished: this retry finishes that delete — its events stored for good — instead of telling it again.
            await _events.ConfirmLastAsync();
            await BeginDeleteAsync();
            _deleteTold = true;
            return ScimResult.NoContent();
        }

        await SettleAsync();
        if (_resource is null)
        {
            return await NotFoundForWriteAsync();
        }

        if (PreconditionFails(ifMatch))
        {
            return ScimResult.PreconditionFailed(_state.Value.Version);
        }

        // One commit, with its one event (group.deleted: its memberships, as a member and as a group, end with it and are not
        // told one by one) stored for good before the group's record can go: as a member, leave every parent group first (as a
        // deleted user does: no parent ever lists a deleted group), then the tombstone — the commit point: the group is gone
        // for every reader from here, and a crash resumes below. A large change still under way is not finished: the delete
        // drops it (its members that joined forget the group below). Keep the leaving after every check that may still
        // reject the delete.
        var version = _state.Value.Version + 1;
        var context = _events.Context(version);
        var events = ResourceEvents.OfChange(context, Kind.Type, _resource, null);
        await HoldReminderBeforeCommitAsync(() => _events.CommitAsync(context, events, async attempt =>
        {
            await LeaveAllParentsAsync();
            await _state.CommitAsync(Revised(s => (s.Version, s.Deleting, s.EventsAttempt) = (version, true, attempt)), this);

            // The commit point: the group is gone for every reader and writer from here, and holds none of its values (a
            // new group may take them), even if its events' confirmation fails below (a retried DELETE, or the reminder,
            // finishes it).
            _resource = null;
            _claims.Load(null);
        }, durable: true), committed: () => _resource is null);
        await BeginDeleteAsync();
        _deleteTold = true;
        return ScimResult.NoContent();
    }

    public async Task<string?> DescribeMemberAsync(string memberId)
    {
        if (_resource?["displayName"] is not JsonValue nameValue || !nameValue.TryGetValue<string>(out var name))
        {
            return null;
        }

        // A journaled change is committed: answer as if it were done.
        if (HasJournal && _state.Value.PendingRemove.Contains(memberId))
        {
            return null;
        }

        if (HasJournal && _state.Value.PendingAdd.Contains(memberId))
        {
            return name;
        }

        return await IsListedAsync(memberId) ? name : null;
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

        if (!_parents.Value.Ids.Contains(groupId))
        {
            await _parents.CommitAsync(new IdSetState { Ids = [.. _parents.Value.Ids, groupId] }, this);
        }

        return true;
    });

    public Task LeaveGroupAsync(string groupId) => InParentsTurnAsync(async () =>
    {
        if (_parents.Value.Ids.Contains(groupId))
        {
            var rest = _parents.Value.Ids.Where(id => id != groupId).ToHashSet(StringComparer.Ordinal);
            await _parents.CommitAsync(new IdSetState { Ids = rest }, this, clear: rest.Count == 0);
        }

        return true;
    });

    public Task<bool> IsJoinedAsync(string groupId) =>
        Task.FromResult(_resource is not null && !_leavingParents && _parents.Value.Ids.Contains(groupId));

    public Task<string[]> GetGroupIdsAsync() => Task.FromResult(_parents.Value.Ids.Order(StringComparer.Ordinal).ToArray());

    public async Task MemberDeletedAsync(string memberId)
    {
        await SettleAsync();
        if (_resource is null)
        {
            return;
        }

        // Attributes unchanged, members changed: a new version (and lastModified) in one write of the group record.
        var version = _state.Value.Version + 1;
        var stamped = ScimResource.Stamp((JsonObject)_resource.DeepClone(), Kind.Type, _groupId, ScimResource.CreatedOf(_resource), time.GetUtcNow(), version);
        await _state.CommitAsync(Revised(s => (s.Json, s.Version) = (ScimSerializer.Serialize(stamped), version)), this);
        _resource = stamped;
    }

    public Task<bool> OwnsIndexValueAsync(string indexName, string valueHash) => _claims.OwnsAsync(indexName, valueHash);

    public async Task HaltAsync()
    {
        // Offboarding: the tenant is being erased. Nothing may resume this group's work, so its own rows go (an activation
        // with nothing stored starts no work) along with the timer and the reminder, and first the rows only they lead to: its
        // change chunks, index entries and member partitions. Members' own rows are erased by the sweep.
        (_resource, _leavingParents) = (null, true);
        _work?.Dispose();
        _work = null;
        if (await this.GetReminder(WorkReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }

        (_reminderHeld, _reminder) = (false, null);
        if (_state.Value.Change is { } change)
        {
            await DropChunksAsync(change.Chunks);
        }

        var held = _claims.Held;
        _claims.Load(null);
        await _claims.ReleaseAsync(held);
        await Task.WhenAll(PartitionsWithRows.Select(p => Partition(p).ClearAsync()));
        if (_state.Exists)
        {
            await _state.CommitAsync(new GroupState(), this, clear: true);
        }

        await InParentsTurnAsync(async () =>
        {
            if (_parents.Exists)
            {
                await _parents.CommitAsync(new IdSetState(), this, clear: true);
            }

            return true;
        });
        LogHalted(logger, _tenantId, _groupId);
        DeactivateOnIdle();
    }

    public Task<EventResolution> ResolveEventsAsync(long version, int step, long from) => _events.ResolveAsync(version, step, from);

    public async Task ReconcileAsync(string? indexName, string? valueHash)
    {
        await SettleAsync();
        if (await _claims.ReconcileAsync(_resource is not null, indexName, valueHash))
        {
            LogReconciled(logger, _tenantId, _groupId, indexName!);
        }
    }

    // The record carries a journal (applied or not).
    private bool StoresJournal => _state.Value.PendingAdd.Count > 0 || _state.Value.PendingRemove.Count > 0;

    // The record carries a journal this activation has not applied yet: every non-interleaved call replays it first.
    private bool HasJournal => StoresJournal && _journalAppliedAt != _state.Value.Version;

    private bool HasBackgroundWork => _state.Value.Deleting || _state.Value.Change is not null;

    private bool PreconditionFails(ETagCondition? ifMatch) => ifMatch is not null && !ifMatch.Matches(_state.Value.Version);

    // Against the stored resource, a failed precondition wins over an error the request meets there (a PATCH applied to a
    // version the client has not seen may fail only because it is stale: 412 tells it to read again). Errors found without
    // the stored resource (a body the gateway refuses) come first, as RFC 7232 §5 orders them (docs/architecture.md).
    private ScimResult Failed(ScimException e, ETagCondition? ifMatch) =>
        PreconditionFails(ifMatch) ? ScimResult.PreconditionFailed(_state.Value.Version) : ScimResult.Error(e);

    private async Task<ScimResult> UpdateAsync(JsonObject updated, MemberRef[] before, MemberValue[] after, ETagCondition? ifMatch)
    {
        // The precondition comes first (see UserGrain.UpdateAsync: no answer may depend on hidden values).
        if (PreconditionFails(ifMatch))
        {
            return ScimResult.PreconditionFailed(_state.Value.Version);
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
        var version = _state.Value.Version + 1;
        var stamped = ScimResource.Stamp(updated, Kind.Type, _groupId, ScimResource.CreatedOf(current), time.GetUtcNow(), version);
        var attributesChanged = !ScimResource.SameContent(stamped, current);

        // A request the group already reflects writes nothing, once storage agrees.
        if (!attributesChanged && adds.Length == 0 && removes.Length == 0)
        {
            await EnsureCurrentAsync();
            return ScimResult.Ok(_state.Value.Json, _state.Value.Version);
        }

        return await CommitAsync(stamped, attributesChanged, version, created: false, adds, removes);
    }

    // attributes: the group's attributes stamped with the new version (unchanged apart from meta when only members change).
    // Every change of the group, members included, writes the group record with the new version; a change of members
    // carries them as a journal, dropped by a later write once applied.
    private async Task<ScimResult> CommitAsync(JsonObject attributes, bool attributesChanged, long version, bool created, MemberValue[] newMembers, MemberRef[] removes)
    {
        if (attributesChanged && ScimResource.CheckSize(ScimSerializer.Serialize(attributes), created ? null : _state.Value.Json, Kind.Type) is { } tooLarge)
        {
            return ScimResult.Error(tooLarge);
        }

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

            if (adds.Length + removes.Length > StepSize)
            {
                return await CommitLargeChangeAsync(attributes, attributesChanged ? newHashes : null, oldHashes, version, created, adds, removes);
            }

            // 2. New members record the group (a member deleted meanwhile is skipped: added, then removed by its delete).
            var joined = await JoinAsync(adds);

            // Every member to add was deleted meanwhile and none is removed: nothing changes, once storage agrees.
            if (!attributesChanged && joined.Length == 0 && removes.Length == 0)
            {
                await EnsureCurrentAsync();
                return ScimResult.Ok(_state.Value.Json, _state.Value.Version);
            }

            // 3. The group's write with its new version — with every member change in it as a journal — and the change's
            // events around it. This write is the commit point: its events count from here, so the partition writes after
            // it must happen even if this process dies now (the journal's replay does them); without the journal a crash
            // in between would announce a member the partitions never listed, and the client's retry would announce it again.
            var journal = joined.Length + removes.Length > 0;
            var context = _events.Context(version);
            var events = ChangeEvents(context, created, attributesChanged, attributes, joined, removes);
            var (partitions, fresh) = PartitionsAfter(created, joined.Concat(removes));
            var stamps = StampsAfter(created, joined.Concat(removes), Stamp(version, 0));
            await _events.CommitAsync(context, events, attempt => _state.CommitAsync(
                new GroupState
                {
                    Json = ScimSerializer.Serialize(attributes),
                    Version = version,
                    PendingAdd = journal ? [.. joined.Select(m => m.Id)] : [],
                    PendingRemove = journal ? [.. removes.Select(m => m.Id)] : [],
                    PendingGroups = journal ? GroupIdsOf(joined.Concat(removes)) : null,
                    EventsAttempt = attempt,
                    Partitions = partitions,
                    PartitionStamps = stamps,
                },
                this));
            _resource = attributes;
            _claims.Commit(attributesChanged ? newHashes : null);

            // 4.–5. Partitions (those written for the first time without a read), members that left, journal done (cleared
            // by the record's next write), old index values.
            await ApplyMembersAsync(joined, removes, fresh);
            JournalApplied();
            await _claims.ReleaseAsync(oldHashes);
            return created
                ? ScimResult.Created(Render(_resource!, joined), version)
                : ScimResult.Ok(_state.Value.Json, _state.Value.Version);
        }
        finally
        {
            // Failed before the write: give back what was claimed (stale claims are also repaired lazily).
            await _claims.AbandonAsync(created, _resource is not null, _state.Failed);
        }
    }

    /// <summary>
    /// A change of more than <see cref="StepSize"/> members (a PUT or <c>replace members</c> of a large group, thousands of
    /// members added at once). Its members go into chunk rows of at most <see cref="StepSize"/> members, written before the
    /// group; the group's write carrying <see cref="GroupChangeState"/> is the commit point; then the chunks are applied one
    /// step each — joins, partitions, leaves, the group's progress — the first in this request, the others by the work
    /// timer, so no request waits on more than a step and no row outgrows its limit. Reads between steps see the members
    /// applied so far, agreeing both ways (a chunk's members record the group before its partitions list them and forget
    /// it after); a crash resumes at the first chunk not recorded as applied (every step is idempotent).
    /// </summary>
    private async Task<ScimResult> CommitLargeChangeAsync(
        JsonObject attributes, Dictionary<string, string[]>? newHashes, Dictionary<string, string[]> oldHashes, long version, bool created, MemberRef[] adds, MemberRef[] removes)
    {
        // Chunks grouped by partition, so a step writes few partitions.
        var changes = adds.Select(m => (Member: m, Add: true)).Concat(removes.Select(m => (Member: m, Add: false)))
            .OrderBy(c => GrainKeys.GroupMemberPartitionOf(c.Member.Id)).ThenBy(c => c.Member.Id, StringComparer.Ordinal)
            .Chunk(StepSize)
            .Select(chunk => new GroupChangeChunk(version, [.. chunk.Where(c => c.Add).Select(c => c.Member)], [.. chunk.Where(c => !c.Add).Select(c => c.Member)]))
            .ToArray();
        foreach (var batch in changes.Select((chunk, i) => (Chunk: chunk, Index: i)).Chunk(16))
        {
            await Task.WhenAll(batch.Select(c => ChangeChunk(c.Index).WriteAsync(c.Chunk)));
        }

        // The commit point carries the attribute events; each step then carries the member events of its chunk.
        var context = _events.Context(version);
        var events = ChangeEvents(context, created, attributesChanged: newHashes is not null, attributes, [], []);
        await HoldReminderBeforeCommitAsync(() => _events.CommitAsync(context, events, attempt => _state.CommitAsync(
            new GroupState
            {
                Json = ScimSerializer.Serialize(attributes),
                Version = version,
                Change = new GroupChangeState { Version = version, Chunks = changes.Length },
                EventsAttempt = attempt,
                Partitions = PartitionsAfter(created, adds.Concat(removes)).Partitions,
                PartitionStamps = StampsAfter(created, [], 0),
            },
            this)), committed: () => _state.Value.Change?.Version == version);
        _resource = attributes;
        _claims.Commit(newHashes);
        await _claims.ReleaseAsync(oldHashes);

        await StepAndScheduleAsync(StepAsync);

        // A create answers with every member it was given: all are committed, and appear as the steps are applied.
        return created
            ? ScimResult.Created(Render(_resource!, adds), version)
            : ScimResult.Ok(_state.Value.Json, _state.Value.Version);
    }

    /// <summary>
    /// Before a write: lets a large change still under way advance by at most <see cref="StepsAWriteWaitsFor"/> steps; if it is
    /// not done by then, the write is answered 503 (busy: retry later) and changes nothing. Null when the write may go on.
    /// </summary>
    private async Task<ScimResult?> WaitForEarlierChangeAsync()
    {
        for (var i = 0; i < StepsAWriteWaitsFor && _state.Value.Change is not null; i++)
        {
            await StepAsync();
        }

        return _state.Value.Change is null
            ? null
            : ScimResult.Error(503, null, "The group is still applying an earlier change to many members. Retry later.");
    }

    /// <summary>
    /// One step of the work a large change or a delete leaves after its request: the next chunk of the change, or (deleting)
    /// the next members to forget the group. Each step is bounded by <see cref="StepSize"/> members and idempotent.
    /// </summary>
    private async Task StepAsync()
    {
        if (_state.Value.Deleting)
        {
            await DeleteStepAsync();
        }
        else if (_state.Value.Change is { } change)
        {
            // Step i of the change is commit step i + 1 (step 0 was the change itself).
            var next = change.Next + 1;
            var stamp = Stamp(change.Version, next);
            var chunk = await ChangeChunk(change.Next).ReadAsync();
            MemberRef[] joined = [], removed = [];
            if (chunk is not null && chunk.Version == change.Version)
            {
                joined = await JoinAsync(chunk.Add);
                removed = chunk.Remove;
                await ApplyMembersAsync(joined, removed, stamp: stamp);
            }

            // The step's progress is its commit point: from here readers ask its partitions for its stamp.
            var context = _events.Context(change.Version, next);
            var events = ChangeEvents(context, false, false, _resource!, joined, removed);
            await _events.CommitAsync(context, events, attempt => _state.CommitAsync(
                Revised(s =>
                {
                    s.Change = next < change.Chunks ? new GroupChangeState { Version = change.Version, Chunks = change.Chunks, Next = next } : null;
                    s.EventsAttempt = attempt;
                    s.PartitionStamps = StampsAfter(false, joined.Concat(removed), stamp);
                }),
                this));
            if (next >= change.Chunks)
            {
                await DropChunksAsync(change.Chunks);
            }
        }
    }

    private async Task DropChunksAsync(int count)
    {
        foreach (var batch in Enumerable.Range(0, count).Chunk(16))
        {
            await Task.WhenAll(batch.Select(i => _claims.BestEffortAsync(() => ChangeChunk(i).ClearAsync())));
        }
    }

    /// <summary>
    /// After a commit point that leaves background work: the first step in the request, then the remaining steps after it — a
    /// timer now, and a reminder in case this silo goes down first — even when that first step fails (a member's storage
    /// down): the change is committed and must go on. Until 2026-12-07 a failed first step scheduled nothing, and the change
    /// advanced only as later writes of the group waited for it.
    /// </summary>
    private async Task StepAndScheduleAsync(Func<Task> firstStep)
    {
        try
        {
            await firstStep();
        }
        finally
        {
            if (HasBackgroundWork)
            {
                // After a failed write of this group's own record the activation is being replaced: it starts nothing, and
                // the reminder has the next activation resume the work.
                if (!_state.Failed)
                {
                    StartWork();
                }

                await HoldReminderAsync();
            }
        }
    }

    /// <summary>
    /// Around a commit point that leaves background work (a delete, a large change): the reminder that resumes the work is
    /// registered first, as a user's delete does, so that a failure right after the commit (its events' durable
    /// confirmation, the first step's call) or a crash finds it there, whether or not the client retries or anyone touches
    /// the group. A reminder service that cannot register fails the request before anything changed. A commit that fails
    /// before its point (<paramref name="committed"/> false, and not in the record's own write, which may have landed)
    /// leaves nothing to resume: the reminder is dropped.
    /// </summary>
    private async Task HoldReminderBeforeCommitAsync(Func<Task> commit, Func<bool> committed)
    {
        await HoldReminderAsync(whateverHeld: true); // its timer may have given up registering one
        try
        {
            await commit();
        }
        catch when (!committed() && !_state.Failed)
        {
            if (!HasBackgroundWork)
            {
                await DropReminderAsync(); // else the reminder is a large change's, still under way
            }

            throw;
        }
    }

    // Best effort: a reminder left behind finds no work at its tick and removes itself (ReceiveReminder). An activation that
    // resumed work a crash left without being woken by the reminder does not know of it: it is left to that tick.
    private async Task DropReminderAsync()
    {
        if (!_reminderHeld)
        {
            return;
        }

        try
        {
            if ((_reminder ?? await this.GetReminder(WorkReminder)) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }

            (_reminderHeld, _reminder) = (false, null);
        }
        catch (Exception e)
        {
            LogCleanupFailed(logger, e, _tenantId, _groupId);
        }
    }

    // The reminder that resumes the work after a crash, registered once per activation that has work (an activation that
    // resumed work a crash left registers it again: the crash may have come before the first registration).
    private async Task HoldReminderAsync(bool whateverHeld = false)
    {
        if (whateverHeld || !_reminderHeld)
        {
            _reminder = await this.RegisterOrUpdateReminder(WorkReminder, WorkReminderDue, TimeSpan.FromMinutes(1));
            _reminderHeld = true;
        }
    }

    private void StartWork() =>
        _work ??= this.RegisterGrainTimer(
            async cancellation =>
            {
                if (HasBackgroundWork)
                {
                    try
                    {
                        await StepAsync();
                    }
                    catch (Exception e)
                    {
                        // A step that fails (a member's storage down) is tried again a second later, not at the timer's
                        // millisecond pace: that hammered the failing grains and flooded the logs. After a failed write of
                        // this group's own record the activation is replaced, and the reminder resumes the work.
                        LogStepFailed(logger, e, _tenantId, _groupId);
                        _work?.Change(_state.Failed ? Timeout.InfiniteTimeSpan : StepRetryDelay, TimeSpan.FromMilliseconds(1));
                        return;
                    }
                }

                if (HasBackgroundWork)
                {
                    // Work resumed after a crash may have come before its reminder: hold it (a reminder outage delays only
                    // this, never the steps).
                    try
                    {
                        await HoldReminderAsync();
                    }
                    catch (Exception e)
                    {
                        // Not tried again by this activation (the timer ticks every millisecond): its steps go on, and only
                        // a crash before they end waits for the group's next call.
                        LogStepFailed(logger, e, _tenantId, _groupId);
                        _reminderHeld = true;
                    }
                }
                else
                {
                    _work?.Dispose();
                    _work = null;
                    await DropReminderAsync();
                }
            },
            new GrainTimerCreationOptions(TimeSpan.Zero, TimeSpan.FromMilliseconds(1)) { KeepAlive = true });

    /// <summary>The reminder only wakes the grain (after a crash) so that its activation resumes the work.</summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        await _load.EnsureLoadedAsync(); // a no-op once loaded: a tick must never judge unread state
        if (HasBackgroundWork)
        {
            _reminderHeld = true; // it exists (it just fired): dropped when the work is done
            StartWork();
        }
        else if (await this.GetReminder(reminderName) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
            (_reminderHeld, _reminder) = (false, null);
        }
    }

    /// <summary>
    /// Before any other call: finishes what a crash left of a journaled membership change, or takes one step of a delete
    /// (bounded either way: at most <see cref="StepSize"/> members; a small group's delete is finished by it).
    /// </summary>
    private async Task SettleAsync()
    {
        if (_state.Value.Deleting)
        {
            await DeleteStepAsync();
            return;
        }

        if (!HasJournal)
        {
            return;
        }

        // First rewrite the record as it is (a write checked against its ETag): a second activation of this group that
        // loaded an older record (a silo declared dead while still running) fails here instead of replaying a change that a
        // later one, committed by the other activation, has superseded.
        LogReplayed(logger, _tenantId, _groupId);
        await _state.CommitAsync(Revised(_ => { }), this);
        var groups = _state.Value.PendingGroups ?? [];
        MemberRef Journaled(string id) => new(id, groups.Contains(id) ? MemberKind.Group : MemberKind.User);
        var joined = await JoinAsync([.. _state.Value.PendingAdd.Select(Journaled)]);
        await ApplyMembersAsync(joined, [.. _state.Value.PendingRemove.Select(Journaled)]);
        JournalApplied();
    }

    private void JournalApplied() => _journalAppliedAt = _state.Value.Version;

    /// <summary>
    /// After the tombstone: releases the group's index values and directory entry, then makes every member forget the group
    /// and empties the partitions — in this request when that is one step's worth of members, else in steps of
    /// <see cref="StepSize"/> by the work timer (the group answers 404 meanwhile, and its members' reads no longer show it).
    /// </summary>
    private Task BeginDeleteAsync() => StepAndScheduleAsync(DeleteStepAsync);

    // Once per activation, before its first step of a delete: however the delete goes on (the request, a retried DELETE, the
    // work timer after a crash or a failed confirmation, another call's settling), the group's index values and directory
    // entry are given back before its tombstone can go. Idempotent: an entry releases only this group's id.
    private async Task ReleaseDeletedAsync()
    {
        if (_deletedReleased)
        {
            return;
        }

        var old = ResourceIndexing.HashesOf(Kind, _state.Value.Json.Length > 0 ? Parse(_state.Value.Json) : null);
        _claims.Load(null);
        await _claims.ReleaseAsync(old);
        await _claims.LeaveDirectoryAsync();
        _deletedReleased = true;
    }

    /// <summary>
    /// One step of a delete: first drops a large change that was under way (members of its next chunk may have joined: they
    /// forget the group); then up to <see cref="StepSize"/> members forget the group and leave their partitions; once every
    /// partition is empty, the tombstone goes. Each step is idempotent, so a crash repeats at most one.
    /// </summary>
    private async Task DeleteStepAsync()
    {
        await ReleaseDeletedAsync();
        if (_state.Value.Change is { } change)
        {
            var chunk = await ChangeChunk(change.Next).ReadAsync();
            if (chunk is not null && chunk.Version == change.Version)
            {
                await InBatchesAsync(chunk.Add, async m =>
                {
                    await Member(m).LeaveGroupAsync(_groupId);
                    return true;
                });
            }

            await DropChunksAsync(change.Chunks);
            await _state.CommitAsync(Revised(s => s.Change = null), this);
            return;
        }

        // Every member forgets the group before it leaves its partition (a crash in between repeats this, idempotently). Each
        // partition lists at most a step's worth and one more (enough to tell whether members are left beyond this step), so
        // a step reads a bounded number of members, not every member the group still has.
        var partitions = await Task.WhenAll(PartitionsWithRows.Select(async p => (Index: p, Members: await Partition(p).ListMembersAsync(StampOf(p), StepSize + 1))));
        var batch = partitions.SelectMany(p => p.Members.Select(m => (Partition: p.Index, Member: m))).Take(StepSize).ToArray();
        await InBatchesAsync(batch, async x =>
        {
            await Member(x.Member).LeaveGroupAsync(_groupId);
            return true;
        });
        await Task.WhenAll(batch.GroupBy(x => x.Partition).Select(g => Partition(g.Key).ApplyMembersAsync([], [.. g.Select(x => x.Member.Id)])));
        if (partitions.Sum(p => p.Members.Length) <= batch.Length)
        {
            // Rows that the group's changes emptied keep their stamps (GroupMembersGrain): they go with the group. The
            // delete's events are stored for good before the tombstone goes: once it is gone, the log could no longer learn
            // from it that the delete was committed (a delete whose confirmation failed, or whose silo died, finishing here).
            await Task.WhenAll(partitions.Select(p => Partition(p.Index).ClearAsync()));
            await _events.ConfirmLastAsync();
            await _state.CommitAsync(new GroupState(), this, clear: true);
            await DropReminderAsync(); // however the delete was finished: the request, a retry, the timer, another call's settling
            DeactivateOnIdle();
        }
    }

    private async Task<MemberRef[]> JoinAsync(MemberRef[] members)
    {
        var joined = await InBatchesAsync(members, m => Member(m).JoinGroupAsync(_groupId));
        return [.. members.Where((_, i) => joined[i])];
    }

    // fresh: the partitions known to have no row (their bits were clear before this change's commit): written without a
    // read, and only their adds matter (nobody is a member there to remove). stamp: the commit applied, when the record does
    // not say it yet (a large change's step); by default each partition's stamp in the record.
    private async Task ApplyMembersAsync(MemberRef[] adds, MemberRef[] removes, ulong fresh = 0, long? stamp = null)
    {
        var changes = adds.Select(m => (Member: m, Add: true)).Concat(removes.Select(m => (Member: m, Add: false)))
            .GroupBy(c => GrainKeys.GroupMemberPartitionOf(c.Member.Id));
        await Task.WhenAll(changes.Select(c => IsSet(fresh, c.Key)
            ? Partition(c.Key).AddToNewAsync([.. c.Where(x => x.Add).Select(x => x.Member)], stamp ?? StampOf(c.Key))
            : Partition(c.Key).ApplyMembersAsync([.. c.Where(x => x.Add).Select(x => x.Member)], [.. c.Where(x => !x.Add).Select(x => x.Member.Id)], stamp ?? StampOf(c.Key))));

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
        // Batch by batch, stopping at the first member that is neither: a request naming thousands of made-up ids activates
        // (and reads) the grains of one batch, not of every id it names.
        var resolved = new List<MemberRef>(members.Length);
        foreach (var batch in members.Chunk(MemberCallBatch))
        {
            var isUser = await Task.WhenAll(batch.Select(m => m.StatedKind == MemberKind.Group
                ? Task.FromResult(false)
                : Member(new MemberRef(m.Id, MemberKind.User)).ExistsAsync()));
            var asGroup = batch.Where((m, i) => !isUser[i] && m.StatedKind != MemberKind.User).ToArray();
            if (asGroup.Any(m => m.Id == _groupId))
            {
                return ([], "A group cannot be a member of itself.");
            }

            var groupExists = await Task.WhenAll(asGroup.Select(m => Member(new MemberRef(m.Id, MemberKind.Group)).ExistsAsync()));
            var groups = asGroup.Where((_, i) => groupExists[i]).Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
            for (var i = 0; i < batch.Length; i++)
            {
                var m = batch[i];
                if (isUser[i])
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
                        MemberKind.User => $"Member {ScimText.Quoted(m.Id)} is not a user of this tenant.",
                        MemberKind.Group => $"Member {ScimText.Quoted(m.Id)} is not a group of this tenant.",
                        _ => $"Member {ScimText.Quoted(m.Id)} is not a user or group of this tenant.",
                    });
                }
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
        if (_resource is not null && await IsListedAsync(member.Id))
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
        var recorded = _parents.Value.Ids.Order(StringComparer.Ordinal).ToArray();
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
        if (_parents.Value.Ids.Count == 0)
        {
            return true;
        }

        try
        {
            var parents = _parents.Value.Ids.ToArray();
            try
            {
                await Task.WhenAll(parents.Select(p => GrainFactory
                    .Grain<IGroupMembersGrain>(GrainKeys.GroupMembers(_tenantId, p, GrainKeys.GroupMemberPartitionOf(_groupId)))
                    .ApplyAsync([], [_groupId])));
            }
            finally
            {
                // Each parent's membership changed: it takes a new version (one-way, as for a deleted user), also when a
                // removal failed (it may have landed, and others did): a parent's ETag must not answer for a member list it
                // no longer has.
                await Task.WhenAll(parents.Select(p => Parent(p).MemberDeletedAsync(_groupId)));
            }

            await _parents.CommitAsync(new IdSetState(), this, clear: true);
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
        var partitions = await Task.WhenAll(PartitionsWithRows.Select(p => Partition(p).ListMembersAsync(StampOf(p))));
        return [.. partitions.SelectMany(p => p)];
    }

    private async Task<MemberRef[]> MembersAmongAsync(IEnumerable<string> ids)
    {
        var found = await Task.WhenAll(ids.Where(GrainKeys.IsValidId).Distinct(StringComparer.Ordinal)
            .GroupBy(GrainKeys.GroupMemberPartitionOf)
            .Where(g => MayHaveRow(g.Key))
            .Select(g => Partition(g.Key).FindAsync([.. g], StampOf(g.Key))));
        return [.. found.SelectMany(f => f)];
    }

    /// <summary>The events of a change: the group's (created, or updated when its attributes changed), then one per member added and removed.</summary>
    private List<ScimEvent> ChangeEvents(EventContext context, bool created, bool attributesChanged, JsonObject attributes, MemberRef[] added, MemberRef[] removed)
    {
        var events = created || attributesChanged ? ResourceEvents.OfChange(context, Kind.Type, created ? null : _resource, attributes) : [];
        events.AddRange(ResourceEvents.OfMembers(context, _groupId, added, added: true));
        events.AddRange(ResourceEvents.OfMembers(context, _groupId, removed, added: false));
        return events;
    }

    // The group's committed record with a change applied (every field carried over unless the change sets it; a journal
    // already applied is dropped).
    private GroupState Revised(Action<GroupState> change)
    {
        var c = _state.Value;
        var journal = HasJournal;
        var next = new GroupState
        {
            Json = c.Json,
            Version = c.Version,
            Deleting = c.Deleting,
            PendingAdd = journal ? [.. c.PendingAdd] : [],
            PendingRemove = journal ? [.. c.PendingRemove] : [],
            PendingGroups = journal && c.PendingGroups is not null ? [.. c.PendingGroups] : null,
            Change = c.Change,
            EventsAttempt = c.EventsAttempt,
            Partitions = c.Partitions,
            PartitionStamps = c.PartitionStamps is null ? null : new(c.PartitionStamps),
        };
        change(next);
        return next;
    }

    /// <summary>
    /// The partition bits of the record that commits a change touching <paramref name="members"/>, and which of those
    /// partitions have no row yet (so are written without a read). A new group starts with none; a group stored before the
    /// bits existed keeps them unknown (null: every partition may have a row, none is fresh).
    /// </summary>
    private (ulong? Partitions, ulong Fresh) PartitionsAfter(bool created, IEnumerable<MemberRef> members)
    {
        var touched = members.Aggregate(0UL, (bits, m) => bits | Bit(GrainKeys.GroupMemberPartitionOf(m.Id)));
        ulong? before = created ? 0 : _state.Value.Partitions;
        return before is { } known ? (known | touched, touched & ~known) : (null, 0);
    }

    /// <summary>
    /// The stamp of a commit (GroupState.PartitionStamps): its version, then its step (a large change's steps), in one number
    /// that orders commits as they happen.
    /// </summary>
    private static long Stamp(long version, int step) => (version << 20) | (uint)step;

    // The stamp of the last commit that changed the partition's members, as the record says (0: not recorded).
    private long StampOf(int partition) => _state.Value.PartitionStamps?.GetValueOrDefault(partition) ?? 0;

    // The partition stamps of the record that commits a change touching members at stamp.
    private Dictionary<int, long>? StampsAfter(bool created, IEnumerable<MemberRef> members, long stamp)
    {
        var stamps = created || _state.Value.PartitionStamps is null ? [] : new Dictionary<int, long>(_state.Value.PartitionStamps);
        foreach (var member in members)
        {
            stamps[GrainKeys.GroupMemberPartitionOf(member.Id)] = stamp;
        }

        return stamps.Count > 0 ? stamps : null;
    }

    // The partitions that may have a row: all of them when the record does not say (stored before the bits existed).
    private IEnumerable<int> PartitionsWithRows => Enumerable.Range(0, GrainKeys.GroupMemberPartitions).Where(MayHaveRow);

    private bool MayHaveRow(int partition) => _state.Value.Partitions is not { } bits || IsSet(bits, partition);

    // Whether the member's partition lists it (a partition without a row lists nobody, and is not asked). While the record
    // holds a journal this activation has not applied (DescribeMember interleaves between the record's write and the
    // partitions'), the partitions are behind the record's stamps by design: they are asked without one.
    private async Task<bool> IsListedAsync(string memberId)
    {
        var partition = GrainKeys.GroupMemberPartitionOf(memberId);
        return MayHaveRow(partition) && (await Partition(partition).ContainsAsync([memberId], HasJournal ? 0 : StampOf(partition))).Length > 0;
    }

    private static ulong Bit(int partition) => 1UL << partition;

    private static bool IsSet(ulong bits, int partition) => (bits & Bit(partition)) != 0;

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

    // A write that finds no group answers 404 once storage agrees (EnsureCurrentAsync): this activation may predate the create.
    private async Task<ScimResult> NotFoundForWriteAsync()
    {
        await EnsureCurrentAsync();
        return NotFound();
    }

    // A write that stores nothing is checked against storage (ResourceStates.EnsureCurrentAsync); its member partitions
    // are checked by their stamps.
    private Task EnsureCurrentAsync() => _state.EnsureCurrentAsync(this, $"Group {_groupId}");

    private IGroupMemberGrain Member(MemberRef member) => member.Grain(GrainFactory, _tenantId);

    private IGroupGrain Parent(string groupId) => GrainFactory.Grain<IGroupGrain>(GrainKeys.Group(_tenantId, groupId));

    private IGroupMembersGrain Partition(string memberId) => Partition(GrainKeys.GroupMemberPartitionOf(memberId));

    private IGroupMembersGrain Partition(int partition) =>
        GrainFactory.Grain<IGroupMembersGrain>(GrainKeys.GroupMembers(_tenantId, _groupId, partition));

    private IGroupChangeChunkGrain ChangeChunk(int index) =>
        GrainFactory.Grain<IGroupChangeChunkGrain>(GrainKeys.GroupChangeChunk(_tenantId, _groupId, index));


    [LoggerMessage(1101, LogLevel.Information, "Tenant {TenantId}: group {GroupId} lost a uniqueness claim on {IndexName} to {HolderId}.")]
    private static partial void LogUniquenessConflict(ILogger logger, string tenantId, string groupId, string indexName, string holderId);

    [LoggerMessage(1102, LogLevel.Warning, "Tenant {TenantId}: group {GroupId} repaired a stale {IndexName} index entry.")]
    private static partial void LogReconciled(ILogger logger, string tenantId, string groupId, string indexName);

    [LoggerMessage(1103, LogLevel.Warning, "Tenant {TenantId}: cleanup for group {GroupId} failed; it will be repaired later.")]
    private static partial void LogCleanupFailed(ILogger logger, Exception exception, string tenantId, string groupId);

    [LoggerMessage(1106, LogLevel.Warning, "Tenant {TenantId}: confirming the events of group {GroupId} failed; the event log will resolve them by asking.")]
    private static partial void LogConfirmFailed(ILogger logger, Exception exception, string tenantId, string groupId);

    [LoggerMessage(1104, LogLevel.Warning, "Tenant {TenantId}: group {GroupId} replayed the membership change its record still held (a crash interrupted the change or the clearing of its journal).")]
    private static partial void LogReplayed(ILogger logger, string tenantId, string groupId);

    [LoggerMessage(1108, LogLevel.Warning, "Tenant {TenantId}: group {GroupId} could not clear its finished membership journal on deactivation; the next activation replays it.")]
    private static partial void LogJournalNotCleared(ILogger logger, Exception exception, string tenantId, string groupId);

    [LoggerMessage(1105, LogLevel.Warning, "Tenant {TenantId}: group {GroupId} repaired the group list of member {MemberId}.")]
    private static partial void LogMemberRepaired(ILogger logger, string tenantId, string groupId, string memberId);

    [LoggerMessage(1109, LogLevel.Warning, "Tenant {TenantId}: a background step of group {GroupId} failed; it is tried again.")]
    private static partial void LogStepFailed(ILogger logger, Exception exception, string tenantId, string groupId);

    [LoggerMessage(1107, LogLevel.Information, "Tenant {TenantId}: group {GroupId} halted for the tenant's offboarding.")]
    private static partial void LogHalted(ILogger logger, string tenantId, string groupId);
}
