using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Cluster.Benchmarks;

/// <summary>
/// Kills a silo with SIGKILL and starts it again with the same command line, environment and working directory,
/// read from /proc before the kill (<see cref="ProcessClone"/>, which also has tests/bench.sh stop it).
/// </summary>
public static class SiloRestart
{
    public static async Task<JsonObject> KillAndRestartAsync(int pid, string dataDir)
    {
        var template = ProcessClone.Read(pid);
        var sw = Stopwatch.StartNew();
        Console.WriteLine($"[bench]   kill -9 silo {pid} ({string.Join(' ', template.CommandLine)} in {template.WorkingDirectory})");
        using (var victim = Process.GetProcessById(pid))
        {
            victim.Kill();
            await victim.WaitForExitAsync();
        }

        var killedAt = sw.Elapsed.TotalSeconds;
        var newPid = await ProcessClone.StartAsync(template, new Dictionary<string, string>(), Path.Combine(dataDir, "logs", "silo-restarted.log"), dataDir);
        var restartedAt = sw.Elapsed.TotalSeconds;
        var alive = await ProcessClone.WaitForHttpAsync(template.Url, "/alive", TimeSpan.FromSeconds(120));
        double? aliveAt = alive is { } waited ? restartedAt + waited : null;

        Console.WriteLine($"[bench]   silo restarted as pid {newPid}, alive after {aliveAt?.ToString("0.0", CultureInfo.InvariantCulture) ?? "?"} s");
        return new JsonObject
        {
            ["killedPid"] = pid,
            ["newPid"] = newPid,
            ["killSeconds"] = Measure.Round(killedAt),
            ["restartStartedSeconds"] = Measure.Round(restartedAt),
            ["aliveAfterSeconds"] = aliveAt is { } a ? Measure.Round(a) : null,
        };
    }
}
