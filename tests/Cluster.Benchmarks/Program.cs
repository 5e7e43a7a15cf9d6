using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Benchmarks;
using Orleans.Configuration;

// Cluster.Benchmarks: the scenarios of tests/bench.sh against a running local cluster (deploy/local/run.sh).
// Writes results.json and report.md into --out. Exit status 1 when a scenario failed or saw errors.
// `Cluster.Benchmarks receive --port P --out FILE`: only the webhook receiver (WebhookSink), for tests/chaos.sh.
if (args is ["receive", "--port", var receivePort, "--out", var receiveFile])
{
    return await WebhookSink.RunToFileAsync(int.Parse(receivePort, CultureInfo.InvariantCulture), receiveFile);
}

// `Cluster.Benchmarks topology --gateway SPLIT_URL --data-dir SPLIT_DATA --cohosted URL --cohosted-data-dir DATA ...`: only the
// comparison of the two topologies (TopologyBench, tests/bench.sh --topology).
if (args is ["topology", .. var topologyArgs])
{
    return await TopologyBench.RunAsync(BenchOptions.Parse(topologyArgs));
}

// `Cluster.Benchmarks cpu-profile TRACE PID [FRAME]`: the summary of a CPU profile of one process (CpuProfile,
// tests/profile.sh); with FRAME, also the callers of the managed frames whose names contain it, or of the native frames
// whose module's name does (clrjit: what the JIT works for), and the managed frames under it (what it spends its time in).
if (args is ["cpu-profile", var tracePath, var tracedPid, .. var rest] && rest.Length <= 1)
{
    return CpuProfile.Run(tracePath, int.Parse(tracedPid, CultureInfo.InvariantCulture), top: 25, focus: rest.FirstOrDefault());
}

var o = BenchOptions.Parse(args);
Directory.CreateDirectory(o.OutDir);
var results = new JsonObject();
var failures = new List<string>();
var started = DateTime.UtcNow;
var driver = new ScimDriver(o.GatewayUrl, o.AdminKey);
var profiler = new Profiler(o.DataDir);
var wrk = new Wrk(o, profiler);
var linesDir = Path.Combine(o.OutDir, "lines");
Directory.CreateDirectory(linesDir);
var stateTable = new Azure.Data.Tables.TableClient(o.Storage, o.StateTable);
await using var sink = await WebhookSink.StartAsync(o.PortBase + 2);
var events = new EventsApi(driver, o.AdminKey);
var webhooks = new WebhookScenarios(driver, events, sink);
var webhookResults = new JsonObject();
results["webhooks"] = webhookResults;
var catchUpTimeout = TimeSpan.FromMinutes(o.Smoke ? 1 : 5);

results["context"] = new JsonObject
{
    ["startedUtc"] = started.ToString("u", CultureInfo.InvariantCulture),
    ["mode"] = o.Smoke ? "smoke" : o.HasFullSizes ? "full" : "reduced sizes",
    ["cores"] = Environment.ProcessorCount,
    ["cpuModel"] = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim(),
    ["loadAvgBefore"] = File.ReadAllText("/proc/loadavg").Trim(),
    ["idleCoresBefore"] = await CpuSample.IdleCoresOverAsync(TimeSpan.FromSeconds(2)),
    ["options"] = JsonSerializer.SerializeToNode(o),
};
Console.WriteLine($"[bench] idle cores before: {results["context"]!["idleCoresBefore"]} of {Environment.ProcessorCount}");

string WriteLines(string name, IEnumerable<string> lines)
{
    var path = Path.GetFullPath(Path.Combine(linesDir, name));
    File.WriteAllLines(path, lines);
    return path;
}

var abort = false;
async Task Step(string name, Func<Task> step)
{
    if (abort)
    {
        return;
    }

    if (o.Only.Length > 0 && !name.StartsWith("seed", StringComparison.Ordinal) && !o.Only.Any(x => name.Contains(x, StringComparison.OrdinalIgnoreCase)))
    {
        Console.WriteLine($"[bench] -- {name}: skipped (--only)");
        return;
    }

    Console.WriteLine($"[bench] == {name}");
    var sw = Stopwatch.StartNew();
    try
    {
        await step();
    }
    catch (Exception e)
    {
        failures.Add($"{name}: {e.GetType().Name}: {e.Message}");
        Console.WriteLine($"[bench] FAILED {name}: {e}");
    }

    Console.WriteLine($"[bench]    ({sw.Elapsed.TotalSeconds:0.0} s)");
}

