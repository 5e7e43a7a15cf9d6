using System.Globalization;
using System.Text.Json.Nodes;

namespace Cluster.Benchmarks;

/// <summary>
/// Where the time goes during a measurement: CPU of each cluster process and of this tool (from /proc/&lt;pid&gt;/stat),
/// the machine's busy CPU (/proc/stat; the rest is wrk plus foreign load), the silos' storage operations
/// (Orleans' <c>orleans_storage_read/write_latency</c> histograms from each silo's <c>/metrics</c>) and the time every
/// cluster process spent in the JIT (the runtime's <c>dotnet_jit_compilation_time_seconds_total</c>).
/// </summary>
public sealed class Profiler(string dataDir)
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>The runtime's counter of time spent compiling methods (every tier), in seconds since the process started.</summary>
    private const string JitSeconds = "dotnet_jit_compilation_time_seconds_total";

    public sealed record Snapshot(DateTime At, Dictionary<string, long> Ticks, long MachineBusy, long MachineTotal, Dictionary<string, double> Storage, double JitSeconds);

    public async Task<Snapshot> TakeAsync()
    {
        var ticks = new Dictionary<string, long>();
        var storage = new Dictionary<string, double>();
        double jit = 0;
        foreach (var (role, pid, _) in ClusterProcesses.Read(dataDir))
        {
            // A co-hosted silo ("silo+gateway") counts as a silo: its gateway work is part of its CPU.
            var silo = role.StartsWith("silo", StringComparison.Ordinal);
            var key = silo ? "silos" : role;
            ticks[key] = ticks.GetValueOrDefault(key) + ProcessTicks(pid);
            if (MetricsUrl(pid) is not { } url)
            {
                continue;
            }

            try
            {
                var text = await _http.GetStringAsync(url);
                jit += Sum(text, JitSeconds);
                if (silo)
                {
                    foreach (var metric in new[] { "orleans_storage_read_latency_milliseconds_count", "orleans_storage_write_latency_milliseconds_count", "orleans_storage_write_latency_milliseconds_sum", "orleans_storage_read_latency_milliseconds_sum" })
                    {
                        storage[metric] = storage.GetValueOrDefault(metric) + Sum(text, metric);
                    }
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
        }

        ticks["tool"] = ProcessTicks(Environment.ProcessId);
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var total = cpu.Sum();
        return new Snapshot(DateTime.UtcNow, ticks, total - cpu[3] - cpu[4], total, storage, jit);
    }

    /// <summary>
    /// The silos' managed heap after their last GC, without fragmentation (MB, summed over silos): the live objects
    /// when a full GC was just forced (IManagementGrain.ForceGarbageCollection). Unlike RSS it falls when activations
    /// are collected; the runtime keeps the memory it grew, so RSS does not.
    /// </summary>
    public async Task<double> SilosLiveHeapMbAsync()
    {
        double bytes = 0;
        foreach (var (role, pid, _) in ClusterProcesses.Read(dataDir))
        {
            if (role.StartsWith("silo", StringComparison.Ordinal) && MetricsUrl(pid) is { } url)
            {
                var text = await _http.GetStringAsync(url);
                bytes += Sum(text, "dotnet_gc_last_collection_heap_size_bytes") - Sum(text, "dotnet_gc_last_collection_heap_fragmentation_size_bytes");
            }
        }

        return Measure.Round(bytes / 1048576.0, 1);
    }

    /// <summary>Cores the cluster's processes spent in the JIT between two snapshots.</summary>
    public static double JitCores(Snapshot a, Snapshot b) => (b.JitSeconds - a.JitSeconds) / Math.Max(0.001, (b.At - a.At).TotalSeconds);

    public static JsonObject Diff(Snapshot a, Snapshot b, double requests)
    {
        var seconds = (b.At - a.At).TotalSeconds;
        var json = new JsonObject();
        double known = 0;
        foreach (var (key, t) in b.Ticks)
        {
            var cores = (t - a.Ticks.GetValueOrDefault(key)) / TicksPerSecond / seconds;
            known += cores;
            json[$"{key}Cores"] = Measure.Round(cores);
        }

        var totalCores = b.MachineTotal - a.MachineTotal;
        var busyCores = totalCores <= 0 ? 0 : (double)(b.MachineBusy - a.MachineBusy) / totalCores * Environment.ProcessorCount;
        json["machineBusyCores"] = Measure.Round(busyCores);
        json["wrkAndForeignCores"] = Measure.Round(Math.Max(0, busyCores - known));
        json["jitCores"] = Measure.Round(JitCores(a, b), 3);
        double D(Snapshot s, string m) => s.Storage.GetValueOrDefault(m);
        var reads = D(b, "orleans_storage_read_latency_milliseconds_count") - D(a, "orleans_storage_read_latency_milliseconds_count");
        var writes = D(b, "orleans_storage_write_latency_milliseconds_count") - D(a, "orleans_storage_write_latency_milliseconds_count");
        var writeMs = D(b, "orleans_storage_write_latency_milliseconds_sum") - D(a, "orleans_storage_write_latency_milliseconds_sum");
        var readMs = D(b, "orleans_storage_read_latency_milliseconds_sum") - D(a, "orleans_storage_read_latency_milliseconds_sum");
        if (requests > 0)
        {
            json["storageReadsPerRequest"] = Measure.Round(reads / requests);
            json["storageWritesPerRequest"] = Measure.Round(writes / requests);
            json["silosCpuMsPerRequest"] = Measure.Round(json["silosCores"]?.GetValue<double>() * seconds * 1000 / requests ?? 0, 3);
            json["gatewayCpuMsPerRequest"] = Measure.Round(json["gatewayCores"]?.GetValue<double>() * seconds * 1000 / requests ?? 0, 3);
            json["jitMsPerRequest"] = Measure.Round((b.JitSeconds - a.JitSeconds) * 1000 / requests, 3);
        }

        json["storageWriteAvgMs"] = writes > 0 ? Measure.Round(writeMs / writes) : null;
        json["storageReadAvgMs"] = reads > 0 ? Measure.Round(readMs / reads) : null;
        return json;
    }

    private static long ProcessTicks(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static Uri? MetricsUrl(int pid)
    {
        try
        {
            var env = File.ReadAllText($"/proc/{pid}/environ").Split('\0');
            var urls = env.FirstOrDefault(e => e.StartsWith("ASPNETCORE_URLS=", StringComparison.Ordinal))?["ASPNETCORE_URLS=".Length..].Split(';')[0];
            return urls is null ? null : new Uri(new Uri(urls), "/metrics");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static double Sum(string prometheusText, string metric)
    {
        double sum = 0;
        foreach (var line in prometheusText.Split('\n'))
        {
            if (line.StartsWith(metric, StringComparison.Ordinal) && (line.Length > metric.Length && (line[metric.Length] == '{' || line[metric.Length] == ' ')))
            {
                var value = line[(line.LastIndexOf(' ') + 1)..];
                if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                {
                    sum += v;
                }
            }
        }

        return sum;
    }
}
