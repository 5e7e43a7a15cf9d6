using Cluster.Gateway.Resilience;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Cluster.Gateway.Tests;

/// <summary>The gateway's one retry policy: what it repeats, how often, and what it never repeats.</summary>
public sealed class GrainCallRetryTests
{
    private static GrainCallRetry Retry(int maxAttempts = 4) => new(
        Options.Create(new GrainCallRetryOptions { MaxAttempts = maxAttempts, InitialDelayMilliseconds = 0, MaxDelayMilliseconds = 0 }),
        TimeProvider.System,
        NullLogger<GrainCallRetry>.Instance);

    public static TheoryData<Exception> TransientFailures() =>
    [
        new SiloUnavailableException("silo died"),
        new Orleans.Runtime.Messaging.ConnectionFailedException("connection lost"),
        new TimeoutException("response timeout"),
        new Orleans.Storage.InconsistentStateException("etag mismatch"),
        new ReminderException("the reminder table could not be reached"), // a user DELETE holds one before it changes anything
        new Azure.RequestFailedException(503, "storage unavailable"),
        new OrleansException("Error from storage provider", new Azure.RequestFailedException(0, "connection reset")), // as a grain's storage bridge passes it on
    ];

    [Fact]
    public void AWrappedFailureIsJudgedByWhatItWraps()
    {
        Assert.False(GrainCallRetry.IsTransient(new OrleansException("Error from storage provider", new Azure.RequestFailedException(400, "bad request"))));
        Assert.False(GrainCallRetry.IsTransient(new OrleansException("Error from storage provider", new IOException("unknown"))));
        Assert.False(GrainCallRetry.IsTransient(new OrleansException("no cause")));
    }

    [Theory]
    [MemberData(nameof(TransientFailures))]
    public async Task ReadsAndIdempotentWritesAreRepeatedAfterATransientFailure(Exception failure)
    {
        foreach (var safety in new[] { CallSafety.Read, CallSafety.Idempotent })
        {
            var calls = 0;
            var result = await Retry().ExecuteAsync(safety, () => ++calls < 3 ? throw failure : Task.FromResult("ok"));
            Assert.Equal("ok", result);
            Assert.Equal(3, calls);
        }
    }

    [Fact]
    public async Task UnsafeWritesAreNeverRepeated()
    {
        var calls = 0;
        await Assert.ThrowsAsync<SiloUnavailableException>(() =>
            Retry().ExecuteAsync<string>(CallSafety.Unsafe, () => { calls++; throw new SiloUnavailableException("down"); }));
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task AttemptsAreBoundedThenTheFailureSurfaces()
    {
        var calls = 0;
        await Assert.ThrowsAsync<SiloUnavailableException>(() =>
            Retry(maxAttempts: 3).ExecuteAsync<string>(CallSafety.Read, () => { calls++; throw new SiloUnavailableException("down"); }));
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task NoAttemptStartsAfterTheDeadline()
    {
        var time = new FakeTimeProvider();
        var retry = new GrainCallRetry(
            Options.Create(new GrainCallRetryOptions { MaxAttempts = 4, InitialDelayMilliseconds = 0, MaxDelayMilliseconds = 0, DeadlineMilliseconds = 15_000 }),
            time,
            NullLogger<GrainCallRetry>.Instance);

        // A call held by a stalled silo times out after the response timeout: it is not repeated into a second one.
        var calls = 0;
        await Assert.ThrowsAsync<TimeoutException>(() => retry.ExecuteAsync<string>(CallSafety.Read, () =>
        {
            calls++;
            time.Advance(TimeSpan.FromSeconds(30));
            throw new TimeoutException("response timeout");
        }));
        Assert.Equal(1, calls);

        // Slow failures are repeated while the deadline allows: attempts start at 0 s and 10 s, not at 20 s.
        calls = 0;
        await Assert.ThrowsAsync<SiloUnavailableException>(() => retry.ExecuteAsync<string>(CallSafety.Idempotent, () =>
        {
            calls++;
            time.Advance(TimeSpan.FromSeconds(10));
            throw new SiloUnavailableException("down");
        }));
        Assert.Equal(2, calls);

        // Quick failures still get every attempt.
        calls = 0;
        Assert.Equal("ok", await retry.ExecuteAsync(CallSafety.Read, () => ++calls < 4 ? throw new SiloUnavailableException("down") : Task.FromResult("ok")));
        Assert.Equal(4, calls);
    }

    [Fact]
    public async Task OtherFailuresAreNotRepeated()
    {
        var calls = 0;
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            Retry().ExecuteAsync<string>(CallSafety.Read, () => { calls++; throw new InvalidOperationException("bug"); }));
        Assert.Equal(1, calls);

        calls = 0;
        await Assert.ThrowsAsync<Azure.RequestFailedException>(() =>
            Retry().ExecuteAsync<string>(CallSafety.Idempotent, () => { calls++; throw new Azure.RequestFailedException(409, "conflict"); }));
        Assert.Equal(1, calls);
    }

    [Fact]
    public void BackoffGrowsAndIsCapped()
    {
        var options = new GrainCallRetryOptions { InitialDelayMilliseconds = 100, MaxDelayMilliseconds = 1000 };
        Assert.InRange(GrainCallRetry.Delay(1, options).TotalMilliseconds, 80, 120);
        Assert.InRange(GrainCallRetry.Delay(2, options).TotalMilliseconds, 160, 240);
        Assert.InRange(GrainCallRetry.Delay(3, options).TotalMilliseconds, 320, 480);
        Assert.InRange(GrainCallRetry.Delay(8, options).TotalMilliseconds, 800, 1200);
    }
}