List<int> SiloPids() => [.. ClusterProcesses.Read(o.DataDir).Where(p => p.Role.StartsWith("silo", StringComparison.Ordinal)).Select(p => p.Pid)];
JsonObject Rss()
{
    var json = new JsonObject();
    long total = 0;
    foreach (var (role, pid, port) in ClusterProcesses.Read(o.DataDir))
    {
        var rss = ClusterProcesses.RssBytes(pid);
        json[$"{role}-{port}-MB"] = Measure.Round(rss / 1048576.0, 1);
        total += role.StartsWith("silo", StringComparison.Ordinal) ? rss : 0;
    }

    json["silosTotalMB"] = Measure.Round(total / 1048576.0, 1);
    return json;
}

double SiloRssMb() => SiloPids().Sum(ClusterProcesses.RssBytes) / 1048576.0;

// ------------------------------------------------------------------ setup: tenant A (small)
BenchTenant tenantA = null!;
List<BenchUser> usersA = [];
byte[] userJson = [];
string idsA = "", namesA = "";
var seeding = new JsonObject();
results["seeding"] = seeding;
await Step("seed small tenant", async () =>
{
    abort = true; // nothing else can run without the small tenant
    tenantA = await driver.CreateTenantAsync("bench-small");
    abort = false;
    var stats = new OpStats("seed");
    var sw = Stopwatch.StartNew();
    usersA = await driver.SeedAsync(tenantA, o.SmallUsers, o.SeedConcurrency, "small-", stats);
    var seconds = sw.Elapsed.TotalSeconds;
    var (bytes, rows) = await StorageSize.OfTenantAsync(stateTable, o.ServiceId, tenantA.TenantId);
    seeding["small"] = new JsonObject
    {
        ["users"] = usersA.Count,
        ["seconds"] = Measure.Round(seconds),
        ["usersPerSecond"] = Measure.Round(usersA.Count / seconds, 1),
        ["errors"] = stats.Errors,
        ["post"] = stats.ToJson(),
        ["storageRows"] = rows,
        ["storageBytes"] = bytes,
        ["storageBytesPerUser"] = usersA.Count == 0 ? 0 : Measure.Round(bytes / (double)usersA.Count, 0),
    };
    if (usersA.Count != o.SmallUsers)
    {
        abort = true;
        throw new InvalidOperationException($"seeded {usersA.Count} of {o.SmallUsers} users");
    }

    idsA = WriteLines("ids-small.txt", usersA.Select(u => u.Id));
    namesA = WriteLines("names-small.txt", usersA.Select(u => u.UserName));
    userJson = System.Text.Encoding.UTF8.GetBytes(await driver.GetRawAsync($"{tenantA.ScimPath}/Users/{usersA[0].Id}", tenantA.Token));
    results["userJsonBytes"] = userJson.Length;
});

// ------------------------------------------------------------------ tenant-size flatness (tenant B, large)
BenchTenant tenantB = null!;
List<BenchUser> usersB = [];
var namesB = "";
await Step("seed large tenant", async () =>
{
    tenantB = await driver.CreateTenantAsync("bench-large");
    var stats = new OpStats("seed");
    var sw = Stopwatch.StartNew();
    usersB = await driver.SeedAsync(tenantB, o.LargeUsers, o.SeedConcurrency, "large-", stats);
    var seconds = sw.Elapsed.TotalSeconds;
    namesB = WriteLines("names-large.txt", usersB.Select(u => u.UserName));
    seeding["large"] = new JsonObject
    {
        ["users"] = usersB.Count,
        ["seconds"] = Measure.Round(seconds),
        ["usersPerSecond"] = Measure.Round(usersB.Count / seconds, 1),
        ["errors"] = stats.Errors,
        ["post"] = stats.ToJson(),
    };
    if (usersB.Count != o.LargeUsers)
    {
        abort = true;
        throw new InvalidOperationException($"seeded {usersB.Count} of {o.LargeUsers} users");
    }
});
// ------------------------------------------------------------------ baselines
var baselines = new JsonObject();
results["baselines"] = baselines;
var scenarios = new JsonObject();
results["scenarios"] = scenarios;
WebApplication? grainHost = null;

