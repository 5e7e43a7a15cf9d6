using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Cluster.Benchmarks;

/// <summary>
/// Kills a silo with SIGKILL and starts it again with the same command line, environment and working directory,
/// read from /proc before the kill. The new pid is appended to <c>$DATA_DIR/bench-extra-pids</c> so that
/// tests/bench.sh stops it (deploy/local/run.sh only knows the processes it started).
/// </summary>
public static class SiloRestart
{
    public static async Task<JsonObject> KillAndRestartAsync(int pid, string dataDir)
    {
        var cmdline = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        var environ = File.ReadAllText($"/proc/{pid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        var cwd = new DirectoryInfo($"/proc/{pid}/cwd").ResolveLinkTarget(false)?.FullName ?? throw new InvalidOperationException("no cwd");
        var env = environ.Select(e => e.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        var url = env.GetValueOrDefault("ASPNETCORE_URLS", "").Split(';')[0];

        var sw = Stopwatch.StartNew();
        Console.WriteLine($"[bench]   kill -9 silo {pid} ({string.Join(' ', cmdline)} in {cwd})");
        using (var victim = Process.GetProcessById(pid))
        {
            victim.Kill();
            await victim.WaitForExitAsync();
        }

        var killedAt = sw.Elapsed.TotalSeconds;
        var log = Path.Combine(dataDir, "logs", "silo-restarted.log");
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = cwd };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec setsid \"$@\" >>\"$BENCH_RESTART_LOG\" 2>&1 </dev/null");
        psi.ArgumentList.Add("sh");
        foreach (var arg in cmdline)
        {
            psi.ArgumentList.Add(arg);
        }

        psi.Environment.Clear();
        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }

        psi.Environment["BENCH_RESTART_LOG"] = log;
        using var started = Process.Start(psi) ?? throw new InvalidOperationException("could not restart the silo");
        var newPid = started.Id;
        await File.AppendAllTextAsync(Path.Combine(dataDir, "bench-extra-pids"), newPid.ToString(CultureInfo.InvariantCulture) + "\n", Encoding.ASCII);
        var restartedAt = sw.Elapsed.TotalSeconds;

        double? aliveAt = null;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        while (sw.Elapsed < TimeSpan.FromSeconds(120) && url.Length > 0)
        {
            try
            {
                if ((await http.GetAsync(new Uri(new Uri(url), "/alive"))).IsSuccessStatusCode)
                {
                    aliveAt = sw.Elapsed.TotalSeconds;
                    break;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(250);
        }

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
