using System.Net;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>
/// The storage operations of one SCIM create, through the real pipeline, counted per row by <see cref="StorageProbe"/>:
/// the numbers docs/architecture.md ("Storage operations per create") states.
/// </summary>
public sealed class StorageOperationsTests
{
    [Fact]
    public async Task ACreateWritesTheUserWithoutReadingItAndReadsOnlyItsNewIndexEntries()
    {
        await using var gateway = GatewayFactory.With(new Dictionary<string, string?>()).WithStorageProbe();
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        await scim.CreateUserAsync("warm-up@contoso.com");
        using (var listing = await scim.GetAsync("Users"))
        {
            Assert.Equal(HttpStatusCode.OK, listing.StatusCode); // every directory partition is active from here
        }

        var log = GrainKeys.EventLog(tenant.TenantId);
        var (logReads, logWrites) = (StorageProbe.ReadsOf(log), StorageProbe.WritesOf(log));
        var user = await scim.CreateUserAsync("counted@contoso.com", "counted-ext", "counted.mail@contoso.com");
        var id = user["id"]!.GetValue<string>();

        string[] entries =
        [
            Entry(tenant, IndexNames.UserName, "counted@contoso.com"),
            Entry(tenant, IndexNames.UserExternalId, "counted-ext"),
            Entry(tenant, IndexNames.UserWorkEmail, "counted.mail@contoso.com"),
        ];
        var directory = GrainKeys.Directory(tenant.TenantId, ResourceKind.User.DirectoryName, GrainKeys.DirectoryPartitionOf(id));

        // The user: one insert, no read (the gateway's first attempt is CreateNew).
        Assert.Equal(0, StorageProbe.ReadsOf(GrainKeys.User(tenant.TenantId, id)));
        Assert.Equal(1, StorageProbe.WritesOf(GrainKeys.User(tenant.TenantId, id)));

        // Each index entry: a read of its (empty) row, then its write — a claim may find the value taken.
        Assert.All(entries, e => Assert.Equal((1, 1), (StorageProbe.ReadsOf(e), StorageProbe.WritesOf(e))));

        // The directory partition (active since the listing: read once, then) and the event log: active, one write (the
        // prepare; the confirmation rides on its next write).
        Assert.Equal(1, StorageProbe.ReadsOf(directory));
        Assert.True(StorageProbe.WritesOf(directory) >= 1);
        Assert.Equal(logReads, StorageProbe.ReadsOf(log));
        Assert.Equal(logWrites + 1, StorageProbe.WritesOf(log));

        // The created user reads back as answered.
        Assert.Equal(user.ToJsonString(), (await scim.GetUserAsync(id)).ToJsonString());
    }

    private static string Entry(TestTenant tenant, string indexName, string value) =>
        GrainKeys.IndexEntry(tenant.TenantId, indexName, IndexNames.Hash(value));
}
