using Cluster.Abstractions;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.RequestLog;

/// <summary>
/// Writes the gateway's buffered provisioning log entries (<see cref="RequestLogBuffer"/>) every
/// <c>Portal:RequestLogFlushSeconds</c>: one grain call per tenant per flush (<see cref="IRequestLogGrain.AppendAsync"/>),
/// a few tenants at a time, never on a SCIM request's path. Delivery is at most once: a batch whose call fails or times out
/// is dropped and counted (<c>scim.requestlog.dropped{reason="flush-failed"}</c>), because a diagnostic log is better a few
/// entries short than ever slowing SCIM or growing without bound while the cluster is unwell. On a graceful shutdown what is
/// buffered is written before the Orleans client stops (this service is registered after it, and hosted services stop in
/// reverse order).
/// </summary>
public sealed partial class RequestLogWriter(
    RequestLogBuffer buffer,
    RequestLogInstruments instruments,
    IGrainFactory grains,
    IOptions<RequestLogOptions> options,
    TimeProvider time,
    ILogger<RequestLogWriter> logger) : BackgroundService
{
    // Tenants written at once, and how long one call may take before its entries count as lost.
    private const int Parallelism = 8;
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    // How long the last flush at shutdown may take.
    private static readonly TimeSpan ShutdownFlushTimeout = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _flushing = new(1, 1);

    /// <summary>Writes everything buffered now (also used by tests and at shutdown).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        // One flush at a time (the timer's and a shutdown's); a shutdown waits for the timer's to finish, within its own time.
        await _flushing.WaitAsync(cancellationToken);
        try
        {
            var batches = buffer.Drain();
            if (batches.Count > 0)
            {
                await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, (batch, _) => new ValueTask(WriteAsync(batch, cancellationToken)));
            }
        }
        finally
        {
            _flushing.Release();
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ShutdownFlushTimeout);
        try
        {
            await FlushAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            // The timer's flush was still under way (silos hanging): the rest is not written, and shutdown goes on.
            LogShutdownFlushIncomplete(logger, "(all)", buffer.Count);
        }
    }

    public override void Dispose()
    {
        _flushing.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.RequestLogFlushSeconds), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                // Not cancelled by shutdown: a flush under way finishes, then StopAsync writes the rest.
                await FlushAsync(CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task WriteAsync(TenantEntries batch, CancellationToken cancellationToken)
    {
        var log = grains.Grain<IRequestLogGrain>(GrainKeys.RequestLog(batch.TenantId));
        var dropped = batch.Dropped;
        foreach (var chunk in batch.Entries.Count == 0 ? [[]] : batch.Entries.Chunk(IRequestLogGrain.MaxEntriesPerAppend))
        {
            try
            {
                await log.AppendAsync(chunk, dropped).WaitAsync(CallTimeout, time, cancellationToken);
                instruments.Written(chunk.Length);
                dropped = 0;
            }
            catch (Exception e)
            {
                // Lost (delivery is at most once), but not untold: the log's status counts them with the next flush that
                // lands, and the drop count this call carried too (until 2026-12-07 both were forgotten, so the status
                // showed no gap in exactly the outages that made one).
                buffer.CountDropped(batch.TenantId, chunk.Length + dropped);
                dropped = 0;
                instruments.FlushFailed(chunk.Length);
                if (e is OperationCanceledException && cancellationToken.IsCancellationRequested)
                {
                    LogShutdownFlushIncomplete(logger, batch.TenantId, chunk.Length);
                }
                else
                {
                    LogFlushFailed(logger, e, batch.TenantId, chunk.Length);
                }
            }
        }
    }

    [LoggerMessage(2401, LogLevel.Warning, "Tenant {TenantId}: {Count} provisioning log entries could not be written and are dropped.")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception, string tenantId, int count);

    [LoggerMessage(2402, LogLevel.Warning, "Shutdown: tenant {TenantId}: the last flush of the provisioning log did not finish in time; {Count} entries are dropped.")]
    private static partial void LogShutdownFlushIncomplete(ILogger logger, string tenantId, int count);
}
