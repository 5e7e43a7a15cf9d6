using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cluster.Benchmarks;

/// <summary>
/// The two topologies side by side (issue 15; <c>tests/bench.sh --topology</c>): a split cluster (silos plus a gateway
/// process) and a co-hosted one (silos that serve HTTP), both from deploy/local/run.sh with the same number of silos, each
/// with its own Azurite, measured in alternation with the bare-Kestrel ceiling in this process for <c>--rounds</c> rounds
/// (best round each): <c>GET /Users/{id}</c> and <c>filter=userName eq</c> on a tenant of <c>--small-users</c>, as ratios
/// to the ceiling and to each other, with each process's CPU per request. Writes results.json and report.md into --out.
/// </summary>
public static class TopologyBench
{
    /// <summary>Target of issue 15 for GET in the co-hosted topology with one silo (× the ceiling).</summary>
    public const double GetTarget = 0.75;

    /// <summary>Target of issue 15 for the indexed filter with one silo (× the ceiling).</summary>
    public const double FilterTarget = 0.65;

    private static readonly (string Key, string Script, string Name, bool Ids)[] Scripts =
    [
        ("get", "get.lua", "GET /Users/{id}", true),
        ("filter", "filter.lua", "GET /Users?filter=userName eq", false),
    ];

    public static async Task<int> RunAsync(BenchOptions o)
    {
        Directory.CreateDirectory(o.OutDir);
        var clusters = new (string Name, string Url, string DataDir)[] { ("split", o.GatewayUrl, o.DataDir), ("cohosted", o.CohostedUrl, o.CohostedDataDir) };
        var results = new JsonObject
        {
            ["context"] = new JsonObject
            {
                ["startedUtc"] = DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture),
                ["cores"] = Environment.ProcessorCount,
                ["loadAvgBefore"] = File.ReadAllText("/proc/loadavg").Trim(),
                ["options"] = JsonSerializer.SerializeToNode(o),
            },
        };

        // One tenant of the same size on each cluster; the ceiling returns the split cluster's JSON of a user.
        var seeded = new Dictionary<string, (BenchTenant Tenant, string Ids, string Names, Wrk Wrk, Profiler Profiler)>();
        byte[] userJson = [];
        foreach (var (name, url, dataDir) in clusters)
        {
            var driver = new ScimDriver(url, o.AdminKey);
            var tenant = await driver.CreateTenantAsync($"bench-{name}");
            var stats = new OpStats("seed");
            var users = await driver.SeedAsync(tenant, o.SmallUsers, o.SeedConcurrency, "small-", stats);
            if (users.Count != o.SmallUsers)
            {
                throw new InvalidOperationException($"{name}: seeded {users.Count} of {o.SmallUsers} users");
            }

            var ids = Path.GetFullPath(Path.Combine(o.OutDir, $"ids-{name}.txt"));
            var names = Path.GetFullPath(Path.Combine(o.OutDir, $"names-{name}.txt"));
            await File.WriteAllLinesAsync(ids, users.Select(u => u.Id));
            await File.WriteAllLinesAsync(names, users.Select(u => u.UserName));
            if (userJson.Length == 0)
            {
                userJson = Encoding.UTF8.GetBytes(await driver.GetRawAsync($"{tenant.ScimPath}/Users/{users[0].Id}", tenant.Token));
            }

            var profiler = new Profiler(dataDir);
            seeded[name] = (tenant, ids, names, new Wrk(o, profiler), profiler);
            Console.WriteLine($"[bench] {name}: seeded {users.Count} users");
        }

        var runs = new Dictionary<string, List<JsonObject>>();
        void Add(string key, JsonObject r) => (runs.TryGetValue(key, out var l) ? l : runs[key] = []).Add(r);
        var ceiling = await Baselines.StartCeilingAsync(o.PortBase, userJson);
        try
        {
            for (var round = 1; round <= o.Rounds; round++)
            {
                Console.WriteLine($"[bench]  topology: round {round} of {o.Rounds}");
                Add("ceiling", await seeded["split"].Wrk.RunAsync("ceiling: bare Kestrel GET (same JSON)", "get.lua", $"http://127.0.0.1:{o.PortBase}", "/ceiling", "", seeded["split"].Ids));
                foreach (var (key, script, title, byId) in Scripts)
                {
                    // Alternate which topology goes first, so neither always gets the warmer machine.
                    foreach (var (name, url, _) in round % 2 == 1 ? clusters : [.. clusters.Reverse()])
                    {
                        var s = seeded[name];
                        Add($"{key}-{name}", await s.Wrk.RunAsync($"{title}, {name}", script, url, $"{s.Tenant.ScimPath}/Users", s.Tenant.Token, byId ? s.Ids : s.Names));
                    }
                }
            }
        }
        finally
        {
            await ceiling.StopAsync();
            await ceiling.DisposeAsync();
        }

        var best = runs.ToDictionary(r => r.Key, r => Measure.BestRound(r.Value));
        var ceilingRps = Report.Num(best["ceiling"]["rps"]);
        var table = new JsonObject { ["ceiling"] = best["ceiling"] };
        var errors = 0d;
        foreach (var (key, _, title, _) in Scripts)
        {
            var row = new JsonObject { ["name"] = title };
            foreach (var (name, _, _) in clusters)
            {
                var r = best[$"{key}-{name}"];
                errors += Report.Num(r["errors"]);
                r["ratioToCeiling"] = ceilingRps > 0 ? Measure.Round(Report.Num(r["rps"]) / ceilingRps) : null;
                row[name] = r;
            }

            var split = Report.Num(best[$"{key}-split"]["rps"]);
            row["cohostedToSplit"] = split > 0 ? Measure.Round(Report.Num(best[$"{key}-cohosted"]["rps"]) / split) : null;
            table[key] = row;
        }

