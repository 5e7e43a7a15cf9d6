namespace Cluster.Grains.Events;

/// <summary>
/// A reminder a grain holds while it has work that must go on after its silo dies (a webhook behind its feed, an event log
/// with commits to resolve or a webhook to tell), and releases once it has none: its ticks activate the grain again, on
/// another silo if need be, and nothing else would.
/// </summary>
/// <remarks>
/// Calls interleave (a notice or a prepare arrives while the work that found nothing left is releasing): a hold waits for
/// a release under way, then registers again. The caller re-checks its work after a release it started, and holds again if
/// news came meanwhile. A tick makes the grain hold or release for itself (<see cref="TickAsync"/>): it is not taken as
/// "held", since a tick delivered after this activation's own release would then claim a reminder that is gone.
/// </remarks>
internal sealed class HeldReminder(Grain grain, string name, TimeSpan period)
{
    private bool _registered;
    private Task? _releasing;

    /// <summary>Registers the reminder unless this activation already holds it.</summary>
    public async Task HoldAsync()
    {
        if (_releasing is { } releasing)
        {
            try
            {
                await releasing;
            }
            catch (Exception)
            {
                // The release's own caller hears of its failure; the reminder is then registered again below, or still held.
            }
        }

        if (!_registered)
        {
            await grain.RegisterOrUpdateReminder(name, period, period);
            _registered = true;
        }
    }

    /// <summary>Unregisters the reminder this activation holds (nothing to do when it holds none).</summary>
    public Task ReleaseAsync() => _registered ? _releasing = ReleaseCoreAsync() : Task.CompletedTask;

    /// <summary>
    /// The reminder fired: held again (<paramref name="working"/>), or unregistered, whichever activation registered it
    /// (one of a silo that died, say).
    /// </summary>
    public Task TickAsync(bool working)
    {
        if (working)
        {
            return HoldAsync();
        }

        _registered = true;
        return ReleaseAsync();
    }

    private async Task ReleaseCoreAsync()
    {
        // Not held from the start: a release whose answer is lost (the row gone or not) must not leave the next hold thinking
        // it holds one; registering once more costs a tick.
        _registered = false;
        try
        {
            if (await grain.GetReminder(name) is { } reminder)
            {
                await grain.UnregisterReminder(reminder);
            }
        }
        finally
        {
            _releasing = null;
        }
    }
}