// The read scenarios and their two baselines, measured in alternation for --rounds rounds; each keeps its best
// round (foreign load on a shared box only ever slows a run down) and lists every round's req/s.
await Step("read scenarios and their baselines", async () =>
{
    var ceilingApp = await Baselines.StartCeilingAsync(o.PortBase, userJson);
    grainHost = await Baselines.StartGrainHostAsync(o.PortBase + 1, o.Storage, o.ServiceId);
    var runs = new Dictionary<string, List<JsonObject>>();
    void Add(string key, JsonObject r) => (runs.TryGetValue(key, out var l) ? l : runs[key] = []).Add(r);
    try
    {
        for (var round = 1; round <= o.Rounds; round++)
        {
            Console.WriteLine($"[bench]  round {round} of {o.Rounds}");
            Add("ceiling", await wrk.RunAsync("ceiling: bare Kestrel GET (same JSON)", "get.lua", $"http://127.0.0.1:{o.PortBase}", "/ceiling", "", idsA));
            Add("grain", await wrk.RunAsync("bare grain call: IUserGrain.GetAsync via own Orleans client", "get.lua", $"http://127.0.0.1:{o.PortBase + 1}", $"/grain/{tenantA.TenantId}", "", idsA));
            Add("get", await wrk.RunAsync("GET /Users/{id}", "get.lua", o.GatewayUrl, $"{tenantA.ScimPath}/Users", tenantA.Token, idsA));
            Add("filterSmall", await wrk.RunAsync($"GET /Users?filter=userName eq (tenant of {o.SmallUsers})", "filter.lua", o.GatewayUrl, $"{tenantA.ScimPath}/Users", tenantA.Token, namesA));
            Add("filterLarge", await wrk.RunAsync($"GET /Users?filter=userName eq (tenant of {o.LargeUsers})", "filter.lua", o.GatewayUrl, $"{tenantB.ScimPath}/Users", tenantB.Token, namesB));
        }
    }
    finally
    {
        await ceilingApp.StopAsync();
        await ceilingApp.DisposeAsync();
    }

    foreach (var (key, list) in runs)
    {
        var best = Measure.BestRound(list);
        (key is "ceiling" or "grain" ? baselines : scenarios)[key] = best;
    }
});

await Step("baseline: Azurite raw writes", async () =>
{
    // Into an empty table, and into the grain-state table as it is now (Azurite slows down as a table grows).
    baselines["storage"] = await Baselines.RawTableWritesAsync(o.Storage, "BenchRawWrites", o.Connections, Math.Max(userJson.Length, 1000), o.WarmupSeconds, o.DurationSeconds, profiler);
    baselines["storageStateTable"] = await Baselines.RawTableWritesAsync(o.Storage, o.StateTable, o.Connections, Math.Max(userJson.Length, 1000), o.WarmupSeconds, o.DurationSeconds, profiler);
});

// ------------------------------------------------------------------ OAuth (issue 13; tests/Cluster.Benchmarks/OAuthBench.cs)
await Step("OAuth: token endpoint; GET /Users/{id} with an access token vs a secret token", async () =>
    results["oauth"] = await OAuthBench.RunAsync(o, wrk, tenantA, idsA));

// ------------------------------------------------------------------ write scenarios
await Step("POST /Users (small tenant)", async () =>
    scenarios["postSmall"] = await wrk.RunAsync($"POST /Users (tenant of {o.SmallUsers})", "post.lua", o.GatewayUrl, $"{tenantA.ScimPath}/Users", tenantA.Token, null));
await Step("PATCH /Users/{id}", async () =>
    scenarios["patch"] = await wrk.RunAsync("PATCH /Users/{id} (Entra default dialect)", "patch.lua", o.GatewayUrl, $"{tenantA.ScimPath}/Users", tenantA.Token, idsA));

