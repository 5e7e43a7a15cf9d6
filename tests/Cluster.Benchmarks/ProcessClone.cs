using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Cluster.Benchmarks;

/// <summary>
/// Starts a process like a running one of the cluster — the same command line, environment and working directory, read from
/// /proc — with some environment variables replaced, detached (setsid), its output appended to a log. The new pid is added to
/// <c>$DATA_DIR/bench-extra-pids</c> so that tests/bench.sh stops it (deploy/local/run.sh only knows what it started).
/// </summary>
public static class ProcessClone
{
    /// <summary>How a process was started, read before anything happens to it.</summary>
    public sealed record Template(string[] CommandLine, Dictionary<string, string> Environment, string WorkingDirectory)
    {
        /// <summary>Its first <c>ASPNETCORE_URLS</c> address, or empty.</summary>
        public string Url => Environment.GetValueOrDefault("ASPNETCORE_URLS", "").Split(';')[0];
    }

    public static Template Read(int pid)
    {
        var cmdline = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        var environ = File.ReadAllText($"/proc/{pid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        var cwd = new DirectoryInfo($"/proc/{pid}/cwd").ResolveLinkTarget(false)?.FullName ?? throw new InvalidOperationException("no cwd");
        return new Template(cmdline, environ.Select(e => e.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]), cwd);
    }

    /// <summary>Starts <paramref name="template"/> again with <paramref name="overrides"/>; returns the new pid.</summary>
    public static async Task<int> StartAsync(Template template, IReadOnlyDictionary<string, string> overrides, string logPath, string dataDir)
    {
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = template.WorkingDirectory };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec setsid \"$@\" >>\"$BENCH_CLONE_LOG\" 2>&1 </dev/null");
        psi.ArgumentList.Add("sh");
        foreach (var arg in template.CommandLine)
        {
            psi.ArgumentList.Add(arg);
        }

        psi.Environment.Clear();
        foreach (var (k, v) in template.Environment.Concat(overrides))
        {
            psi.Environment[k] = v;
        }

        psi.Environment["BENCH_CLONE_LOG"] = logPath;
        using var started = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {string.Join(' ', template.CommandLine)}");
        await File.AppendAllTextAsync(Path.Combine(dataDir, "bench-extra-pids"), started.Id.ToString(CultureInfo.InvariantCulture) + "\n", Encoding.ASCII);
        return started.Id;
    }

    /// <summary>Seconds until <c>GET {url}{path}</c> answers 2xx (null: not within <paramref name="timeout"/>).</summary>
    public static async Task<double?> WaitForHttpAsync(string url, string path, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        while (sw.Elapsed < timeout && url.Length > 0)
        {
            try
            {
                if ((await http.GetAsync(new Uri(new Uri(url), path))).IsSuccessStatusCode)
                {
                    return sw.Elapsed.TotalSeconds;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(250);
        }

        return null;
    }
}
