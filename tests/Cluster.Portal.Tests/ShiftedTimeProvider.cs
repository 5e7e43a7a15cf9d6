namespace Cluster.Portal.Tests;

/// <summary>
/// The system clock, with the wall-clock time (<see cref="GetUtcNow"/>) moved forward by <see cref="Shift"/>; timestamps
/// and timers stay real, so Orleans and Kestrel run as usual while expiry dates can be passed without waiting.
/// </summary>
public sealed class ShiftedTimeProvider : TimeProvider
{
    private long _shiftTicks;

    public TimeSpan Shift
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _shiftTicks));
        set => Interlocked.Exchange(ref _shiftTicks, value.Ticks);
    }

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Shift;

    public override long GetTimestamp() => System.GetTimestamp();

    public override long TimestampFrequency => System.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => System.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        System.CreateTimer(callback, state, dueTime, period);
}
