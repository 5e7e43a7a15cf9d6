using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Cluster.Abstractions;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Cluster.Benchmarks;

/// <summary>The baselines measured in the same run as the scenarios.</summary>
public static class Baselines
{
    /// <summary>
    /// Ceiling: a bare Kestrel minimal API in this process returning <paramref name="body"/> (a real SCIM user JSON
    /// taken from the gateway) for <c>GET /ceiling/{id}</c>. No auth, no Orleans, no logging.
    /// </summary>
    public static async Task<WebApplication> StartCeilingAsync(int port, byte[] body)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http1));
        var app = builder.Build();
        app.MapGet("/ceiling/{id}", (string id) => Results.Bytes(body, "application/scim+json"));
        await app.StartAsync();
        return app;
    }

    /// <summary>
    /// One bare grain call: this process is an Orleans client of the benchmarked cluster (same membership table,
    /// <c>UseScimClustering</c>) and serves <c>GET /grain/{tenantId}/{id}</c> = <c>IUserGrain.GetAsync</c> returning
    /// the stored JSON. No auth, no SCIM rendering. Its <see cref="IClusterClient"/> is also used for management calls.
    /// </summary>
    public static async Task<WebApplication> StartGrainHostAsync(int port, string storageConnectionString, string serviceId)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cluster:ClusterId"] = "scim-local",
            ["Cluster:ServiceId"] = serviceId,
            ["Cluster:Membership"] = "AzureTable",
            ["Storage:ConnectionString"] = storageConnectionString,
        });
        builder.UseOrleansClient(client => client.UseScimClustering(builder.Configuration));
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http1));
        var app = builder.Build();
        app.MapGet("/grain/{tenantId}/{id}", async (string tenantId, string id, IGrainFactory grains) =>
        {
            var result = await grains.GetGrain<IUserGrain>(GrainKeys.User(tenantId, id)).GetAsync();
            return result.Resource is { } json
                ? Results.Text(json, "application/scim+json", Encoding.UTF8, result.Status)
                : Results.StatusCode(result.Status);
        });
        await app.StartAsync();
        return app;
    }

    /// <summary>
    /// Storage limit: <paramref name="concurrency"/> workers doing raw single-entity upserts (one property of
    /// <paramref name="payloadBytes"/> characters, like a stored user) with Azure.Data.Tables, warm-up then measure. With
    /// <paramref name="sas"/> the client is the cluster's (<see cref="TableStorage"/>: a renewed account SAS); without, it signs
    /// every request with the account key, as the SDK does from a connection string.
    /// </summary>
    public static async Task<JsonObject> RawTableWritesAsync(string connectionString, string tableName, int concurrency, int payloadBytes, int warmupSeconds, int seconds, Profiler profiler, bool sas = false)
    {
        var table = sas ? TableStorage.ServiceClient(connectionString).GetTableClient(tableName) : new TableClient(connectionString, tableName);
        var scratch = tableName == "BenchRawWrites";
        await table.CreateIfNotExistsAsync();
        var payload = new string('x', payloadBytes);
        var stats = new OpStats("upsert");

        async Task RunAsync(int secs, bool record)
        {
            var stop = Stopwatch.GetTimestamp() + (long)(secs * (double)Stopwatch.Frequency);
            var workers = Enumerable.Range(0, concurrency).Select(async w =>
            {
                var i = 0;
                while (Stopwatch.GetTimestamp() < stop)
                {
                    var entity = new TableEntity($"bench-raw-w{w}", $"e{i++ % (scratch ? 500 : 20)}") { ["Data"] = payload };
                    var start = Stopwatch.GetTimestamp();
                    var status = -1;
                    try
                    {
                        status = (await table.UpsertEntityAsync(entity, TableUpdateMode.Replace)).Status;
                    }
                    catch (RequestFailedException e)
                    {
                        status = e.Status;
                    }

                    if (record)
                    {
                        stats.Record(status, Measure.Ms(start));
                        if (status is < 200 or >= 300)
                        {
                            Interlocked.Increment(ref stats.Errors);
                        }
                    }
                }
            });
            await Task.WhenAll(workers);
        }

        await RunAsync(warmupSeconds, false);
        var cpu = CpuSample.Take();
        var before = await profiler.TakeAsync();
        var begin = Stopwatch.GetTimestamp();
        await RunAsync(seconds, true);
        var elapsed = Stopwatch.GetElapsedTime(begin).TotalSeconds;
        var after = await profiler.TakeAsync();
        var result = stats.ToJson();
        result["name"] = scratch ? "Azurite raw upserts (empty table)" : $"Azurite raw upserts (into {tableName} as seeded)";
        result["table"] = tableName;
        result["rps"] = Measure.Round(stats.Count / elapsed, 0);
        result["concurrency"] = concurrency;
        result["payloadBytes"] = payloadBytes;
        result["idleCores"] = cpu.IdleCoresUntil(CpuSample.Take());
        result["profile"] = Profiler.Diff(before, after, 0);
        result["client"] = sas ? "account SAS (TableStorage)" : "shared key (connection string)";
        result["toolCpuMsPerWrite"] = stats.Count == 0 ? null : Measure.Round(Report.Num(result["profile"]!["toolCores"]) * elapsed * 1000 / stats.Count, 3);
        if (scratch)
        {
            await table.DeleteAsync();
        }
        Console.WriteLine($"[bench]   raw writes: {result["rps"]} writes/s, p50 {result["p50Ms"]} ms, p99 {result["p99Ms"]} ms, errors {stats.Errors}");
        return result;
    }
}
