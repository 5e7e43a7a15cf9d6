using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Grains.Events;
using Cluster.Grains.Indexes;
using Cluster.Grains.State;
using Cluster.Scim;
using Cluster.Scim.Errors;
using Cluster.Scim.Patching;
using Cluster.Scim.Resources;
using Cluster.Scim.Schema;

namespace Cluster.Grains.Users;

/// <summary>
/// One user. Its state is the source of truth; the tenant's index entries and directory are kept in step in an
/// order that makes every crash repairable:
/// <list type="number">
/// <item>claim the new index values (a unique claim that loses answers 409 and nothing else changes),</item>
/// <item>write the user,</item>
/// <item>release the old values.</item>
/// </list>
/// A crash after (1) leaves an entry pointing at a user that does not hold the value: lookups check every
/// candidate against the user, and <see cref="ReconcileAsync"/> removes such entries. A crash after (2) leaves an
/// old entry behind, handled the same way. No order can leave a stored user without its index entries.
/// <para>
/// Its two states (the user, its recorded groups) are deferred: read before the first call runs, in parallel, except when
/// that call is <see cref="CreateNewAsync"/> — a create's first attempt under a new id — which takes both as absent and so
/// creates the user without a read (docs/architecture.md, "Storage operations per create").
/// </para>
/// </summary>
public sealed partial class UserGrain(TimeProvider time, ClaimSettling settling, ILogger<UserGrain> logger) : Grain, IUserGrain, IIncomingGrainCallFilter, IRemindable
{
    // Held from the start of a delete until it is done: a delete interrupted after its tombstone (the commit point) is
    // finished by its tick, whether or not the client repeats the DELETE.
    private const string FinishDeleteReminder = "finish-delete";

    private CommittedState<ResourceState> _state = null!;
    private CommittedState<IdSetState> _memberships = null!;
    private DeferredLoad _load = null!;

    private static ResourceTypeDefinition ResourceType => ScimSchemas.UserResource;

    private string _tenantId = "";
    private string _userId = "";
    // True while a user is stored (not a tombstone). Its JSON is parsed when a write needs it, never kept parsed: a parsed
    // tree costs several times its text, for every active user (docs/architecture.md, "Memory per active user").
    private bool _live;
    private IndexClaims _claims = null!;
    private EventCommits<ResourceState> _events = null!;

    // Set while a delete removes the user from its groups: no group may add it any more.
    private bool _deleting;

