using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests;

/// <summary>Interrupting a resource's delete the way a crash of the event log's silo would.</summary>
internal static class Deletes
{
    /// <summary>
    /// The delete's tombstone write is held; meanwhile the log's next write (the durable confirmation) is set to fail; the
    /// delete fails after its tombstone reached storage.
    /// </summary>
    public static async Task FailAfterTombstoneAsync(string tenantId, string resourceKey, Func<Task<ScimResult>> delete)
    {
        var held = StorageProbe.HoldNextWrite(resourceKey);
        var first = delete();
        await held.Started.WaitAsync(TimeSpan.FromSeconds(30));
        StorageProbe.FailNextWrites(GrainKeys.EventLog(tenantId));
        held.Release();
        await Assert.ThrowsAnyAsync<Exception>(() => first);
    }
}
