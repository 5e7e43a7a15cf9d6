using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests;

/// <summary>
/// Orleans' state bridge labels its storage metrics (and spans) with the state's name, and keeps one shared entry per
/// name for the silo's lifetime. Each row is named after its grain (<see cref="Cluster.Grains.State.StorageRowNames"/>),
/// but below the bridge: until 2026-12-08 the bridge was given the row name, so every grain ever activated added a metric
/// series and an entry that was never released.
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed partial class StorageStateNameTests(ClusterFixture fixture)
{
    [Fact]
    public async Task StorageMetricsNameTheStateNotTheGrain()
    {
        var names = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal) && instrument.Name.Contains("storage", StringComparison.Ordinal))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        void Record(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "state_name" && tag.Value is string name)
                {
                    names.AddOrUpdate(name, 1, (_, n) => n + 1);
                }
            }
        }

        listener.SetMeasurementEventCallback<double>((_, _, tags, _) => Record(tags));
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) => Record(tags));
        listener.SetMeasurementEventCallback<int>((_, _, tags, _) => Record(tags));
        listener.Start();

        // Users (each with its index entries and directory), a group, and reads of new activations.
        var tenantId = GrainKeys.NewTenantId();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await fixture.Client.CreateUserAsync(tenantId, $"named-{i}@contoso.com", externalId: $"n-{i}"));
        }

        await fixture.Client.CreateGroupAsync(tenantId, "Named", ids[0]);
        foreach (var id in ids)
        {
            await fixture.Cluster.DeactivateAsync(fixture.Client.User(tenantId, id));
            Assert.Equal(200, (await fixture.Client.User(tenantId, id).GetAsync()).Status);
        }

        Assert.Contains("user", names.Keys);
        Assert.Contains("index", names.Keys);
        Assert.DoesNotContain(names.Keys, n => RowSuffix().IsMatch(n));
        Assert.True(names.Count < 30, $"{names.Count} state names: {string.Join(", ", names.Keys)}");
    }

    [GeneratedRegex("-[0-9a-f]{16}$")]
    private static partial Regex RowSuffix();
}