    // Offboarding stopped this activation (HaltAsync): a tick that reaches it does nothing (one that reaches a later
    // activation may still finish a tombstone, before the sweep; the verifying pass catches anything written after it).
    private bool _halted;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_tenantId, _userId) = GrainKeys.ParseResourceKey(this.GetPrimaryKeyString());
        _state = DeferredState.Of<ResourceState>(GrainContext, "user");
        _memberships = DeferredState.Of<IdSetState>(GrainContext, "groups");
        _load = new DeferredLoad(Loaded, nameof(CreateNewAsync), _state, _memberships);
        _claims = new IndexClaims(GrainFactory, ResourceKind.User, _tenantId, _userId, settling, e => LogCleanupFailed(logger, e, _tenantId, _userId));
        _events = new EventCommits<ResourceState>(this, GrainFactory, time, _tenantId, ResourceType.Name, _userId, _state, e => LogConfirmFailed(logger, e, _tenantId, _userId));
        return Task.CompletedTask;
    }

    /// <summary>Every call runs on loaded state: the first one loads it, unless it is a create's first attempt.</summary>
    public Task Invoke(IIncomingGrainCallContext context) => _load.Invoke(context);

    private void Loaded()
    {
        _live = _state.Exists && !_state.Value.Deleted;
        _claims.Load(_live ? Current() : null);
    }

    public Task<ScimResult> CreateNewAsync(string resource) => CreateAsync(resource);

    public async Task<ScimResult> CreateAsync(string resource)
    {
        var now = time.GetUtcNow();
        var stamped = ScimResource.Stamp(Parse(resource), ResourceType, _userId, now, now, 1);
        if (_state.Exists)
        {
            // The gateway picks a new id before the first attempt of a POST, so only a repetition of that same request
            // (a retry after an unknown outcome) reaches an existing user with identical content: answer it as the
            // original create did. Anything else under an existing id is a conflict.
            return _live && ScimResource.SameContent(stamped, Current())
                ? ClientView.Of(ScimResult.Created(_state.Value.Json, _state.Value.Version), ResourceType)
                : ScimResult.Error(409, ScimErrorType.Uniqueness, "A resource with this id already exists.");
        }

        return ClientView.Of(await CommitAsync(stamped, 1, before: null), ResourceType);
    }

    public async Task<ScimResult> GetAsync() =>
        !_live ? NotFound() : await WithGroupsAsync(ScimResult.Ok(_state.Value.Json, _state.Value.Version));

    public async Task<ScimResult> ReplaceAsync(string resource, ETagCondition? ifMatch = null)
    {
        if (!_live)
        {
            return await NotFoundForWriteAsync();
        }

        var current = Current();
        var replacement = Parse(resource);
        MutabilityRules.KeepOmittedWriteOnly(current, replacement, ResourceType);
        return await WithGroupsAsync(await UpdateAsync(current, replacement, ifMatch));
    }

    public async Task<ScimResult> PatchAsync(string patchRequest, ETagCondition? ifMatch = null)
    {
        if (!_live)
        {
            return await NotFoundForWriteAsync();
        }

        try
        {
            var request = PatchRequest.Parse(JsonNode.Parse(patchRequest) ?? throw ScimException.InvalidSyntax("The PATCH body is empty."));
            var current = Current();
            return await WithGroupsAsync(await UpdateAsync(current, PatchApplier.Apply(current, request, ResourceType), ifMatch));
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
        if (_state.Exists && _state.Value.Deleted)
        {
            // An earlier attempt wrote the tombstone, then failed to store its events' confirmation (the log's silo died), or
            // failed or died before it finished: this retry finishes that delete — its events stored for good — instead of
            // telling it a second time.
            return await FinishInterruptedDeleteAsync();
        }

        if (!_live)
        {
            return await NotFoundForWriteAsync();
        }

        if (PreconditionFails(ifMatch))
        {
            return ScimResult.PreconditionFailed(_state.Value.Version);
        }

        // Held from here until the delete is done: a failure or a crash after the tombstone is finished by its tick (after
        // FinishDeleteDue), whether or not the client repeats the DELETE. One before the tombstone is not: the client was told
        // it failed (or nothing), and may have written the user since.
        var reminder = await this.RegisterOrUpdateReminder(FinishDeleteReminder, FinishDeleteDue, TimeSpan.FromMinutes(1));

        // One commit: the user leaves every group it records (the member partitions are the truth: none may keep a deleted
        // user), then the tombstone is written. Its one event, user.deleted, is stored for good before the tombstone goes; the
        // memberships end with the user and are not told one by one (docs/architecture.md, "Events"): only a group can tell a
        // removal, so a group's PATCH removing this user at the same moment tells it once.
        var version = _state.Value.Version + 1;
        var context = _events.Context(version);
        var events = ResourceEvents.OfChange(context, ResourceType, Current(), null);
        var held = _claims.Held;
        try
        {
            await _events.CommitAsync(context, events, async attempt =>
            {
                await LeaveAllGroupsAsync();
                await _state.CommitAsync(new ResourceState { Json = _state.Value.Json, Version = version, Deleted = true, EventsAttempt = attempt }, this);

                // The commit point: the user is gone for every reader and writer from here, and holds none of its values (a
                // new user may take them), even if its events' confirmation fails below (a retried DELETE, or the reminder,
                // finishes it).
                _live = false;
                _claims.Load(null);
            }, durable: true);
        }
        catch when (_live && !_state.Failed)
        {
            // Failed before its tombstone (and not in its write, which may have landed): nothing for the reminder to finish.
            await DropReminderAsync(reminder);
            throw;
        }

        await FinishDeleteAsync(held);
        await DropReminderAsync(reminder);
        return ScimResult.NoContent();
    }

    /// <summary>How long after a delete began its reminder first ticks: well after the delete's own request has ended.</summary>
    internal static readonly TimeSpan FinishDeleteDue = TimeSpan.FromSeconds(30);

    private async Task<ScimResult> FinishInterruptedDeleteAsync()
    {
        await _events.ConfirmLastAsync();
        await FinishDeleteAsync(ResourceIndexing.HashesOf(ResourceKind.User, Current()));
        await DropReminderAsync(null);
        return ScimResult.NoContent();
    }

    // After the tombstone and its durably confirmed events: the record of the groups it left, its index values (held: their
    // hashes) and directory entry go, then the tombstone.
    private async Task FinishDeleteAsync(Dictionary<string, string[]> held)
    {
        _live = false;
        _claims.Load(null);
        if (_memberships.Value.Ids.Count > 0)
        {
            await _memberships.CommitAsync(new IdSetState(), this, clear: true);
        }

        await _claims.ReleaseAsync(held);
        await _claims.LeaveDirectoryAsync();
        await _state.CommitAsync(new ResourceState(), this, clear: true);
        _deleting = false;
    }

    // Best effort: the delete is done, and a reminder left behind finds nothing to finish at its next tick and removes itself.
    private async Task DropReminderAsync(IGrainReminder? reminder)
    {
        try
        {
            await UnregisterAsync(reminder, FinishDeleteReminder);
        }
        catch (Exception e)
        {
            LogReminderLeft(logger, e, _tenantId, _userId);
        }
    }

    private async Task UnregisterAsync(IGrainReminder? reminder, string name)
    {
        if ((reminder ?? await this.GetReminder(name)) is { } held)
        {
            await this.UnregisterReminder(held);
        }
    }

    /// <summary>
    /// Finishes a delete that a failure or a crash interrupted after its tombstone, as a retried DELETE would. Otherwise (the
    /// delete finished, or failed before its tombstone: the client was told so, or nothing, and may have written the user
    /// since) it only removes itself. It judges by what storage holds: an outdated activation (a silo declared dead while
    /// still running) is replaced first.
    /// </summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        await _load.EnsureLoadedAsync(); // a no-op once loaded: a tick must never judge unread state
        if (reminderName == FinishDeleteReminder && !_halted)
        {
            await EnsureCurrentAsync();
            if (_state.Exists && _state.Value.Deleted)
            {
                await FinishInterruptedDeleteAsync();
                return;
            }
        }

        await UnregisterAsync(null, reminderName);
    }

    public async Task HaltAsync()
    {
        _halted = true;
        await UnregisterAsync(null, FinishDeleteReminder);
        this.DeactivateOnIdle();
    }

    public Task<bool> ExistsAsync() => Task.FromResult(_live && !_deleting);

    public async Task<bool> JoinGroupAsync(string groupId)
    {
        if (!_live || _deleting)
        {
            return false;
        }

        if (!_memberships.Value.Ids.Contains(groupId))
        {
            await _memberships.CommitAsync(new IdSetState { Ids = [.. _memberships.Value.Ids, groupId] }, this);
        }

        return true;
    }

    public async Task LeaveGroupAsync(string groupId)
    {
        if (_memberships.Value.Ids.Contains(groupId))
        {
            var rest = _memberships.Value.Ids.Where(id => id != groupId).ToHashSet(StringComparer.Ordinal);
            await _memberships.CommitAsync(new IdSetState { Ids = rest }, this, clear: rest.Count == 0);
        }
    }

    public Task<bool> IsJoinedAsync(string groupId) =>
        Task.FromResult(_live && !_deleting && _memberships.Value.Ids.Contains(groupId));

    public Task<string[]> GetGroupIdsAsync() => Task.FromResult(_memberships.Value.Ids.Order(StringComparer.Ordinal).ToArray());

    public Task<bool> OwnsIndexValueAsync(string indexName, string valueHash) => _claims.OwnsAsync(indexName, valueHash);

    public Task<EventResolution> ResolveEventsAsync(long version, int step, long from) => _events.ResolveAsync(version, step, from);

    public async Task ReconcileAsync(string? indexName, string? valueHash)
    {
        if (await _claims.ReconcileAsync(_live, indexName, valueHash))
        {
            LogReconciled(logger, _tenantId, _userId, indexName!);
        }
    }

    /// <summary>
    /// The resource as handed out (<see cref="ClientView"/>) with the read-only <c>groups</c> attribute: the recorded groups (a superset of the true memberships) each
    /// confirmed by the group from its member partition. An unconfirmed group (a crash between this user's write and
    /// the partition's, or a group deleted meanwhile) is not shown, and the group is asked to repair the record.
    /// </summary>
    private async Task<ScimResult> WithGroupsAsync(ScimResult result)
    {
        result = ClientView.Of(result, ResourceType);
        if (result.Status != 200 || result.Resource is null || _memberships.Value.Ids.Count == 0)
        {
            return result;
        }

        var groupIds = _memberships.Value.Ids.Order(StringComparer.Ordinal).ToArray();
        var names = await Task.WhenAll(groupIds.Select(g => Group(g).DescribeMemberAsync(_userId)));
        var groups = new JsonArray();
        for (var i = 0; i < groupIds.Length; i++)
        {
            if (names[i] is { } name)
            {
                groups.Add(new JsonObject { ["value"] = groupIds[i], ["display"] = name, ["type"] = "direct" });
            }
            else
            {
                await Group(groupIds[i]).RepairMemberAsync(_userId);
            }
        }

        if (groups.Count == 0)
        {
            return result;
        }

        var resource = Parse(result.Resource);
        var meta = resource["meta"];
        resource.Remove("meta");
        resource["groups"] = groups;
        resource["meta"] = meta?.DeepClone();
        return result with { Resource = ScimSerializer.Serialize(resource) };
    }

    // Removes this user from every group it records, before the user itself goes: the member partitions are the truth,
    // so none may keep a deleted user. A failure leaves the user in place, out of the partitions it left (consistent both
    // ways: its reads repair its record), and the client retries the delete. (Putting it back was tried: it could undo a
    // group's acknowledged removal of the user made meanwhile.) The record of its groups is cleared after the tombstone
    // (FinishDeleteAsync).
    private async Task LeaveAllGroupsAsync()
    {
        if (_memberships.Value.Ids.Count == 0)
        {
            return;
        }

        _deleting = true;
        try
        {
            var groups = _memberships.Value.Ids.ToArray();
            try
            {
                await Task.WhenAll(groups.Select(g => Partition(g).ApplyAsync([], [_userId])));
            }
            finally
            {
                // Each group takes a new version (one-way; the groups stay recorded until the delete is finished, so a crash
                // before this point repeats it when the client retries the delete), also when a removal failed (it may have
                // landed, and others did): a group's ETag must not answer for a member list it no longer has.
                await Task.WhenAll(groups.Select(g => Group(g).MemberDeletedAsync(_userId)));
            }
        }
        catch
        {
            _deleting = false;
            throw;
        }
    }

    private IGroupMembersGrain Partition(string groupId) =>
        GrainFactory.Grain<IGroupMembersGrain>(GrainKeys.GroupMembers(_tenantId, groupId, GrainKeys.GroupMemberPartitionOf(_userId)));

    private IGroupGrain Group(string groupId) => GrainFactory.Grain<IGroupGrain>(GrainKeys.Group(_tenantId, groupId));

    private bool PreconditionFails(ETagCondition? ifMatch) => ifMatch is not null && !ifMatch.Matches(_state.Value.Version);

    // Against the stored resource, a failed precondition wins over an error the request meets there (a PATCH applied to a
    // version the client has not seen may fail only because it is stale: 412 tells it to read again). Errors found without
    // the stored resource (a body the gateway refuses) come first, as RFC 7232 §5 orders them (docs/architecture.md).
    private ScimResult Failed(ScimException e, ETagCondition? ifMatch) =>
        PreconditionFails(ifMatch) ? ScimResult.PreconditionFailed(_state.Value.Version) : ScimResult.Error(e);

    private async Task<ScimResult> UpdateAsync(JsonObject current, JsonObject updated, ETagCondition? ifMatch)
    {
        // The precondition comes first, before anything about the stored resource is looked at: were a request
        // that changes nothing answered 200 under a stale tag, its answer would tell whether a guessed writeOnly value
        // equals the stored one. (A retried conditional write whose first attempt landed therefore answers 412.)
        if (PreconditionFails(ifMatch))
        {
            return ScimResult.PreconditionFailed(_state.Value.Version);
        }

        if (MutabilityRules.CheckUpdate(current, updated, ResourceType) is { } violation)
        {
            return ScimResult.Error(violation); // immutable attributes (RFC 7644 §3.5.1): 400 mutability, nothing written
        }

        var version = _state.Value.Version + 1;
        var stamped = ScimResource.Stamp(updated, ResourceType, _userId, ScimResource.CreatedOf(current), time.GetUtcNow(), version);

        // A request that changes nothing (Entra re-sends the same PATCH after a timeout) writes nothing, once storage agrees.
        if (ScimResource.SameContent(stamped, current))
        {
            await EnsureCurrentAsync();
            return ScimResult.Ok(_state.Value.Json, _state.Value.Version);
        }

        return await CommitAsync(stamped, version, before: current);
    }

    // before: the stored user this write changes, null for a create.
    private async Task<ScimResult> CommitAsync(JsonObject resource, long version, JsonObject? before)
    {
        var created = before is null;
        var json = ScimSerializer.Serialize(resource);
        if (ScimResource.CheckSize(json, created ? null : _state.Value.Json, ResourceType) is { } tooLarge)
        {
            return ScimResult.Error(tooLarge);
        }

        var oldHashes = _claims.Held;
        var newHashes = ResourceIndexing.HashesOf(ResourceKind.User, resource);
        try
        {
            // 1. Claim new values: unique ones first, so a conflict leaves nothing behind.
            if (await _claims.ClaimAsync(newHashes, created) is { } conflict)
            {
                LogUniquenessConflict(logger, _tenantId, _userId, conflict.Index, conflict.Holder);
                return ScimResult.Error(409, ScimErrorType.Uniqueness, conflict.Index == IndexNames.UserName
                    ? "A user with this userName already exists in this tenant."
                    : "A unique attribute value is already taken.");
            }

            // 2. Write the user — from here on the change is acknowledged — with its events around the write.
            var context = _events.Context(version);
            var events = ResourceEvents.OfChange(context, ResourceType, before, resource);
            await _events.CommitAsync(context, events, attempt => _state.CommitAsync(new ResourceState { Json = json, Version = version, EventsAttempt = attempt }, this));
            _live = true;
            _claims.Commit(newHashes);

            // 3. Release values no longer held.
            await _claims.ReleaseAsync(oldHashes);
            return created ? ScimResult.Created(json, version) : ScimResult.Ok(json, version);
        }
        finally
        {
            // Failed before the write: give back what was claimed (stale claims are also repaired lazily).
            await _claims.AbandonAsync(created, _live, _state.Failed);
        }
    }

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    private JsonObject Current() => Parse(_state.Value.Json);

    private ScimResult NotFound() => ScimResult.NotFound($"User {_userId} not found.");

    // A write that finds no user answers 404 once storage agrees (EnsureCurrentAsync): this activation may predate the create.
    private async Task<ScimResult> NotFoundForWriteAsync()
    {
        await EnsureCurrentAsync();
        return NotFound();
    }

    private Task EnsureCurrentAsync() => _state.EnsureCurrentAsync(this, $"User {_userId}");

    [LoggerMessage(1001, LogLevel.Information, "Tenant {TenantId}: user {UserId} lost a uniqueness claim on {IndexName} to {HolderId}.")]
    private static partial void LogUniquenessConflict(ILogger logger, string tenantId, string userId, string indexName, string holderId);

    [LoggerMessage(1002, LogLevel.Warning, "Tenant {TenantId}: user {UserId} repaired a stale {IndexName} index entry.")]
    private static partial void LogReconciled(ILogger logger, string tenantId, string userId, string indexName);

    [LoggerMessage(1004, LogLevel.Warning, "Tenant {TenantId}: confirming the events of user {UserId} failed; the event log will resolve them by asking.")]
    private static partial void LogConfirmFailed(ILogger logger, Exception exception, string tenantId, string userId);

    [LoggerMessage(1005, LogLevel.Warning, "Tenant {TenantId}: user {UserId}'s delete is done, but its finish-delete reminder could not be removed; its next tick removes it.")]
    private static partial void LogReminderLeft(ILogger logger, Exception exception, string tenantId, string userId);

    [LoggerMessage(1003, LogLevel.Warning, "Tenant {TenantId}: index cleanup for user {UserId} failed; it will be repaired on the next lookup.")]
    private static partial void LogCleanupFailed(ILogger logger, Exception exception, string tenantId, string userId);
}
