using Cluster.Grains.State;

namespace Cluster.Grains.Tenants;

/// <summary>
/// The middle of a tenant's offboarding (docs/architecture.md, "Tenant lifecycle and offboarding"), one bounded step per call,
/// each idempotent, so the tenant grain can persist the returned progress after each and resume after any crash:
/// <list type="number">
/// <item><b>draining</b>: waits <see cref="TenantsOptions.OffboardingGraceSeconds"/> from the delete, for requests authenticated
/// before it to finish;</item>
/// <item><b>stopping</b>: stops what writes on its own, through its grains: the webhook (deleted: its delivery loop and
/// reminder stop), every grain of the tenant that holds a reminder (groups with large changes or deletes under way are halted:
/// they forget their own rows, so no activation resumes them; users with an unfinished delete drop its reminder), then the
/// event log's timers, and the provisioning log
/// erases itself (its retention reminder with it);</item>
/// <item><b>erasing</b>: the storage sweep (<see cref="ITenantStorageSweeper"/>), <see cref="TenantsOptions.OffboardingStepRows"/>
/// rows a step, until a pass finds nothing;</item>
/// <item><b>verifying</b>: after <see cref="TenantsOptions.OffboardingVerifySeconds"/>, reminders and rows once more; anything
/// found (a straggler that wrote after the sweep) sends it back to erasing, nothing moves it on to finishing.</item>
/// </list>
/// The tenant grain itself does the first phase (revoking) and the last (finishing).
/// </summary>
internal sealed partial class TenantOffboarding(
    IGrainFactory grains, ITenantStorageSweeper sweeper, IReminderTable reminders, TenantsOptions options, TimeProvider time, ILogger logger, string tenantId)
{
    private readonly GrainType _groupType = TenantData.GrainTypeOf(grains, typeof(IGroupGrain));
    private readonly GrainType _userType = TenantData.GrainTypeOf(grains, typeof(IUserGrain));
    private readonly GrainType _webhookType = TenantData.GrainTypeOf(grains, typeof(IWebhookGrain));
    private readonly GrainType _requestLogType = TenantData.GrainTypeOf(grains, typeof(IRequestLogGrain));

    /// <summary>One step from <paramref name="deletion"/>: the progress to store, or null when there is nothing to do yet.</summary>
    public async Task<TenantDeletionState?> StepAsync(TenantDeletionState deletion, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        switch (deletion.Phase)
        {
            case TenantDeletionPhases.Draining:
                return now - deletion.StartedAt >= TimeSpan.FromSeconds(options.OffboardingGraceSeconds) ? Next(deletion, TenantDeletionPhases.Stopping) : null;

            case TenantDeletionPhases.Stopping:
                await grains.Grain<IWebhookGrain>(GrainKeys.Webhook(tenantId)).DeleteAsync();
                var stopped = await StopReminderHoldersAsync();
                await grains.Grain<IEventLogGrain>(GrainKeys.EventLog(tenantId)).HaltAsync();
                await EraseRequestLogAsync(GrainKeys.RequestLog(tenantId));
                LogStopped(logger, tenantId, stopped);
                return Next(deletion, TenantDeletionPhases.Erasing, erased: stopped);

            case TenantDeletionPhases.Erasing:
                var erased = await sweeper.SweepAsync(tenantId, options.OffboardingStepRows, cancellationToken);
                return erased > 0
                    ? Next(deletion, TenantDeletionPhases.Erasing, erased)
                    : Next(deletion, TenantDeletionPhases.Verifying, sweptAt: now);

            case TenantDeletionPhases.Verifying:
                if (now - (deletion.LastSweepAt ?? now) < TimeSpan.FromSeconds(options.OffboardingVerifySeconds))
                {
                    return null;
                }

                var found = await StopReminderHoldersAsync() + await sweeper.SweepAsync(tenantId, options.OffboardingStepRows, cancellationToken);
                if (found > 0)
                {
                    LogStraggler(logger, tenantId, found);
                    return Next(deletion, TenantDeletionPhases.Erasing, found);
                }

                var done = Next(deletion, TenantDeletionPhases.Finishing, sweptAt: now);
                done.Passes++;
                return done;

            default:
                return null;
        }
    }

    /// <summary>
    /// Every reminder of the tenant's grains (a scan of the reminder table, which holds only grains with work that outlives a
    /// request): groups and users are halted and the webhook deleted through their grains, so their timers stop with their
    /// reminders (a row removed from the table alone keeps its timer until the reminder service next reads the table); any
    /// other reminder row is removed. Returns how many there were.
    /// </summary>
    private async Task<int> StopReminderHoldersAsync()
    {
        var found = 0;
        foreach (var reminder in (await reminders.ReadRows(0, 0)).Reminders)
        {
            var key = reminder.GrainId.Key.ToString()!;
            if (!GrainKeys.IsOfTenant(key, tenantId))
            {
                continue;
            }

            found++;
            if (reminder.GrainId.Type == _groupType)
            {
                await grains.Grain<IGroupGrain>(key).HaltAsync();
            }
            else if (reminder.GrainId.Type == _userType)
            {
                await grains.Grain<IUserGrain>(key).HaltAsync();
            }
            else if (reminder.GrainId.Type == _webhookType)
            {
                await grains.Grain<IWebhookGrain>(key).DeleteAsync();
            }
            else if (reminder.GrainId.Type == _requestLogType)
            {
                await EraseRequestLogAsync(key);
            }

            // What the grain did not unregister itself (a stale ETag only means it is gone already).
            if (await reminders.ReadRow(reminder.GrainId, reminder.ReminderName) is { } left)
            {
                await reminders.RemoveRow(left.GrainId, left.ReminderName, left.ETag ?? "");
            }
        }

        return found;
    }

    // The provisioning log erases itself in bounded calls (its pages, its retention timer and reminder, then its head).
    private async Task EraseRequestLogAsync(string key)
    {
        var log = grains.Grain<IRequestLogGrain>(key);
        while (!await log.EraseAsync())
        {
        }
    }

    private static TenantDeletionState Next(TenantDeletionState current, string phase, int erased = 0, DateTimeOffset? sweptAt = null)
    {
        var next = current.Copy();
        (next.Phase, next.RowsErased, next.LastSweepAt) = (phase, current.RowsErased + erased, sweptAt ?? current.LastSweepAt);
        return next;
    }

    [LoggerMessage(1403, LogLevel.Information, "Tenant {TenantId} offboarding: background work stopped ({Reminders} grains held reminders).")]
    private static partial void LogStopped(ILogger logger, string tenantId, int reminders);

    [LoggerMessage(1404, LogLevel.Warning, "Tenant {TenantId} offboarding: the verification pass found {Rows} rows or reminders written after the erase; erasing again.")]
    private static partial void LogStraggler(ILogger logger, string tenantId, int rows);
}
