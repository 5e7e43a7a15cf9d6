using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Cluster.Abstractions;
using Cluster.Gateway.Querying;
using Cluster.Grains.State;
using Cluster.Scim.Filtering;
using Cluster.Scim.Resources;
using Cluster.Scim.Schema;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.Configuration;
using Xunit.Abstractions;

namespace Cluster.Persistence.Tests;

/// <summary>
/// Invariant 3 (acknowledged means durable) against real Azure Table storage (Azurite): state written by one
/// cluster is what a completely new cluster on the same table and ServiceId reads back.
/// </summary>
public sealed class RestartTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ACreatedUserSurvivesAFullRestartOfTheSiloHost()
    {
        var connectionString = AzuriteStorage.ConnectionString;
        await AzuriteProbe.EnsureReachableAsync(connectionString);

        var run = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var tableName = "ScimTest" + run;
        var serviceId = "scim-persistence-" + run;
        var tenantId = GrainKeys.NewTenantId();
        var userId = GrainKeys.NewResourceId();
        var deletedId = GrainKeys.NewResourceId();
        var oldName = $"persist.zq{run}@contoso.com";
        var newName = $"renamed.zq{run}@contoso.com";
        var deletedName = $"deleted.zq{run}@contoso.com";
        var tableClient = new TableServiceClient(connectionString).GetTableClient(tableName);

        try
        {
            IssuedToken token;
            IssuedToken revoked;
            ScimResult before;
            ScimResult? lastWritten = null;
            var cluster = await FailoverCluster.DeployAsync(connectionString, tableName, serviceId, silos: 1);
            try
            {
                var grains = cluster.Client;
                var tenant = grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenantId));
                token = (await tenant.CreateAsync("Contoso"))!;
                revoked = (await tenant.IssueTokenAsync())!;
                Assert.True(await tenant.RevokeTokenAsync(revoked.Id));

                var user = grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, userId));
                Assert.Equal(201, (await user.CreateAsync(Resource(oldName, "ext-" + run))).Status);
                var renamed = await user.PatchAsync($$"""{"Operations":[{"op":"replace","path":"userName","value":"{{newName}}"}]}""");
                Assert.Equal((200, 2L), (renamed.Status, renamed.Version));

                var deleted = grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, deletedId));
                Assert.Equal(201, (await deleted.CreateAsync(Resource(deletedName, null))).Status);
                Assert.Equal(204, (await deleted.DeleteAsync()).Status);

                // The freed name's entry was cleared in storage; it can be claimed and cleared again in the same activation.
                var again = grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, GrainKeys.NewResourceId()));
                Assert.Equal(201, (await again.CreateAsync(Resource(deletedName, null))).Status);
                Assert.Equal(204, (await again.DeleteAsync()).Status);

                before = await user.GetAsync();
                Assert.Equal(200, before.Status);
            }
            finally
            {
                await cluster.StopAllSilosAsync();
                await cluster.DisposeAsync();
            }

            // A new cluster: nothing in memory survives, only what is in the table.
            cluster = await FailoverCluster.DeployAsync(connectionString, tableName, serviceId, silos: 1);
            try
            {
                var grains = cluster.Client;
                var after = await grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, userId)).GetAsync();
                Assert.Equal(200, after.Status);
                Assert.Equal(before.Resource, after.Resource);
                Assert.Equal(before.Version, after.Version);
                Assert.Equal(404, (await grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, deletedId)).GetAsync()).Status);

                var queries = new ResourceQueries(grains);
                var byNewName = await queries.QueryAsync(ResourceKind.User, tenantId, FilterParser.Parse($"userName eq \"{newName.ToUpperInvariant()}\""), 1, 10);
                Assert.Equal(userId, Assert.Single(byNewName.Page)["id"]!.GetValue<string>());
                Assert.Equal(0, (await queries.QueryAsync(ResourceKind.User, tenantId, FilterParser.Parse($"userName eq \"{oldName}\""), 1, 10)).Total);
                Assert.Equal(0, (await queries.QueryAsync(ResourceKind.User, tenantId, FilterParser.Parse($"userName eq \"{deletedName}\""), 1, 10)).Total);
                Assert.Empty(await grains.GetGrain<IIndexEntryGrain>(GrainKeys.IndexEntry(tenantId, IndexNames.UserName, IndexNames.Hash(oldName))).LookupAsync());
                Assert.Equal(1, (await queries.QueryAsync(ResourceKind.User, tenantId, FilterParser.Parse($"externalId eq \"ext-{run}\""), 1, 10)).Total);

                var listed = await queries.QueryAsync(ResourceKind.User, tenantId, null, 1, 100);
                Assert.Equal(userId, Assert.Single(listed.Page)["id"]!.GetValue<string>());
                Assert.Equal(1, await queries.CountAsync(ResourceKind.User, tenantId));

                // The stored name still enforces uniqueness; the old and deleted names are free.
                Assert.Equal(409, (await grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, GrainKeys.NewResourceId())).CreateAsync(Resource(newName, null))).Status);

                var validator = GatewayAuth.Validator(grains);
                Assert.True(await validator.AcceptsAsync(tenantId, token.Secret));
                Assert.False(await validator.AcceptsAsync(tenantId, revoked.Secret));
                Assert.False(await validator.AcceptsAsync(tenantId, token.Secret + "x"));
                var info = (await grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenantId)).GetInfoAsync())!;
                Assert.Equal(token.Id, Assert.Single(info.Tokens).Id);

                // Entries cleared before the restart can be claimed again by new users.
                foreach (var freed in new[] { oldName, deletedName })
                {
                    var newcomer = GrainKeys.NewResourceId();
                    Assert.Equal(201, (await grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, newcomer)).CreateAsync(Resource(freed, null))).Status);
                    Assert.Equal([newcomer], await grains.GetGrain<IIndexEntryGrain>(GrainKeys.IndexEntry(tenantId, IndexNames.UserName, IndexNames.Hash(freed))).LookupAsync());
                }

                Assert.Equal(3, await queries.CountAsync(ResourceKind.User, tenantId));

                // Writes continue from the stored version (and the stored ETag).
                var patched = await grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, userId))
                    .PatchAsync("""{"Operations":[{"op":"replace","path":"displayName","value":"After Restart"}]}""");
                Assert.Equal((200, 3L), (patched.Status, patched.Version));
                lastWritten = patched;
            }
            finally
            {
                await cluster.StopAllSilosAsync();
                await cluster.DisposeAsync();
            }

            // What is in the table: rows for the grains, no secret anywhere, no userName in any key.
            var rows = new List<TableEntity>();
            await foreach (var row in tableClient.QueryAsync<TableEntity>())
            {
                rows.Add(row);
            }

            foreach (var row in rows)
            {
                output.WriteLine($"{row.PartitionKey} | {row.RowKey} | {string.Join(", ", row.Keys.Where(k => k is not "odata.etag"))} | {Text(row)[..Math.Min(200, Text(row).Length)]}");
            }

            Assert.NotEmpty(rows);
            Assert.All(rows, row => Assert.Contains(serviceId, row.PartitionKey, StringComparison.Ordinal));
            Assert.Contains(rows, row => row.PartitionKey.Contains(tenantId, StringComparison.Ordinal) && row.PartitionKey.Contains(userId, StringComparison.Ordinal));
            Assert.Contains(rows, row => Text(row).Contains($"renamed.zq{run}", StringComparison.Ordinal));

            // The stored shapes: the user row holds the resource JSON; the tenant row holds only SHA-256 hashes.
            // Each row is named after its grain (StorageRowNames), so no two rows share a RowKey: Azurite scans rows
            // that share one on every read and write.
            Assert.Equal(rows.Count, rows.Select(r => r.RowKey).Distinct(StringComparer.Ordinal).Count());
            var userRow = Assert.Single(rows, r => r.RowKey == StorageRowNames.For("user", GrainId.Create("user", GrainKeys.User(tenantId, userId))));
            Assert.EndsWith(userId, userRow.PartitionKey, StringComparison.Ordinal);
            var storedUser = JsonNode.Parse(JsonNode.Parse(Data(userRow))!["Json"]!.GetValue<string>())!;
            Assert.Equal(newName, storedUser["userName"]!.GetValue<string>());
            Assert.Equal(lastWritten!.Resource, JsonNode.Parse(Data(userRow))!["Json"]!.GetValue<string>());
            var tenantRow = Assert.Single(rows, r => r.RowKey == StorageRowNames.For("tenant", GrainId.Create("tenant", GrainKeys.Tenant(tenantId))));
            Assert.EndsWith(tenantId, tenantRow.PartitionKey, StringComparison.Ordinal);
            var storedToken = Assert.Single(JsonNode.Parse(Data(tenantRow))!["Tokens"]!.AsArray())!;
            Assert.Equal(token.Id, storedToken["Id"]!.GetValue<string>());
            Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(token.Secret)), Convert.FromBase64String(storedToken["Hash"]!.GetValue<string>()));
            foreach (var row in rows)
            {
                foreach (var secret in new[] { token.Secret, revoked.Secret, token.Secret["scim_".Length..], revoked.Secret["scim_".Length..] })
                {
                    Assert.DoesNotContain(secret, Text(row), StringComparison.Ordinal);
                    Assert.DoesNotContain(secret, row.PartitionKey + row.RowKey, StringComparison.Ordinal);
                }

                foreach (var name in new[] { oldName, newName, deletedName, $"persist.zq{run}", $"renamed.zq{run}", $"deleted.zq{run}" })
                {
                    Assert.DoesNotContain(name, row.PartitionKey, StringComparison.OrdinalIgnoreCase);
                    Assert.DoesNotContain(name, row.RowKey, StringComparison.OrdinalIgnoreCase);
                }
            }
        }
        finally
        {
            await tableClient.DeleteAsync();
        }
    }

    [Fact]
    public async Task FirstAttemptCreatesAreInsertsThatSurviveARestartAndNeverOverwrite()
    {
        // CreateNewAsync (the gateway's first attempt of a POST) reads nothing and writes without an ETag: on Azure Table
        // storage that is an insert. What is inserted must be durable, and an insert under an id that is taken after all
        // must be refused by storage, leaving the stored row as it was.
        var connectionString = AzuriteStorage.ConnectionString;
        await AzuriteProbe.EnsureReachableAsync(connectionString);
        var run = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var tableName = "ScimTest" + run;
        var serviceId = "scim-persistence-" + run;
        var tenantId = GrainKeys.NewTenantId();
        var (userId, groupId, parentId) = (GrainKeys.NewResourceId(), GrainKeys.NewResourceId(), GrainKeys.NewResourceId());
        var tableClient = new TableServiceClient(connectionString).GetTableClient(tableName);
        try
        {
            ScimResult group = null!, parent = null!, userAfter = null!;
            await WithClusterAsync(connectionString, tableName, serviceId, async grains =>
            {
                Assert.Equal(201, (await grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, userId)).CreateNewAsync(Resource($"new.zq{run}@contoso.com", "ext-" + run))).Status);
                group = await grains.GetGrain<IGroupGrain>(GrainKeys.Group(tenantId, groupId)).CreateNewAsync(GroupResource("New group " + run, userId));
                Assert.Equal(201, group.Status);
                // A parent group recorded in the new group's `parents` state (never read, so written as an insert).
                parent = await grains.GetGrain<IGroupGrain>(GrainKeys.Group(tenantId, parentId)).CreateNewAsync(GroupResource("Parent " + run, groupId));
                Assert.Equal(201, parent.Status);
            });

            // A new cluster reads back what the inserts stored.
            await WithClusterAsync(connectionString, tableName, serviceId, async grains =>
            {
                var newGroup = grains.GetGrain<IGroupGrain>(GrainKeys.Group(tenantId, groupId));
                Assert.Equal(group.Resource, (await newGroup.GetAsync()).Resource);
                Assert.Equal([parentId], await newGroup.GetGroupIdsAsync());
                userAfter = await grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, userId)).GetAsync();
                Assert.Equal(200, userAfter.Status);
                Assert.Equal([groupId], JsonNode.Parse(userAfter.Resource!)!["groups"]!.AsArray().Select(g => g!["value"]!.GetValue<string>()));
            });

            // Another one, where the first call of each activation is a first attempt under a taken id: storage refuses
            // the insert (409), the call fails, and the stored rows are as they were.
            await WithClusterAsync(connectionString, tableName, serviceId, async grains =>
            {
                var user = grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, userId));
                var taken = grains.GetGrain<IGroupGrain>(GrainKeys.Group(tenantId, parentId));
                await Assert.ThrowsAnyAsync<Exception>(() => user.CreateNewAsync(Resource($"other.zq{run}@contoso.com", null)));
                await Assert.ThrowsAnyAsync<Exception>(() => taken.CreateNewAsync(GroupResource("Other " + run)));

                var userNow = await user.GetAsync();
                Assert.Equal((userAfter.Resource, userAfter.Version), (userNow.Resource, userNow.Version));
                var parentNow = await taken.GetAsync();
                Assert.Equal((parent.Resource, parent.Version), (parentNow.Resource, parentNow.Version));
            });
        }
        finally
        {
            await tableClient.DeleteAsync();
        }
    }

    [Fact]
    public async Task UnreachableStorageFailsWithAClearMessage()
    {
        var port = TestPorts.Free();
        var connectionString = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
            $"TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => AzuriteProbe.EnsureReachableAsync(connectionString));

        Assert.Contains("tests/run.sh", error.Message, StringComparison.Ordinal);
        Assert.Contains("start Azurite", error.Message, StringComparison.Ordinal);
        Assert.Contains(AzuriteStorage.EnvironmentVariable, error.Message, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("AccountKey", error.Message, StringComparison.Ordinal);
    }

    // A whole cluster on the table for the length of one step: started, given to the step, then stopped and disposed.
    private static async Task WithClusterAsync(string connectionString, string tableName, string serviceId, Func<IClusterClient, Task> step)
    {
        var cluster = await FailoverCluster.DeployAsync(connectionString, tableName, serviceId, silos: 1);
        try
        {
            await step(cluster.Client);
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    private static string Resource(string userName, string? externalId)
    {
        var body = new JsonObject { ["userName"] = userName };
        if (externalId is not null)
        {
            body["externalId"] = externalId;
        }

        return ResourceNormalizer.Normalize(body, ScimSchemas.UserResource).ToJsonString();
    }

    private static string GroupResource(string displayName, params string[] members)
    {
        var body = new JsonObject { ["displayName"] = displayName };
        if (members.Length > 0)
        {
            body["members"] = new JsonArray([.. members.Select(m => (JsonNode)new JsonObject { ["value"] = m })]);
        }

        return ResourceNormalizer.Normalize(body, ScimSchemas.GroupResource).ToJsonString();
    }

    // The state column (Orleans writes the serialized state as binary "Data").
    private static string Data(TableEntity row) => row["Data"] switch
    {
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        BinaryData data => data.ToString(),
        var other => Assert.IsType<string>(other),
    };

    // Every property of a row as text (binary columns decoded as UTF-8), keys excluded.
    private static string Text(TableEntity row) => string.Join("\n", row
        .Where(p => p.Key is not ("PartitionKey" or "RowKey"))
        .Select(p => p.Value switch
        {
            byte[] bytes => Encoding.UTF8.GetString(bytes),
            BinaryData data => data.ToString(),
            null => "",
            var other => other.ToString(),
        }));
}
