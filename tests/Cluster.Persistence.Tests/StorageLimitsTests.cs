using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Cluster.Abstractions;
using Cluster.Scim;
using Cluster.Scim.Resources;
using Cluster.Scim.Schema;
using Cluster.TestInfrastructure;

namespace Cluster.Persistence.Tests;

/// <summary>
/// The largest resources the gateway accepts (<see cref="ScimResource.MaxStoredBytes"/>), written with the characters that
/// grow most when stored (quotes), fit Azure Table storage (Azurite, which enforces the entity size): their own rows, and
/// the tenant's event log row, which holds its open page's events and a batch. Before the bound and the storage
/// serializer's relaxed escaping, sixteen such creates filled the log's row and every later write of the tenant failed.
/// </summary>
public sealed class StorageLimitsTests
{
    [Fact]
    public async Task TheLargestResourcesAndTheirEventsFitInStorageOneAtATimeAndTogether()
    {
        var connectionString = AzuriteStorage.ConnectionString;
        await AzuriteProbe.EnsureReachableAsync(connectionString);
        var run = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var tableName = "ScimLimits" + run;
        var cluster = await FailoverCluster.DeployAsync(connectionString, tableName, "scim-limits-" + run, silos: 1);
        try
        {
            var grains = cluster.Client;
            var tenantId = GrainKeys.NewTenantId();

            // Each quote is two bytes of the resource's JSON (\") and four in a row (\\\"); the rest of the user takes < 300.
            string Largest(int i) => ResourceNormalizer.Normalize(
                new JsonObject { ["userName"] = $"big{i}@contoso.com", ["title"] = new string('"', (ScimResource.MaxStoredBytes - 300) / 2) }, ScimSchemas.UserResource).ToJsonString();
            async Task<int> CreateAsync(int i) => (await grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, GrainKeys.NewResourceId())).CreateNewAsync(Largest(i))).Status;

            // One at a time: the log's open page fills with 15 of them before it is written to its own row.
            for (var i = 0; i < 20; i++)
            {
                Assert.Equal(201, await CreateAsync(i));
            }

            // Together: batches of them in one write of the log's row.
            Assert.All(await Task.WhenAll(Enumerable.Range(20, 40).Select(CreateAsync)), status => Assert.Equal(201, status));

            var log = grains.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId));
            await Eventually.TrueAsync(async () => (await log.GetInfoAsync()).OldestUnresolvedAt is null, what: "the feed resolved");
            var told = new List<ScimEvent>();
            EventPage page;
            long? after = null;
            do
            {
                page = await log.ReadAsync(after, 100);
                told.AddRange(page.Events);
                after = page.Cursor;
            }
            while (page.HasMore);

            Assert.Equal(60, told.Count(e => e.Type == ScimEventTypes.UserCreated));
            Assert.All(told, e => Assert.Contains("\\\"\\\"", e.Data, StringComparison.Ordinal));
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
            await new TableServiceClient(connectionString).GetTableClient(tableName).DeleteAsync();
        }
    }
}
