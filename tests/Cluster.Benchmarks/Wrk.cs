using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Cluster.Benchmarks;

/// <summary>Runs wrk (warm-up, then the measured run) with one of the Lua scripts of tests/bench.</summary>
public sealed class Wrk(BenchOptions options, Profiler profiler)
{
    private static int _exec;

    public async Task<JsonObject> RunAsync(string name, string script, string baseUrl, string prefix, string token, string? linesFile)
    {
        var env = new Dictionary<string, string>
        {
            ["BENCH_LUA_DIR"] = options.LuaDir,
            ["BENCH_TOKEN"] = token,
            ["BENCH_PREFIX"] = prefix,
            ["BENCH_RUN"] = $"r{DateTime.UtcNow:HHmmss}{Random.Shared.Next(100000, 999999)}",
        };
        if (linesFile is not null)
        {
            env["BENCH_LINES"] = linesFile;
        }

        Console.WriteLine($"[bench] wrk {name}: warm-up {options.WarmupSeconds}s (until the JIT settles, at most {options.MaxWarmupSeconds}s), measure {options.DurationSeconds}s");
        var warmup = await WarmUpAsync(script, baseUrl, env);
        var cpu = CpuSample.Take();
        var before = await profiler.TakeAsync();
        var output = await ExecAsync(script, baseUrl, options.DurationSeconds, env);
        var after = await profiler.TakeAsync();
        var idle = cpu.IdleCoresUntil(CpuSample.Take());

        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("WRKJSON ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"wrk {name} printed no result:\n{output}");
        var raw = JsonNode.Parse(line["WRKJSON ".Length..])!.AsObject();
        var requests = raw["requests"]!.GetValue<long>();
        var seconds = raw["durationUs"]!.GetValue<long>() / 1e6;
        var errors = raw["non2xx3xx"]!.GetValue<long>() + raw["connectErrors"]!.GetValue<long>() + raw["readErrors"]!.GetValue<long>()
            + raw["writeErrors"]!.GetValue<long>() + raw["timeouts"]!.GetValue<long>();
        var result = new JsonObject
        {
            ["name"] = name,
            ["rps"] = Measure.Round(requests / seconds, 0),
            ["p50Ms"] = Measure.Round(raw["p50Us"]!.GetValue<long>() / 1000.0),
            ["p99Ms"] = Measure.Round(raw["p99Us"]!.GetValue<long>() / 1000.0),
            ["requests"] = requests,
            ["errors"] = errors,
            ["idleCores"] = idle,
            ["connections"] = options.Connections,
            ["raw"] = raw,
        };
        result["profile"] = Profiler.Diff(before, after, requests);
        result["warmupSeconds"] = warmup;
        Console.WriteLine($"[bench]   {name}: {result["rps"]} req/s, p50 {result["p50Ms"]} ms, p99 {result["p99Ms"]} ms, errors {errors}, idle cores {idle}");
        return result;
    }

    /// <summary>
    /// Runs the script for the warm-up, then again in warm-up-long steps until the cluster has spent at most
    /// <see cref="SettledJitCores"/> in the JIT during <see cref="SettledSteps"/> steps in a row, or
    /// <see cref="BenchOptions.MaxWarmupSeconds"/> have passed; returns the seconds spent. A path first run after start-up
    /// (the write path above all) is compiled at every tier for tens of seconds, in bursts (docs/benchmarks.md, "The JIT's
    /// first minute"); without this a measurement of CPU per request would count it.
    /// </summary>
    private async Task<int> WarmUpAsync(string script, string baseUrl, Dictionary<string, string> env)
    {
        var step = Math.Max(1, options.WarmupSeconds);
        var spent = 0;
        for (var settled = 0; ;)
        {
            var before = await profiler.TakeAsync();
            await ExecAsync(script, baseUrl, step, env);
            var jit = Profiler.JitCores(before, await profiler.TakeAsync());
            spent += step;
            settled = jit <= SettledJitCores ? settled + 1 : 0;
            if (settled == SettledSteps || spent + step > options.MaxWarmupSeconds)
            {
                return spent;
            }

            Console.WriteLine($"[bench]   JIT {Measure.Round(jit, 3)} cores in the last {step}s: warming up {step}s more");
        }
    }

    /// <summary>The cluster's JIT time below which a warm-up step counts as settled: 2 % of a core.</summary>
    public const double SettledJitCores = 0.02;

    /// <summary>Settled warm-up steps in a row before the measurement (the JIT works in bursts).</summary>
    public const int SettledSteps = 2;

    private async Task<string> ExecAsync(string script, string baseUrl, int seconds, Dictionary<string, string> env)
    {
        var psi = new ProcessStartInfo("wrk")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "-t1", $"-c{options.Connections}", $"-d{seconds}s", "--timeout", "30s", "--latency", "-s", Path.Combine(options.LuaDir, script), baseUrl })
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }

        // Warm-up and measurement are separate wrk processes: each needs its own userName prefix (POST).
        psi.Environment["BENCH_RUN"] = $"{env["BENCH_RUN"]}-{Interlocked.Increment(ref _exec)}";

        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start wrk");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var text = await stdout + await stderr;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"wrk exited with {process.ExitCode}:\n{text}");
        }

        return text;
    }
}
