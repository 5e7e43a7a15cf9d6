using System.Globalization;
using Microsoft.Diagnostics.Tracing.Etlx;

namespace Cluster.Benchmarks;

/// <summary>
/// Summarises a CPU profile taken by <c>dotnet-trace collect-linux --profile cpu-sampling</c> (kernel perf samples of every
/// thread, native frames included) for one process: each sample's stack goes into the first area below that it touches,
/// then the innermost managed frames on their own. tests/profile.sh takes the traces; docs/benchmarks.md ("CPU profiles")
/// holds what they said.
/// </summary>
public static class CpuProfile
{
    private static readonly (string Area, Func<IReadOnlyList<Frame>, bool> Touches)[] Areas =
    [
        ("metrics collection (the Orleans dashboard's 1 s exporter; gauges that walk every activation)",
            f => f.Any(x => x.Method.Contains("MetricReader::Collect", StringComparison.Ordinal))),
        ("JIT", f => f.Any(x => x.Module.Contains("clrjit", StringComparison.Ordinal))),
        ("thread pool: waking and parking threads",
            f => f.Any(x => x.Method.Contains("LowLevelLifoSemaphore", StringComparison.Ordinal) || x.Method.Contains("MaybeAddWorkingWorker", StringComparison.Ordinal))),
        ("grain reference creation (Orleans' GetGrain)", f => f.Any(x => x.Method.Contains("GrainFactory::GetGrain", StringComparison.Ordinal))),
        ("storage client (Azure.Data.Tables over HttpClient, and Orleans' table provider)",
            f => f.Any(x => x.Method.StartsWith("Azure.", StringComparison.Ordinal) || x.Method.StartsWith("System.Net.Http.", StringComparison.Ordinal)
                || x.Method.Contains("AzureTable", StringComparison.Ordinal))),
        ("bearer token check (SHA-256 of the presented token)", f => f.Any(x => x.Method.Contains("TenantTokenValidator::Matches", StringComparison.Ordinal))),
        ("HTTP server: Kestrel, its sockets, middleware, authentication, routing",
            f => f.Any(x => x.Method.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal))
                && !f.Any(x => x.Method.StartsWith("Cluster.Gateway.Endpoints", StringComparison.Ordinal) || x.Method.StartsWith("Cluster.Grains", StringComparison.Ordinal))),
        ("SCIM endpoints and grains (this repository's code, JSON)", f => f.Any(x => x.Method.StartsWith("Cluster.", StringComparison.Ordinal))),
        ("Orleans runtime (messages, scheduling, state storage bridge)", f => f.Any(x => x.Method.StartsWith("Orleans.", StringComparison.Ordinal))),
        ("sockets not attributed above (epoll)", f => f.Any(x => x.Method.StartsWith("System.Net.Sockets", StringComparison.Ordinal) || x.Module.Contains("native", StringComparison.Ordinal))),
        ("other managed runtime work (thread pool dispatch, async machinery)", f => f.Any(x => x.IsManaged)),
        ("native runtime without a managed frame (GC, thread start)", _ => true),
    ];

    /// <param name="tracePath">The .nettrace file.</param>
    /// <param name="pid">The traced process.</param>
    /// <param name="top">How many frames each table lists.</param>
    /// <param name="focus">When set, also lists the managed callers (the nearest few frames above it) of every managed frame whose
    /// name contains it, or of every native frame whose module's name does (<c>clrjit</c>: what the JIT compiles for); and the
    /// managed frames below it on those stacks, by inclusive share (what it spends its time in).</param>
    public static int Run(string tracePath, int pid, int top, string? focus = null)
    {
        using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(tracePath));
        var areas = new Dictionary<string, int>();
        var innermost = new Dictionary<string, int>();
        var inclusive = new Dictionary<string, int>();
        var callers = new Dictionary<string, int>();
        var callees = new Dictionary<string, int>();
        var focused = 0;
        var total = 0;
        foreach (var e in log.Events)
        {
            if (e.ProcessID != pid || !e.EventName.Contains("cpu", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            total++;
            var frames = new List<Frame>();
            for (var f = e.CallStack(); f is not null; f = f.Caller)
            {
                frames.Add(new Frame(f.CodeAddress.FullMethodName ?? "", f.CodeAddress.ModuleName ?? ""));
            }

            var area = Areas.First(a => a.Touches(frames)).Area;
            areas[area] = areas.GetValueOrDefault(area) + 1;
            if (frames.FirstOrDefault(f => f.IsManaged) is { } managed)
            {
                innermost[managed.Name] = innermost.GetValueOrDefault(managed.Name) + 1;
            }

            foreach (var name in frames.Where(f => f.IsManaged).Select(f => f.Name).Distinct())
            {
                inclusive[name] = inclusive.GetValueOrDefault(name) + 1;
            }

            if (focus is not null && frames.FindIndex(f => f.IsManaged ? f.Name.Contains(focus, StringComparison.Ordinal) : f.Module.Contains(focus, StringComparison.Ordinal)) is var at and >= 0)
            {
                var chain = string.Join(" ← ", frames.Skip(at).Where(f => f.IsManaged).Select(f => f.Name).Distinct().Take(5));
                callers[chain] = callers.GetValueOrDefault(chain) + 1;
                focused++;
                foreach (var name in frames.Take(at).Where(f => f.IsManaged).Select(f => f.Name).Distinct())
                {
                    callees[name] = callees.GetValueOrDefault(name) + 1;
                }
            }
        }

        if (total == 0)
        {
            Console.Error.WriteLine($"no CPU sample of process {pid} in {tracePath}");
            return 1;
        }

        string Share(int n) => (100.0 * n / total).ToString("0.0", CultureInfo.InvariantCulture) + " %";
        Console.WriteLine($"{total} CPU samples of process {pid}\n\n| area (first one a sample's stack touches) | share of the process's CPU |\n|---|---:|");
        foreach (var (area, n) in areas.OrderByDescending(a => a.Value))
        {
            Console.WriteLine($"| {area} | {Share(n)} |");
        }

        Console.WriteLine($"\n| innermost managed frame (top {top}) | share |\n|---|---:|");
        foreach (var (name, n) in innermost.OrderByDescending(a => a.Value).Take(top))
        {
            Console.WriteLine($"| `{name}` | {Share(n)} |");
        }

        Console.WriteLine($"\n| managed frame on the stack, inclusive (top {top * 2}) | share |\n|---|---:|");
        foreach (var (name, n) in inclusive.OrderByDescending(a => a.Value).Take(top * 2))
        {
            Console.WriteLine($"| `{name}` | {Share(n)} |");
        }

        if (focus is not null)
        {
            Console.WriteLine($"\n| stacks through `{focus}`: it and its nearest managed callers (top {top}) | share |\n|---|---:|");
            foreach (var (chain, n) in callers.OrderByDescending(a => a.Value).Take(top))
            {
                Console.WriteLine($"| `{chain}` | {Share(n)} |");
            }

            Console.WriteLine($"\n| managed frames under `{focus}` ({Share(focused)} of the samples), inclusive (top {top * 2}) | share |\n|---|---:|");
            foreach (var (name, n) in callees.OrderByDescending(a => a.Value).Take(top * 2))
            {
                Console.WriteLine($"| `{name}` | {Share(n)} |");
            }
        }

        return 0;
    }

    private sealed record Frame(string Method, string Module)
    {
        public bool IsManaged => Method.Contains("::", StringComparison.Ordinal);

        public string Name
        {
            get
            {
                var i = Method.IndexOf('(', StringComparison.Ordinal);
                var name = i > 0 ? Method[..i] : Method;
                return name.Length > 120 ? name[..120] : name;
            }
        }
    }
}
