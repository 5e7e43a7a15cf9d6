using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Cluster.Benchmarks;

/// <summary>
/// Issue 14: SCIM throughput with the provisioning log on against off, in the same run. Two more gateways are started exactly
/// like the cluster's own (<see cref="ProcessClone"/>: its command line and environment), one with <c>Portal__RequestLog=false</c>,
/// on ports <c>--port-base</c>+5 and +6; wrk runs GET, filter, POST and PATCH of the small tenant against each in turn (the order
/// alternating by round) for <c>--rounds</c> rounds, and each keeps its best round. Both gateways are idle while the other is
/// measured, so they share the silos and Azurite alike. Target: on / off ≥ 0.9 for each.
/// </summary>
public static class RequestLogScenario
{
    /// <summary>The target ratio of throughput with the log on to throughput with it off.</summary>
    public const double Target = 0.9;

    // Each wrk script and what it reads from its lines file: user ids, userNames, or nothing.
    private static readonly (string Key, string Script, string Name, string? Lines)[] Scripts =
    [
        ("get", "get.lua", "GET /Users/{id}", "ids"),
        ("filter", "filter.lua", "GET /Users?filter=userName eq", "names"),
        ("post", "post.lua", "POST /Users", null),
        ("patch", "patch.lua", "PATCH /Users/{id}", "ids"),
    ];

    public static async Task<JsonObject> RunAsync(BenchOptions o, Wrk wrk, BenchTenant tenant, string ids, string names)
    {
        var gateway = ClusterProcesses.Read(o.DataDir).FirstOrDefault(p => p.Role == "gateway");
        if (gateway.Pid == 0)
        {
            throw new InvalidOperationException("no gateway in the pids file");
        }

        var template = ProcessClone.Read(gateway.Pid);
        var urls = new Dictionary<bool, string> { [true] = $"http://127.0.0.1:{o.PortBase + 5}", [false] = $"http://127.0.0.1:{o.PortBase + 6}" };
        var pids = new List<int>();
        try
        {
            foreach (var (on, url) in urls)
            {
                pids.Add(await ProcessClone.StartAsync(
                    template,
                    new Dictionary<string, string> { ["ASPNETCORE_URLS"] = url, ["Portal__RequestLog"] = on ? "true" : "false" },
                    Path.Combine(o.DataDir, "logs", $"gateway-requestlog-{(on ? "on" : "off")}.log"),
                    o.DataDir));
            }

            foreach (var url in urls.Values)
            {
                if (await ProcessClone.WaitForHttpAsync(url, "/health", TimeSpan.FromSeconds(180)) is null)
                {
                    throw new InvalidOperationException($"the gateway at {url} did not become healthy");
                }
            }

            var runs = new Dictionary<(string Key, bool On), List<JsonObject>>();
            for (var round = 1; round <= o.Rounds; round++)
            {
                Console.WriteLine($"[bench]  provisioning log: round {round} of {o.Rounds}");
                foreach (var (key, script, name, lines) in Scripts)
                {
                    // Alternate which gateway goes first, so neither always gets the warmer caches.
                    foreach (var on in round % 2 == 1 ? new[] { true, false } : [false, true])
                    {
                        var result = await wrk.RunAsync($"{name}, provisioning log {(on ? "on" : "off")}", script, urls[on], $"{tenant.ScimPath}/Users", tenant.Token, lines switch { "ids" => ids, "names" => names, _ => null });
                        (runs.TryGetValue((key, on), out var list) ? list : runs[(key, on)] = []).Add(result);
                    }
                }
            }

            var json = new JsonObject { ["target"] = Target, ["rounds"] = o.Rounds };
            var errors = 0d;
            foreach (var (key, _, name, _) in Scripts)
            {
                var on = Best(runs[(key, true)]);
                var off = Best(runs[(key, false)]);
                errors += Report.Num(on["errors"]) + Report.Num(off["errors"]);
                var ratio = Report.Num(off["rps"]) > 0 ? Report.Num(on["rps"]) / Report.Num(off["rps"]) : double.NaN;
                json[key] = new JsonObject { ["name"] = name, ["on"] = on, ["off"] = off, ["ratio"] = double.IsNaN(ratio) ? null : Measure.Round(ratio) };
            }

            if (errors > 0)
            {
                throw new InvalidOperationException($"{errors} errors with the provisioning log on or off");
            }

            return json;
        }
        finally
        {
            foreach (var pid in pids)
            {
                await StopAsync(pid);
            }
        }
    }

    /// <summary>The section of report.md.</summary>
    public static void Render(StringBuilder sb, JsonNode? r)
    {
        if (r is null)
        {
            return;
        }

        sb.AppendLine(CultureInfo.InvariantCulture, $"**Provisioning log** (issue 14): the same traffic through two extra gateways, one with the log on and one with `Portal:RequestLog=false`, alternated for {r["rounds"]} round(s), best round each; target on/off ≥ {Target}:");
        sb.AppendLine();
        sb.AppendLine("| scenario | on req/s | off req/s | on/off | p99 ms on / off | target |");
        sb.AppendLine("|---|---:|---:|---:|---|---|");
        foreach (var (key, _, _, _) in Scripts)
        {
            if (r[key] is not { } s)
            {
                continue;
            }

            var ratio = s["ratio"] is { } value ? Report.Num(value) : double.NaN;
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {s["name"]} | {s["on"]?["rps"]} | {s["off"]?["rps"]} | {(double.IsNaN(ratio) ? "–" : ratio.ToString("0.00", CultureInfo.InvariantCulture))} | {s["on"]?["p99Ms"]} / {s["off"]?["p99Ms"]} | {(double.IsNaN(ratio) ? "–" : ratio >= Target ? "met" : "**missed**")} |");
        }

        sb.AppendLine();
    }

    private static JsonObject Best(List<JsonObject> runs)
    {
        var best = Measure.BestRound(runs);
        best.Remove("raw");
        return best;
    }

    // SIGTERM (the gateway flushes its log and leaves the cluster), SIGKILL after 30 s.
    private static async Task StopAsync(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            using (var kill = Process.Start("kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)]) ?? throw new InvalidOperationException("could not run kill"))
            {
                await kill.WaitForExitAsync();
            }

            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill();
            }
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
    }
}
