using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
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

        // The warm-up's commit is confirmed in storage first, so that the log's one write to count is the create's prepare.
        var log = GrainKeys.EventLog(tenant.TenantId);
        await Eventually.TrueAsync(() => Task.FromResult(PreparedIn(StorageProbe.LastWrittenState(log, "events")) == 0), 60, "the log stored the warm-up's confirmation");
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

    [Fact]
    public async Task AQuietTenantsEventLogStoresItsConfirmationsOnceSoItCanGoIdle()
    {
        await using var gateway = GatewayFactory.With(new Dictionary<string, string?>()).WithStorageProbe();
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        await scim.CreateUserAsync("only@contoso.com");
        var log = GrainKeys.EventLog(tenant.TenantId);
        Assert.Equal(1, PreparedIn(StorageProbe.LastWrittenState(log, "events")));

        // The tenant goes quiet. The log's head listed the create's commit as prepared until the tenant's next write, and
        // its resolver ticked every second meanwhile, keeping the log active; now it stores the confirmation once.
        await Eventually.TrueAsync(() => Task.FromResult(PreparedIn(StorageProbe.LastWrittenState(log, "events")) == 0), 60, "the log stored its confirmed commit");

        // Once: nothing more is written while the tenant stays quiet, and the feed tells the create.
        var writes = StorageProbe.WritesOf(log);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(writes, StorageProbe.WritesOf(log));
        using var admin = gateway.AdminClient();
        var feed = await admin.GetFromJsonAsync<JsonObject>($"/admin/tenants/{tenant.TenantId}/events");
        Assert.Equal("user.created", Assert.Single(feed!["data"]!.AsArray())!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task AGroupCreateWritesTheGroupWithoutReadingItsStates()
    {
        await using var gateway = GatewayFactory.With(new Dictionary<string, string?>()).WithStorageProbe();
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var member = (await scim.CreateUserAsync("member@contoso.com"))["id"]!.GetValue<string>();
        var memberWrites = StorageProbe.WritesOf(GrainKeys.User(tenant.TenantId, member));

        var body = new JsonObject
        {
            ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:Group"),
            ["displayName"] = "Counted group",
            ["externalId"] = "counted-group-ext",
            ["members"] = new JsonArray(new JsonObject { ["value"] = member }),
        };
        using var response = await scim.PostAsync("Groups", ScimTestClient.Body(body.ToJsonString()));
        var group = await response.ExpectScimAsync(HttpStatusCode.Created);
        var id = group["id"]!.GetValue<string>();

        // The group (its `group` and `parents` states): no read — the gateway's first attempt is CreateNew. It writes the
        // group once, with the member change journaled (cleared by its next write or its deactivation); `parents` is never
        // written.
        var key = GrainKeys.Group(tenant.TenantId, id);
        Assert.Equal(0, StorageProbe.ReadsOf(key));
        Assert.Equal(1, StorageProbe.WritesOf(key));

        // The member records the group (one write of its `groups` row; it was active); the member's partition of the new
        // group is written without a read (the group knows it has no row: an insert).
        Assert.Equal(memberWrites + 1, StorageProbe.WritesOf(GrainKeys.User(tenant.TenantId, member)));
        var partition = GrainKeys.GroupMembers(tenant.TenantId, id, GrainKeys.GroupMemberPartitionOf(member));
        Assert.Equal((0, 1), (StorageProbe.ReadsOf(partition), StorageProbe.WritesOf(partition)));

        // Its index entries: a read of each (empty) row, then its write, as for a user.
        Assert.All(
            [Entry(tenant, IndexNames.GroupDisplayName, "Counted group"), Entry(tenant, IndexNames.GroupExternalId, "counted-group-ext")],
            e => Assert.Equal((1, 1), (StorageProbe.ReadsOf(e), StorageProbe.WritesOf(e))));

        // The created group reads back as answered, member included (NewGroupTests: also from a new activation).
        using var read = await scim.GetAsync($"Groups/{id}");
        Assert.Equal(group.ToJsonString(), (await read.ExpectScimAsync(HttpStatusCode.OK)).ToJsonString());
    }

    private static string Entry(TestTenant tenant, string indexName, string value) =>
        GrainKeys.IndexEntry(tenant.TenantId, indexName, IndexNames.Hash(value));

    private static int PreparedIn(object? head) => ((Cluster.Grains.State.EventLogState)head!).Prepared.Count;
}
