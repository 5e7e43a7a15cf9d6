using Cluster.Grains.Events.Webhooks;

namespace Cluster.Grains.Tests.Events;

/// <summary>The retry schedule: doubling from 1 s, capped at 1 h, equal jitter, parked after the retry window.</summary>
public sealed class WebhookRetryScheduleTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void TheBaseDelayDoublesFromOneSecondAndIsCappedAtOneHour()
    {
        Assert.Equal(TimeSpan.FromSeconds(1), WebhookRetrySchedule.BaseDelay(2));
        Assert.Equal(TimeSpan.FromSeconds(2), WebhookRetrySchedule.BaseDelay(3));
        Assert.Equal(TimeSpan.FromSeconds(4), WebhookRetrySchedule.BaseDelay(4));
        Assert.Equal(TimeSpan.FromSeconds(2048), WebhookRetrySchedule.BaseDelay(13));
        Assert.Equal(TimeSpan.FromHours(1), WebhookRetrySchedule.BaseDelay(14));
        Assert.Equal(TimeSpan.FromHours(1), WebhookRetrySchedule.BaseDelay(1_000));
        Assert.Equal(TimeSpan.FromHours(1), WebhookRetrySchedule.BaseDelay(int.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => WebhookRetrySchedule.BaseDelay(1));

        var bases = Enumerable.Range(2, 200).Select(WebhookRetrySchedule.BaseDelay).ToList();
        Assert.Equal(bases.Order(), bases); // never shrinks
    }

    [Fact]
    public void EachDelayLiesBetweenHalfTheBaseAndTheBase()
    {
        var random = new Random(12345);
        for (var attempt = 2; attempt < 60; attempt++)
        {
            var baseDelay = WebhookRetrySchedule.BaseDelay(attempt);
            for (var i = 0; i < 200; i++)
            {
                var delay = WebhookRetrySchedule.DelayBefore(attempt, random);
                Assert.InRange(delay, baseDelay / 2, baseDelay);
                Assert.True(delay <= WebhookRetrySchedule.MaxDelay);
            }
        }
    }

    [Fact]
    public void TheDelaysAreJitteredAndReproducibleFromASeed()
    {
        var first = Enumerable.Range(0, 50).Select(_ => WebhookRetrySchedule.DelayBefore(20, new Random(7))).Distinct().ToList();
        Assert.Single(first); // same seed, same draw

        var random = new Random(7);
        var spread = Enumerable.Range(0, 50).Select(_ => WebhookRetrySchedule.DelayBefore(20, random)).ToList();
        Assert.True(spread.Distinct().Count() > 40);
        Assert.True(spread.Min() < TimeSpan.FromMinutes(40) && spread.Max() > TimeSpan.FromMinutes(50));
    }

    [Fact]
    public void AnEventIsParkedOnceTheRetryWindowHasPassed()
    {
        Assert.False(WebhookRetrySchedule.ShouldPark(Start, Start, 3));
        Assert.False(WebhookRetrySchedule.ShouldPark(Start, Start.AddDays(3).AddTicks(-1), 3));
        Assert.True(WebhookRetrySchedule.ShouldPark(Start, Start.AddDays(3), 3));
        Assert.True(WebhookRetrySchedule.ShouldPark(Start, Start.AddDays(4), 3));
        Assert.False(WebhookRetrySchedule.ShouldPark(Start, Start.AddHours(11), 0.5));
        Assert.True(WebhookRetrySchedule.ShouldPark(Start, Start.AddHours(12), 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => WebhookRetrySchedule.ShouldPark(Start, Start, 0));
    }

    [Fact]
    public void ThreeDaysHoldAbout108Attempts()
    {
        // The numbers written in the type's documentation and docs/architecture.md.
        Assert.Equal(83, Attempts(3, _ => 1.0));   // every delay at its base (the longest)
        Assert.Equal(155, Attempts(3, _ => 0.0));  // every delay at half its base (the shortest)

        var counts = Enumerable.Range(1, 200).Select(seed =>
        {
            var random = new Random(seed);
            return Attempts(3, _ => random.NextDouble());
        }).ToList();
        Assert.All(counts, c => Assert.InRange(c, 83, 155));
        Assert.InRange(counts.Average(), 106, 110);
    }

    /// <summary>
    /// How many attempts a never-answering receiver gets: the first at <see cref="Start"/>, each next one after
    /// <see cref="WebhookRetrySchedule.DelayBefore"/>, none at or after the end of the window.
    /// </summary>
    private static int Attempts(double retryDays, Func<int, double> draw)
    {
        var now = Start;
        var attempts = 1;
        while (true)
        {
            var next = now + WebhookRetrySchedule.DelayBefore(attempts + 1, new FixedRandom(draw(attempts)));
            if (WebhookRetrySchedule.ShouldPark(Start, next, retryDays))
            {
                return attempts;
            }

            now = next;
            attempts++;
        }
    }

    /// <summary>A <see cref="Random"/> whose <see cref="NextDouble"/> is a given value (0 ≤ value ≤ 1).</summary>
    private sealed class FixedRandom(double value) : Random
    {
        public override double NextDouble() => value;
    }
}
