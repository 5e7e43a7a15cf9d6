using Cluster.Grains.State;

namespace Cluster.Grains.Tenants;

/// <summary>
/// The tenant's lifecycle (issue 13; docs/architecture.md, "Tenant lifecycle and offboarding"): its key in the tenant registry
/// (kept as indexes are: claimed before the tenant's write, released after), its summary, when it last made a request
/// (told by the gateways, stored lazily), and its offboarding, which this grain drives with a timer, one bounded step per
/// tick, and a reminder that brings it back after a crash. The deletion's progress lives in the <c>lifecycle</c> row; the
/// <c>tenant</c> row goes first, so from the delete on every other call finds no tenant.
/// </summary>
public sealed partial class TenantGrain
{
    private const string OffboardingReminder = "offboarding";

    // Offboarding runs one step per tick; a step waiting for its time does nothing.
    private static readonly TimeSpan OffboardingTick = TimeSpan.FromMilliseconds(200);

    // When the tenant last made a request is stored at most this often (and when the grain deactivates).
    private static readonly TimeSpan LastRequestStoredEvery = TimeSpan.FromMinutes(10);

    private readonly CommittedState<TenantLifecycleState> _lifecycle = new(lifecycle);
    private DateTimeOffset? _lastRequestAt;
    private IGrainTimer? _offboarding;
    private TenantOffboarding? _offboarder;

    private ITenantRegistryGrain Registry => GrainFactory.Grain<ITenantRegistryGrain>(GrainKeys.TenantRegistry());