// Issue 12: the same writes with a webhook subscribed (the receiver in this process); the webhook delivers while wrk
// writes, so the ratio to the runs just above is what delivery costs the write path. Then the same tenant's webhook
// delivers its last events again, alone: delivery throughput of one tenant (one event in flight at a time, in order).
await Step("POST and PATCH with a webhook subscribed", async () =>
{
    await events.SetWebhookAsync(tenantA, sink.UrlFor(tenantA.TenantId));
    foreach (var (key, script, name, lines) in new[]
    {
        ("postWebhook", "post.lua", $"POST /Users with a webhook subscribed (tenant of {o.SmallUsers})", (string?)null),
        ("patchWebhook", "patch.lua", "PATCH /Users/{id} with a webhook subscribed", idsA),
    })
    {
        var result = await wrk.RunAsync(name, script, o.GatewayUrl, $"{tenantA.ScimPath}/Users", tenantA.Token, lines);
        result["backlogAtEnd"] = await events.BacklogAsync(tenantA);
        result["catchUpSeconds"] = await webhooks.CatchUpAsync([tenantA], catchUpTimeout);
        scenarios[key] = result;
    }

    webhookResults["deliveryOneTenant"] = await webhooks.DeliveryThroughputAsync("one tenant", [tenantA], o.RedeliverEvents, catchUpTimeout);
    await events.DeleteWebhookAsync(tenantA);
});

await Step("webhook latency", async () =>
    webhookResults["latency"] = await webhooks.LatencyAsync(o.LatencyTenants, 10, o.WebhookRate, o.DurationSeconds, catchUpTimeout));

