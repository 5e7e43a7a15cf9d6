using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Grains.Tests;

/// <summary>The test cluster's reminder table, as the silos see it.</summary>
internal static class ClusterReminders
{
    /// <summary>The grain keys of every reminder in the table.</summary>
    public static async Task<string[]> ReminderKeysAsync(this ClusterFixture fixture)
    {
        var silo = fixture.Cluster.GetActiveSilos().First();
        var table = fixture.Cluster.GetSiloServiceProvider(silo.SiloAddress).GetRequiredService<IReminderTable>();
        return [.. (await table.ReadRows(0, 0)).Reminders.Select(r => r.GrainId.Key.ToString()!)];
    }
}
