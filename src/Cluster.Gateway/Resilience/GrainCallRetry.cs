using System.ComponentModel.DataAnnotations;
using Azure;
using Microsoft.Extensions.Options;
using Orleans.Runtime.Messaging;
using Orleans.Storage;

namespace Cluster.Gateway.Resilience;

/// <summary>What repeating a grain call can do, which decides whether <see cref="GrainCallRetry"/> may repeat it.</summary>
public enum CallSafety
{
    /// <summary>A read (GET, a filter, token validation): repeating it changes nothing.</summary>
    Read,

    /// <summary>
    /// A write whose repetition yields the same stored state and an equivalent answer: PUT and PATCH (re-applying the
    /// same content or operations changes nothing the second time and writes nothing), DELETE (the retry of a delete
    /// that did happen answers 404), and POST create with an id the gateway chose before the first attempt (the user
    /// grain answers a repeated create with identical content as the original 201).
    /// </summary>
    Idempotent,

    /// <summary>A write that must not be repeated blindly (it would create a second thing or hand out a second secret).</summary>
    Unsafe,
}

/// <summary>Retry settings for grain calls interrupted by a silo failure. Section <c>Gateway:Retry</c>.</summary>
public sealed class GrainCallRetryOptions
{
    public const string SectionName = "Gateway:Retry";

    /// <summary>Attempts in all, the first included (1 = no retry).</summary>
    [Range(1, 10)]
    public int MaxAttempts { get; set; } = 4;

    /// <summary>Delay before the second attempt, in milliseconds; doubled for each further attempt.</summary>
    [Range(0, 10_000)]
    public int InitialDelayMilliseconds { get; set; } = 250;

    /// <summary>Upper bound of one delay, in milliseconds.</summary>
    [Range(0, 30_000)]
    public int MaxDelayMilliseconds { get; set; } = 2_000;

    /// <summary>
    /// No further attempt starts once this many milliseconds have passed since the first began (its wait included): with
    /// the default response timeout (<c>Cluster:ResponseTimeoutSeconds</c>, 30 s, longer than this), a call that failed by
    /// timing out is not repeated into a second timeout, and each grain call ends within about this plus one response
    /// timeout (15 + 30 s by default, under a balancer's usual 60 s). With a response timeout shorter than this (run.sh's
    /// 10 s), a timed-out call may be repeated once more, and the bound is the same: this plus one response timeout.
    /// </summary>
    [Range(1_000, 600_000)]
    public int DeadlineMilliseconds { get; set; } = 15_000;
}

/// <summary>
/// The gateway's one retry policy for grain calls. A call that fails because the cluster is momentarily unable to
/// answer (a silo died or is leaving, a gateway connection dropped, a call timed out, a storage write lost a race)
/// has an <em>unknown outcome</em>: it may or may not have happened. Reads and idempotent writes are therefore
/// repeated a bounded number of times with exponential backoff and jitter, and none starts after the deadline
/// (<see cref="GrainCallRetryOptions.DeadlineMilliseconds"/>); unsafe writes never are. When the attempts or the time
/// run out the exception propagates and <c>ScimExceptionHandler</c> answers 503 with <c>Retry-After</c>.
/// Results (a 409, a 404) are answers, not failures, and are never retried.
/// </summary>
public sealed partial class GrainCallRetry(IOptions<GrainCallRetryOptions> options, TimeProvider time, ILogger<GrainCallRetry> logger)
{
    /// <summary>True for failures that mean "the cluster could not answer right now" (answered with 503 + Retry-After).</summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        SiloUnavailableException or OrleansMessageRejectionException or GatewayTooBusyException or ConnectionFailedException => true,
        TimeoutException => true,
        // A write that lost an optimistic-concurrency race (e.g. a second activation during fail-over): nothing was written.
        InconsistentStateException => true,
        // The reminder service could not register or read a reminder (its table unreachable, its ring range moving): a user
        // DELETE holds one from its start, before it changes anything.
        ReminderException => true,
        // Storage unreachable or failing (5xx): nothing was acknowledged.
        RequestFailedException { Status: 0 or >= 500 } => true,
        AggregateException { InnerExceptions.Count: > 0 } aggregate => aggregate.InnerExceptions.All(IsTransient),
        // Orleans' storage bridge hands a grain (and so its caller, in this process or another) the storage client's error
        // wrapped in a plain OrleansException: judged by what it wraps.
        OrleansException { InnerException: { } inner } => IsTransient(inner),
        _ => false,
    };

    /// <summary>Runs <paramref name="call"/>, repeating it after transient failures when <paramref name="safety"/> allows.</summary>
    public async Task<T> ExecuteAsync<T>(CallSafety safety, Func<Task<T>> call, CancellationToken cancellationToken = default)
    {
        var settings = options.Value;
        var maxAttempts = safety == CallSafety.Unsafe ? 1 : Math.Max(1, settings.MaxAttempts);
        var started = time.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when (attempt < maxAttempts && IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                var delay = Delay(attempt, settings);
                var elapsed = time.GetElapsedTime(started);
                if (elapsed + delay >= TimeSpan.FromMilliseconds(settings.DeadlineMilliseconds))
                {
                    LogDeadline(logger, attempt, (int)elapsed.TotalMilliseconds, e.GetType().Name);
                    throw;
                }

                LogRetry(logger, attempt, maxAttempts, (int)delay.TotalMilliseconds, e.GetType().Name);
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, time, cancellationToken);
                }
            }
        }
    }

    /// <summary>Runs a call without a result (see <see cref="ExecuteAsync{T}"/>).</summary>
    public Task ExecuteAsync(CallSafety safety, Func<Task> call, CancellationToken cancellationToken = default) =>
        ExecuteAsync(safety, async () =>
        {
            await call();
            return true;
        }, cancellationToken);

    /// <summary>Exponential backoff (initial × 2^(attempt-1), capped) with ±20 % jitter so gateways do not retry in step.</summary>
    internal static TimeSpan Delay(int attempt, GrainCallRetryOptions settings)
    {
        var exponential = settings.InitialDelayMilliseconds * Math.Pow(2, attempt - 1);
        var capped = Math.Min(exponential, settings.MaxDelayMilliseconds);
        var jitter = 0.8 + (Random.Shared.NextDouble() * 0.4);
        return TimeSpan.FromMilliseconds(capped * jitter);
    }

    [LoggerMessage(2101, LogLevel.Information, "Grain call failed ({Exception}); attempt {Attempt} of {MaxAttempts}, retrying in {DelayMs} ms.")]
    private static partial void LogRetry(ILogger logger, int attempt, int maxAttempts, int delayMs, string exception);

    [LoggerMessage(2102, LogLevel.Warning, "Grain call failed ({Exception}) at attempt {Attempt}, {ElapsedMs} ms after the first began; no further attempt within the deadline (Gateway:Retry:DeadlineMilliseconds).")]
    private static partial void LogDeadline(ILogger logger, int attempt, int elapsedMs, string exception);
}
