using System.Diagnostics.Metrics;
using Cluster.Grains.Events;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cluster.Grains.Tests.Events;

/// <summary>
/// The webhook backlog gauge, read as the exporter reads it (a <see cref="MeterListener"/> collecting observable
/// instruments) while backlogs come and go.
/// </summary>
public sealed class EventInstrumentsTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void TheGaugeIsTheAgeOfTheOldestBacklogAndZeroWhenAllCaughtUp()
    {
        var time = new FakeTimeProvider(Start);
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var instruments = new EventInstruments(services.GetRequiredService<IMeterFactory>(), time);
        using var gauge = new GaugeReader(services.GetRequiredService<IMeterFactory>());

        Assert.Equal([0.0], gauge.Read());

        instruments.Backlog("tenant-a", Start);
        instruments.Backlog("tenant-b", Start.AddSeconds(30));
        time.Advance(TimeSpan.FromSeconds(90));
        Assert.Equal([90.0], gauge.Read());

        instruments.Backlog("tenant-a", null);
        Assert.Equal([60.0], gauge.Read());

        instruments.Backlog("tenant-b", null);
        Assert.Equal([0.0], gauge.Read());
    }

    [Fact]
    public async Task TheGaugeIsReportedOnEveryCollectionWhileTheLastBacklogComesAndGoes()
    {
        // A CI scrape once lacked this gauge: the callback checked for emptiness, then took the maximum of a dictionary
        // that a grain had just emptied, threw, and the exporter left the gauge out. Each collection must report it.
        var time = new FakeTimeProvider(Start);
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var instruments = new EventInstruments(services.GetRequiredService<IMeterFactory>(), time);
        using var gauge = new GaugeReader(services.GetRequiredService<IMeterFactory>());

        using var stop = new CancellationTokenSource();
        using var started = new ManualResetEventSlim();
        var churn = Task.Factory.StartNew(() =>
        {
            started.Set();
            while (!stop.IsCancellationRequested)
            {
                instruments.Backlog("tenant-a", Start);
                instruments.Backlog("tenant-a", null);
            }
        }, TaskCreationOptions.LongRunning);
        started.Wait();

        try
        {
            for (var collection = 0; collection < 200_000; collection++)
            {
                var values = gauge.Read();
                Assert.Single(values);
                Assert.True(values[0] >= 0);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await churn;
        }
    }

    /// <summary>Collects <c>scim.webhook.oldest_undelivered.age</c> of one meter factory on demand.</summary>
    private sealed class GaugeReader : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<double> _values = [];

        public GaugeReader(IMeterFactory meters)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "scim.webhook.oldest_undelivered.age" && instrument.Meter.Scope == meters)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((_, value, _, _) => _values.Add(value));
            _listener.Start();
        }

        /// <summary>The values one collection reports; a callback that throws reports none.</summary>
        public double[] Read()
        {
            _values.Clear();
            try
            {
                _listener.RecordObservableInstruments();
            }
            catch (AggregateException)
            {
                // The listener rethrows the callback's exception; the exporter logs it and drops the gauge.
            }

            return [.. _values];
        }

        public void Dispose() => _listener.Dispose();
    }
}
