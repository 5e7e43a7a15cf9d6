using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Persistence.Tests;

/// <summary>
/// The cluster's table clients (<see cref="TableStorage"/>) against Azurite: from a connection string with the account key
/// they carry a shared account SAS and sign no request with the key (the per-request signing whose undisposed HMAC objects
/// cost a silo's CPU in finalizers), and they can do everything grain storage, reminders and clustering do.
/// </summary>
public sealed class TableStorageTests
{
    [Fact]
    public async Task AClientFromAKeyedConnectionStringUsesTheSharedSasAndNeverTheKey()
    {
        var connection = AzuriteStorage.ConnectionString;
        await AzuriteProbe.EnsureReachableAsync(connection);
        var seen = new RequestRecorder();
        var options = new TableClientOptions();
        options.AddPolicy(seen, HttpPipelinePosition.BeforeTransport);
        var service = TableStorage.ServiceClient(connection, options);
        var table = service.GetTableClient("SasProbe" + Guid.NewGuid().ToString("N")[..12]);

        // What the providers do: create the table, insert, conditional update, point read, query, delete.
        await table.CreateIfNotExistsAsync();
        var added = await table.AddEntityAsync(new TableEntity("p", "r") { ["Data"] = "one" });
        await table.UpdateEntityAsync(new TableEntity("p", "r") { ["Data"] = "two" }, added.Headers.ETag!.Value, TableUpdateMode.Replace);
        var read = await table.GetEntityAsync<TableEntity>("p", "r");
        Assert.Equal("two", read.Value.GetString("Data"));
        Assert.Single(table.Query<TableEntity>(e => e.PartitionKey == "p"));
        var stale = await Assert.ThrowsAsync<RequestFailedException>(() =>
            table.UpdateEntityAsync(new TableEntity("p", "r") { ["Data"] = "three" }, added.Headers.ETag!.Value, TableUpdateMode.Replace));
        Assert.Equal(412, stale.Status);
        await table.DeleteAsync();

        Assert.NotEmpty(seen.Requests);
        Assert.All(seen.Requests, r =>
        {
            Assert.Contains("sig=", r.Query, StringComparison.Ordinal);
            Assert.False(r.HasAuthorization, "a request carried an Authorization header (shared-key signing)");
        });

        // Every client of the process shares one credential, so one SAS is signed per connection string, not per client.
        var second = new RequestRecorder();
        var options2 = new TableClientOptions();
        options2.AddPolicy(second, HttpPipelinePosition.BeforeTransport);
        await TableStorage.ServiceClient(connection, options2).GetPropertiesAsync();
        Assert.Equal(SasOf(seen.Requests[0].Query), SasOf(second.Requests.Single().Query));
    }

    private static string SasOf(string query) =>
        string.Join('&', query.TrimStart('?').Split('&').Where(p => p.StartsWith("sig=", StringComparison.Ordinal) || p.StartsWith("se=", StringComparison.Ordinal)));

    private sealed class RequestRecorder : HttpPipelineSynchronousPolicy
    {
        private readonly List<(string Query, bool HasAuthorization)> _requests = [];

        public IReadOnlyList<(string Query, bool HasAuthorization)> Requests
        {
            get
            {
                lock (_requests)
                {
                    return [.. _requests];
                }
            }
        }

        public override void OnSendingRequest(HttpMessage message)
        {
            lock (_requests)
            {
                _requests.Add((message.Request.Uri.Query, message.Request.Headers.TryGetValue("Authorization", out _)));
            }
        }
    }
}
