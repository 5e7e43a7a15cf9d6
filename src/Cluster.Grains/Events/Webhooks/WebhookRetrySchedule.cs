namespace Cluster.Grains.Events.Webhooks;

/// <summary>
/// When a failed webhook delivery is tried again. The base delay before attempt <c>n</c> (n ≥ 2) is
/// <c>1 s × 2^(n−2)</c>, capped at 1 hour (reached from attempt 14 on); the delay actually used is drawn
/// uniformly from <c>[base / 2, base]</c> ("equal jitter"), so it never exceeds the cap, the first retry comes after
/// 0.5–1 s, and receivers that failed together (one outage, many tenants) are not all retried in the same second.
/// With the default retry window of 3 days this makes about 108 attempts (the first included; at least 83, at most
/// 155, whatever the draws), then the event is parked. Pure and deterministic for a given <see cref="Random"/>.
/// </summary>
public static class WebhookRetrySchedule
{
    /// <summary>Base delay before the second attempt.</summary>
    public static readonly TimeSpan InitialDelay = TimeSpan.FromSeconds(1);

    /// <summary>Largest delay between two attempts.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromHours(1);

    /// <summary>The base delay before attempt <paramref name="attempt"/> (≥ 2), without jitter: doubling from 1 s, capped at 1 h.</summary>
    public static TimeSpan BaseDelay(int attempt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 2);

        // 2^12 s already exceeds the cap; a smaller exponent keeps the arithmetic exact for any attempt number.
        var exponent = Math.Min(attempt - 2, 12);
        var delay = InitialDelay * (1L << exponent);
        return delay < MaxDelay ? delay : MaxDelay;
    }

    /// <summary>The delay to wait before attempt <paramref name="attempt"/> (≥ 2): uniform in <c>[base / 2, base]</c>.</summary>
    public static TimeSpan DelayBefore(int attempt, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var baseDelay = BaseDelay(attempt);
        return (baseDelay / 2) + (baseDelay / 2 * random.NextDouble());
    }

    /// <summary>
    /// <c>true</c> when <paramref name="now"/> is at or past the end of the retry window
    /// (<paramref name="firstAttempt"/> + <paramref name="retryDays"/>): the event is parked instead of attempted.
    /// Ask it with the time of the attempt about to be made or scheduled, so that no attempt falls outside the window.
    /// </summary>
    public static bool ShouldPark(DateTimeOffset firstAttempt, DateTimeOffset now, double retryDays)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(retryDays);
        return now - firstAttempt >= TimeSpan.FromDays(retryDays);
    }
}