await Step("PATCH /Groups/{id} (probe)", async () =>
{
    var (status, body) = await driver.SendAsync(new OpStats("group"), HttpMethod.Post, $"{tenantA.ScimPath}/Groups", tenantA.Token,
        new JsonObject { ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:Group"), ["displayName"] = "bench group" }.ToJsonString(), "application/scim+json", 201);
    if (status != 201 || body is null)
    {
        throw new InvalidOperationException($"POST /Groups answered {status}");
    }

    var groupId = JsonNode.Parse(body)!["id"]!.GetValue<string>();
    scenarios["groupPatch"] = await wrk.RunAsync("PATCH /Groups/{id} add one member", "group_patch.lua", o.GatewayUrl, $"{tenantA.ScimPath}/Groups/{groupId}", tenantA.Token, idsA);
});

await Step("POST /Users (large tenant)", async () =>
    scenarios["postLarge"] = await wrk.RunAsync($"POST /Users (tenant of {o.LargeUsers})", "post.lua", o.GatewayUrl, $"{tenantB.ScimPath}/Users", tenantB.Token, null));

// Issue 14: the small tenant's GET, filter, POST and PATCH through a gateway with the provisioning log on and one with it off.
await Step("provisioning log on vs off", async () =>
    results["requestLog"] = await RequestLogScenario.RunAsync(o, wrk, tenantA, idsA, namesA));

// Issue 14: the portal's pages for the large tenant, whose provisioning log now holds its seeding and the writes above.
await Step("customer portal pages (large tenant)", async () =>
    results["portal"] = await PortalBench.RunAsync(o, tenantB, usersB));

// A member change of a large group costs the same as one of a small group (issue 3: member partitions, never the whole
// list): the large tenant's users, but a tenth, go into one group (PATCHes of 200 members, as Entra batches them),
// then wrk adds and removes the remaining tenth one at a time, as in the small-group scenario.
await Step("PATCH /Groups/{id} (large group)", async () =>
{
    var changing = usersB.Take(Math.Max(1, usersB.Count / 10)).Select(u => u.Id).ToList();
    var members = usersB.Skip(changing.Count).Select(u => u.Id).ToArray();
    var stats = new OpStats("large group fill");
    var (status, body) = await driver.SendAsync(stats, HttpMethod.Post, $"{tenantB.ScimPath}/Groups", tenantB.Token,
        new JsonObject { ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:Group"), ["displayName"] = "bench large group" }.ToJsonString(), "application/scim+json", 201);
    var groupId = status == 201 && body is not null ? JsonNode.Parse(body)!["id"]!.GetValue<string>() : throw new InvalidOperationException($"POST /Groups answered {status}");
    var fill = System.Diagnostics.Stopwatch.StartNew();
    foreach (var batch in members.Chunk(200))
    {
        var patch = new JsonObject
        {
            ["schemas"] = new JsonArray("urn:ietf:params:scim:api:messages:2.0:PatchOp"),
            ["Operations"] = new JsonArray(new JsonObject
            {
                ["op"] = "Add",
                ["path"] = "members",
                ["value"] = new JsonArray([.. batch.Select(id => (JsonNode)new JsonObject { ["value"] = id })]),
            }),
        };
        var (patched, _) = await driver.SendAsync(stats, HttpMethod.Patch, $"{tenantB.ScimPath}/Groups/{groupId}", tenantB.Token, patch.ToJsonString(), "application/scim+json", 204);
        if (patched != 204)
        {
            throw new InvalidOperationException($"PATCH /Groups (fill) answered {patched}");
        }
    }

    Console.WriteLine($"[bench]   large group: {members.Length} members added in {fill.Elapsed.TotalSeconds:0.0} s");
    var result = await wrk.RunAsync($"PATCH /Groups/{{id}} add one member (group of {members.Length} members)", "group_patch.lua", o.GatewayUrl, $"{tenantB.ScimPath}/Groups/{groupId}", tenantB.Token, WriteLines("ids-large-group-changes.txt", changing));
    result["groupMembers"] = members.Length;
    result["fillSeconds"] = Measure.Round(fill.Elapsed.TotalSeconds, 1);
    scenarios["groupPatchLarge"] = result;
});

// ------------------------------------------------------------------ Entra cycle
// With a webhook for every tenant (issue 12): afterwards every feed event must have reached the receiver, and all the
// tenants' webhooks deliver their whole feeds again at once (delivery throughput of many tenants).
Task Subscribe(BenchTenant t) => events.SetWebhookAsync(t, sink.UrlFor(t.TenantId));
await Step("Entra cycle", async () =>
{
    var cycle = new EntraCycle(driver, o.EntraTenants, o.EntraUsers, o.Connections, Subscribe);
    var result = await cycle.RunAsync("entra");
    results["entra"] = result;
    result["webhookEvents"] = await webhooks.LostEventsAsync(cycle.Tenants, catchUpTimeout);
    webhookResults["deliveryManyTenants"] = await webhooks.DeliveryThroughputAsync($"{cycle.Tenants.Count} tenants at once", cycle.Tenants, int.MaxValue, catchUpTimeout);
});

// ------------------------------------------------------------------ memory and tenant scale
var memory = new JsonObject();
results["memory"] = memory;
var management = grainHost?.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0);
async Task CollectAsync()
{
    await management!.ForceActivationCollection(TimeSpan.Zero);
    await Task.Delay(TimeSpan.FromSeconds(o.Smoke ? 2 : 5));
}

// The silos' live managed heap right after a forced full GC (all silos).
async Task<double> LiveHeapMbAsync()
{
    await management!.ForceGarbageCollection([.. (await management.GetHosts(onlyActive: true)).Keys]);
    return await profiler.SilosLiveHeapMbAsync();
}

await Step("memory: active users", async () =>
{
    memory["collectionAge"] = $"Orleans default {new GrainCollectionOptions().CollectionAge} (not configured by the silo); idle collection forced with IManagementGrain.ForceActivationCollection(0)";
    await CollectAsync();
    var idle = SiloRssMb();
    var heapIdle = await LiveHeapMbAsync();
    memory["rssIdleBefore"] = Rss();
    memory["heapIdleBeforeMB"] = heapIdle;
    var grains = grainHost!.Services.GetRequiredService<IClusterClient>();
    var active = usersB.Select(u => (Tenant: tenantB, User: u)).Concat(usersA.Select(u => (Tenant: tenantA!, User: u))).Take(o.ActiveUsers).ToArray();
    await Measure.ForEachAsync(active, 64, async a =>
        await grains.GetGrain<IUserGrain>(GrainKeys.User(a.Tenant.TenantId, a.User.Id)).GetAsync());
    await Task.Delay(TimeSpan.FromSeconds(2));
    var activeMb = SiloRssMb();
    var heapActive = await LiveHeapMbAsync();
    memory["activeUsers"] = active.Length;
    memory["rssWithActiveUsers"] = Rss();
    memory["siloMBPer10kActiveUsers"] = active.Length == 0 ? 0 : Measure.Round((activeMb - idle) / active.Length * 10_000, 1);
    memory["heapWithActiveUsersMB"] = heapActive;
    memory["heapMBPer10kActiveUsers"] = active.Length == 0 ? 0 : Measure.Round((heapActive - heapIdle) / active.Length * 10_000, 1);
    await CollectAsync();
    memory["rssAfterIdleCollection"] = Rss();
    memory["heapAfterIdleCollectionMB"] = await LiveHeapMbAsync();
});

await Step("tenant scale", async () =>
{
    var stats = new OpStats("POST /admin/tenants");
    var rssBefore = SiloRssMb();
    var heapBefore = await LiveHeapMbAsync();
    var tenants = new BenchTenant?[o.ManyTenants];
    var sw = Stopwatch.StartNew();
    await Measure.ForEachAsync(Enumerable.Range(0, o.ManyTenants).ToArray(), o.Connections, async i =>
    {
        try
        {
            tenants[i] = await driver.CreateTenantAsync($"scale-{i}", stats);
        }
        catch (InvalidOperationException)
        {
        }
    });
    var seconds = sw.Elapsed.TotalSeconds;
    var created = tenants.OfType<BenchTenant>().ToList();
    memory["tenantsCreated"] = created.Count;
    memory["tenantsSeconds"] = Measure.Round(seconds);
    memory["tenantsPerSecond"] = Measure.Round(created.Count / seconds, 1);
    memory["tenantCreate"] = stats.ToJson();
    memory["rssWithTenantsActive"] = Rss();
    memory["siloMBPer10kActiveTenants"] = created.Count == 0 ? 0 : Measure.Round((SiloRssMb() - rssBefore) / created.Count * 10_000, 1);
    var heapActive = await LiveHeapMbAsync();
    memory["heapWithTenantsActiveMB"] = heapActive;
    memory["heapMBPer10kActiveTenants"] = created.Count == 0 ? 0 : Measure.Round((heapActive - heapBefore) / created.Count * 10_000, 1);
    await CollectAsync();
    await Task.Delay(TimeSpan.FromSeconds(1));
    memory["rssIdleWithTenants"] = Rss();
    memory["heapIdleWithTenantsMB"] = await LiveHeapMbAsync();
    var sample = created.Take(10).ToList();
    long tenantBytes = 0;
    foreach (var t in sample)
    {
        tenantBytes += (await StorageSize.OfTenantAsync(stateTable, o.ServiceId, t.TenantId)).Bytes;
    }

    memory["storageBytesPerTenant"] = sample.Count == 0 ? 0 : Measure.Round(tenantBytes / (double)sample.Count, 0);
    if (stats.Errors > 0)
    {
        throw new InvalidOperationException($"{stats.Errors} tenant creations failed");
    }

    // Cold vs warm: every activation was just collected and the gateway's token cache (≤ 2 s) has expired.
    var cold = new OpStats("cold");
    var warm = new OpStats("warm");
    foreach (var t in created.Take(Math.Min(20, created.Count)))
    {
        var path = ScimDriver.FilterPath(t, "nobody@bench.example.com");
        await driver.SendAsync(cold, HttpMethod.Get, path, t.Token, null, "", 200);
        await driver.SendAsync(warm, HttpMethod.Get, path, t.Token, null, "", 200);
    }

    memory["coldTenantFirstRequest"] = cold.ToJson();
    memory["warmTenantSecondRequest"] = warm.ToJson();

    // Cold user (its grain was collected; its tenant warm) vs the same user again.
    var coldUser = new OpStats("cold user");
    var warmUser = new OpStats("warm user");
    await driver.SendAsync(new OpStats("warm tenant"), HttpMethod.Get, ScimDriver.FilterPath(tenantA!, "nobody@bench.example.com"), tenantA!.Token, null, "", 200);
    foreach (var u in usersA.Take(20))
    {
        await driver.SendAsync(coldUser, HttpMethod.Get, $"{tenantA.ScimPath}/Users/{u.Id}", tenantA.Token, null, "", 200);
        await driver.SendAsync(warmUser, HttpMethod.Get, $"{tenantA.ScimPath}/Users/{u.Id}", tenantA.Token, null, "", 200);
    }

    memory["coldUserGet"] = coldUser.ToJson();
    memory["warmUserGet"] = warmUser.ToJson();
    var errors = cold.Errors + warm.Errors + coldUser.Errors + warmUser.Errors;
    if (errors > 0)
    {
        throw new InvalidOperationException($"{errors} errors in cold/warm requests");
    }
});

// ------------------------------------------------------------------ Entra cycle while a silo is killed and restarted
await Step("Entra cycle with silo restart", async () =>
{
    var silos = SiloPids();
    if (silos.Count < 2)
    {
        results["entraRestart"] = new JsonObject { ["notRun"] = "needs 2 silos" };
        return;
    }

    var cycle = new EntraCycle(driver, o.RestartTenants, o.RestartUsers, o.Connections, Subscribe);
    var run = cycle.RunAsync("restart");
    while (cycle.Progress < 0.3 && !run.IsCompleted)
    {
        await Task.Delay(50);
    }

    var restart = await SiloRestart.KillAndRestartAsync(silos[^1], o.DataDir);
    var result = await run;
    result["restart"] = restart;
    result["progressAtKill"] = "30% of the creates";
    results["entraRestart"] = result;
    result["webhookEvents"] = await webhooks.LostEventsAsync(cycle.Tenants, catchUpTimeout);
});

if (grainHost is not null)
{
    await grainHost.StopAsync();
    await grainHost.DisposeAsync();
}

// ------------------------------------------------------------------ checks and output
void Check(string path, JsonNode? node)
{
    if (node is null)
    {
        // A step left out by --only has no result by design.
        if (o.Only.Length == 0)
        {
            failures.Add($"{path}: no result");
        }
    }
    else if (node["notRun"] is null && node["rps"] is not null && Report.Num(node["rps"]) <= 0)
    {
        failures.Add($"{path}: no request completed during the measurement");
    }
    else if (node["notRun"] is null && Report.Num(node["errors"]) > 0 && !path.StartsWith("entraRestart", StringComparison.Ordinal))
    {
        failures.Add($"{path}: {node["errors"]} errors");
    }
}

foreach (var b in new[] { "ceiling", "grain", "storage", "storageStateTable" })
{
    Check($"baselines.{b}", baselines[b]);
}

foreach (var s in new[] { "get", "filterSmall", "postSmall", "patch", "postWebhook", "patchWebhook", "groupPatch", "filterLarge", "postLarge", "groupPatchLarge" })
{
    Check($"scenarios.{s}", scenarios[s]);
}

Check("entra", results["entra"]);
Check("entraRestart", results["entraRestart"]);
Check("webhooks.latency", webhookResults["latency"]);
foreach (var key in new[] { "entra", "entraRestart" })
{
    if (results[key]?["webhookEvents"] is { } w && (Report.Num(w["lost"]) > 0 || Report.Num(w["notInFeed"]) > 0))
    {
        failures.Add($"{key}: webhooks lost {w["lost"]} events (first: {w["firstLost"]}), delivered {w["notInFeed"]} not in the feed");
    }
}

if (events.Errors > 0)
{
    failures.Add($"{events.Errors} admin calls of the event feed / webhooks failed");
}
results["context"]!["idleCoresAfter"] = await CpuSample.IdleCoresOverAsync(TimeSpan.FromSeconds(2));
results["context"]!["loadAvgAfter"] = File.ReadAllText("/proc/loadavg").Trim();
results["context"]!["totalSeconds"] = Measure.Round((DateTime.UtcNow - started).TotalSeconds, 0);
results["failures"] = new JsonArray([.. failures.Select(f => (JsonNode)f)]);

await File.WriteAllTextAsync(Path.Combine(o.OutDir, "results.json"), results.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
await File.WriteAllTextAsync(Path.Combine(o.OutDir, "report.md"), Report.Render(results));
Console.WriteLine(Report.Render(results));
foreach (var f in failures)
{
    Console.WriteLine($"[bench] FAILURE: {f}");
}

return failures.Count == 0 ? 0 : 1;