        results["topology"] = table;

        // The storage client (issue 15, item 4): raw upserts from this process into the split cluster's Azurite, signed with the
        // account key per request (what a connection string gives) or carrying the cluster's shared account SAS, alternated.
        var storage = new Dictionary<bool, List<JsonObject>> { [false] = [], [true] = [] };
        for (var round = 1; round <= o.Rounds; round++)
        {
            foreach (var sas in round % 2 == 1 ? new[] { false, true } : [true, false])
            {
                storage[sas].Add(await Baselines.RawTableWritesAsync(o.Storage, "BenchRawWrites", o.Connections, Math.Max(userJson.Length, 1000), o.WarmupSeconds, o.DurationSeconds, seeded["split"].Profiler, sas));
            }
        }

        results["storageClient"] = new JsonObject
        {
            ["sharedKey"] = storage[false].MaxBy(x => Report.Num(x["rps"]))!.DeepClone(),
            ["sas"] = storage[true].MaxBy(x => Report.Num(x["rps"]))!.DeepClone(),
            ["cpuMsPerWriteRounds"] = new JsonObject
            {
                ["sharedKey"] = new JsonArray([.. storage[false].Select(x => x["toolCpuMsPerWrite"]?.DeepClone())]),
                ["sas"] = new JsonArray([.. storage[true].Select(x => x["toolCpuMsPerWrite"]?.DeepClone())]),
            },
        };
        await File.WriteAllTextAsync(Path.Combine(o.OutDir, "results.json"), results.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        var report = Render(results, o);
        await File.WriteAllTextAsync(Path.Combine(o.OutDir, "report.md"), report);
        Console.WriteLine(report);
        return errors > 0 ? 1 : 0;
    }

    private static string Render(JsonObject results, BenchOptions o)
    {
        var t = results["topology"]!;
        var sb = new StringBuilder();
        var c = results["context"]!;
        sb.AppendLine(CultureInfo.InvariantCulture, $"### Topologies, {c["startedUtc"]} ({c["cores"]} cores; load before: {c["loadAvgBefore"]})");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"`tests/bench.sh --topology`: deploy/local/run.sh twice with {o.TopologySilos} silo(s) each, split (plus one gateway process) and co-hosted (the silos serve HTTP), each with its own Azurite; a tenant of {o.SmallUsers} users on each; wrk with {o.Connections} connections, {o.WarmupSeconds} s warm-up (repeated until two in a row find the cluster at most 2 % of a core in the JIT, up to {o.MaxWarmupSeconds} s), {o.DurationSeconds} s measured, {o.Rounds} round(s) alternated with the bare-Kestrel ceiling, best round each. CPU per request is every process of the cluster (gateway plus silos), in ms.");
        sb.AppendLine();
        sb.AppendLine("| scenario | topology | req/s | × ceiling | p50 ms | p99 ms | CPU ms/request (silos + gateway) | errors | rounds (req/s) |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---|");
        var ceiling = t["ceiling"]!;
        sb.AppendLine(CultureInfo.InvariantCulture, $"| ceiling: bare Kestrel | — | {ceiling["rps"]} | 1 | {ceiling["p50Ms"]} | {ceiling["p99Ms"]} | — | {ceiling["errors"]} | {string.Join(", ", ceiling["roundsRps"]!.AsArray())} |");
        foreach (var (key, _, title, _) in Scripts)
        {
            foreach (var name in new[] { "split", "cohosted" })
            {
                var r = t[key]![name]!;
                var p = r["profile"]!;
                var cpu = Report.Num(p["silosCpuMsPerRequest"]) + Report.Num(p["gatewayCpuMsPerRequest"]);
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {title} | {name} | {r["rps"]} | {r["ratioToCeiling"]} | {r["p50Ms"]} | {r["p99Ms"]} | {Measure.Round(cpu, 3)} ({p["silosCpuMsPerRequest"]} + {p["gatewayCpuMsPerRequest"]}) | {r["errors"]} | {string.Join(", ", r["roundsRps"]!.AsArray())} |");
            }
        }

        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Co-hosted ÷ split: GET {t["get"]!["cohostedToSplit"]}, filter {t["filter"]!["cohostedToSplit"]}. Targets (issue 15, one silo): GET co-hosted ≥ {GetTarget} × ceiling, filter ≥ {FilterTarget} ×.");
        sb.AppendLine();
        if (results["storageClient"] is { } sc)
        {
            var key = sc["sharedKey"]!;
            var sas = sc["sas"]!;
            sb.AppendLine(CultureInfo.InvariantCulture, $"Storage client (raw upserts of {key["payloadBytes"]} bytes at {key["concurrency"]} concurrent from the tool into Azurite, alternated, best round each): shared-key signing {key["rps"]} writes/s at {key["toolCpuMsPerWrite"]} ms of the client's CPU per write (rounds: {sc["cpuMsPerWriteRounds"]!["sharedKey"]!.ToJsonString()}); account SAS {sas["rps"]} writes/s at {sas["toolCpuMsPerWrite"]} ms (rounds: {sc["cpuMsPerWriteRounds"]!["sas"]!.ToJsonString()}).");
            sb.AppendLine();
        }
        return sb.ToString();
    }
}