    private DateTimeOffset? LastRequestAt => _lastRequestAt > _lifecycle.Value.LastRequestAt || _lifecycle.Value.LastRequestAt is null
        ? _lastRequestAt
        : _lifecycle.Value.LastRequestAt;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (_lifecycle.Value.Deletion is not null)
        {
            StartOffboarding();
        }

        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_state.Exists && _lastRequestAt is { } at && (_lifecycle.Value.LastRequestAt is not { } stored || at > stored))
        {
            try
            {
                await SaveLifecycleAsync(at, _lifecycle.Value.Deletion);
            }
            catch (Exception e)
            {
                LogLastRequestNotStored(logger, e, TenantId);
            }
        }
    }

    public async Task<TenantSummary?> GetSummaryAsync()
    {
        if (Deleting() is { } deleting)
        {
            return deleting;
        }

        if (!_state.Exists)
        {
            return null;
        }

        // Read-only: while it waits for the counts, other read-only calls run, and once the first of them ends, Orleans may let
        // a change in before this one resumes. So the tenant is read before the wait, and the deletion checked again after it.
        var tenant = _state.Value;
        var lastRequestAt = LastRequestAt;
        var counts = await GrainFactory.Grain<IEventLogGrain>(GrainKeys.EventLog(TenantId)).GetCountsAsync();
        return Deleting() ?? (!_state.Exists ? null : new TenantSummary(
            TenantId, tenant.Name, tenant.CreatedAt, tenant.Suspended, [.. tenant.Tokens.Select(t => new TokenInfo(t.Id, t.CreatedAt))],
            counts.Users, counts.Groups, lastRequestAt, null));
    }

    // While a deletion is recorded, the summary is its progress.
    private TenantSummary? Deleting() => _lifecycle.Value.Deletion is { } deletion
        ? new TenantSummary(TenantId, deletion.Name, deletion.CreatedAt, false, [], 0, 0, LastRequestAt, View(deletion))
        : null;

    public async Task<TenantDeletion?> DeleteAsync()
    {
        if (_lifecycle.Value.Deletion is { Phase: TenantDeletionPhases.Revoking })
        {
            // A deletion recorded whose revoking failed (a storage error, answered 503): revoke now, as the first delete
            // would have, so that this answer too means the credentials are gone everywhere.
            await StepAsync(CancellationToken.None);
        }

        if (_lifecycle.Value.Deletion is { } running)
        {
            StartOffboarding();
            return View(running);
        }

        if (!_state.Exists)
        {
            return null;
        }

        // The reminder first: from here on, whatever crashes, the deletion is resumed (or, if it was never recorded, dropped).
        await this.RegisterOrUpdateReminder(OffboardingReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        var tenant = _state.Value;
        await SaveLifecycleAsync(LastRequestAt, new TenantDeletionState
        {
            StartedAt = time.GetUtcNow(),
            Phase = TenantDeletionPhases.Revoking,
            Name = tenant.Name,
            CreatedAt = tenant.CreatedAt,
        });
        LogOffboardingStarted(logger, TenantId);

        // Revoking, before the answer: the credentials are gone when the delete is acknowledged.
        await StepAsync(CancellationToken.None);
        StartOffboarding();
        return View(_lifecycle.Value.Deletion!);
    }

    public async Task NoteRequestAsync(DateTimeOffset at)
    {
        if (!_state.Exists)
        {
            return;
        }

        if (_lastRequestAt is not { } seen || at > seen)
        {
            _lastRequestAt = at;
        }

        if (_lifecycle.Value.LastRequestAt is not { } stored || at - stored >= LastRequestStoredEvery)
        {
            await SaveLifecycleAsync(at, _lifecycle.Value.Deletion);
        }
    }

    public async Task ReconcileListingAsync(TenantListingKey key)
    {
        // In this grain's turn, so no create or rename of this tenant is half done: a key it does not hold is stale.
        if (!_state.Exists || TenantListingKey.For(TenantId, _state.Value.Name) != key)
        {
            await Registry.RemoveAsync(key);
            LogListingReconciled(logger, TenantId);
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != OffboardingReminder)
        {
            return;
        }

        if (_lifecycle.Value.Deletion is not null)
        {
            StartOffboarding();
        }
        else if (_state.Exists)
        {
            // A delete that crashed before it was recorded: nothing happened, the tenant stays.
            await ForgetReminderAsync();
        }
        else
        {
            // A deletion that crashed after its last record and before its tenant rows went.
            await FinishAsync();
        }
    }

    // A rename moves the tenant's registry key: the new one is added before the write, the old one removed after.
    private async Task CommitRenamingAsync(TenantState current, TenantState next)
    {
        var (before, after) = (TenantListingKey.For(TenantId, current.Name), TenantListingKey.For(TenantId, next.Name));
        if (before != after)
        {
            await Registry.AddAsync(after);
        }

        await _state.CommitAsync(next, this);
        if (before != after)
        {
            try
            {
                await Registry.RemoveAsync(before);
            }
            catch (Exception e)
            {
                // The renamed tenant is committed; a listing that meets the old key removes it.
                LogRegistryReleaseFailed(logger, e, TenantId);
            }
        }
    }

    private void StartOffboarding() =>
        _offboarding ??= this.RegisterGrainTimer(
            async cancellation =>
            {
                try
                {
                    await StepAsync(cancellation);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogOffboardingStepFailed(logger, e, TenantId, _lifecycle.Value.Deletion?.Phase ?? "");
                }
            },
            new GrainTimerCreationOptions(OffboardingTick, OffboardingTick) { KeepAlive = true });

    private async Task StepAsync(CancellationToken cancellation)
    {
        switch (_lifecycle.Value.Deletion)
        {
            case null:
                return;

            case { Phase: TenantDeletionPhases.Revoking } deletion:
                if (_state.Exists)
                {
                    await _state.CommitAsync(new TenantState(), this, clear: true);
                }

                await Registry.RemoveAsync(TenantListingKey.For(TenantId, deletion.Name));
                deletion = deletion.Copy();
                deletion.Phase = TenantDeletionPhases.Draining;
                await SaveLifecycleAsync(_lifecycle.Value.LastRequestAt, deletion);
                return;

            case { Phase: TenantDeletionPhases.Finishing }:
                await _lifecycle.CommitAsync(new TenantLifecycleState(), this, clear: true);
                await FinishAsync();
                return;

            case { } deletion:
                _offboarder ??= new TenantOffboarding(GrainFactory, sweeper, reminders, tenantsOptions.Value, time, logger, TenantId);
                if (await _offboarder.StepAsync(deletion, cancellation) is { } progress)
                {
                    await SaveLifecycleAsync(_lifecycle.Value.LastRequestAt, progress);
                }

                return;
        }
    }

    // The very end: the tenant grain's own rows (deleted by key, whatever states they hold), the reminder, the activation.
    private async Task FinishAsync()
    {
        await sweeper.EraseTenantRowsAsync(TenantId, CancellationToken.None);
        _offboarding?.Dispose();
        _offboarding = null;
        await ForgetReminderAsync();
        LogOffboarded(logger, TenantId);
        DeactivateOnIdle();
    }

    private async Task ForgetReminderAsync()
    {
        if (await this.GetReminder(OffboardingReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    private Task SaveLifecycleAsync(DateTimeOffset? lastRequestAt, TenantDeletionState? deletion) =>
        _lifecycle.CommitAsync(new TenantLifecycleState { LastRequestAt = lastRequestAt, Deletion = deletion }, this);

    private static TenantDeletion View(TenantDeletionState d) => new(d.StartedAt, d.Phase, d.RowsErased, d.Passes);

    [LoggerMessage(1405, LogLevel.Information, "Tenant {TenantId}: offboarding started; its credentials are refused from now on.")]
    private static partial void LogOffboardingStarted(ILogger logger, string tenantId);

    [LoggerMessage(1406, LogLevel.Information, "Tenant {TenantId}: offboarded; no row of it remains.")]
    private static partial void LogOffboarded(ILogger logger, string tenantId);

    [LoggerMessage(1407, LogLevel.Warning, "Tenant {TenantId}: an offboarding step ({Phase}) failed; it is retried.")]
    private static partial void LogOffboardingStepFailed(ILogger logger, Exception exception, string tenantId, string phase);

    [LoggerMessage(1408, LogLevel.Warning, "Tenant {TenantId}: removing its old registry key after a rename failed; a listing will remove it.")]
    private static partial void LogRegistryReleaseFailed(ILogger logger, Exception exception, string tenantId);

    [LoggerMessage(1409, LogLevel.Information, "Tenant {TenantId}: a stale registry key was removed.")]
    private static partial void LogListingReconciled(ILogger logger, string tenantId);

    [LoggerMessage(1410, LogLevel.Warning, "Tenant {TenantId}: storing when it last made a request failed.")]
    private static partial void LogLastRequestNotStored(ILogger logger, Exception exception, string tenantId);
}
