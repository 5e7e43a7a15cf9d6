using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Cluster.Benchmarks;

/// <summary>Latencies and status codes of one kind of operation; thread-safe.</summary>
public sealed class OpStats(string name)
{
    private readonly Lock _lock = new();
    private readonly List<double> _latenciesMs = [];
    private readonly SortedDictionary<int, int> _statuses = [];

    public string Name { get; } = name;

    public int Retries;

    public int Errors;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _latenciesMs.Count;
            }
        }
    }

    /// <summary>Records one attempt: its status (-1 = no response: timeout or connection error) and latency.</summary>
    public void Record(int status, double ms)
    {
        lock (_lock)
        {
            _latenciesMs.Add(ms);
            _statuses[status] = _statuses.GetValueOrDefault(status) + 1;
        }
    }

    public double Percentile(double p)
    {
        lock (_lock)
        {
            return Measure.Percentile(_latenciesMs, p);
        }
    }

    public JsonObject ToJson()
    {
        lock (_lock)
        {
            var statuses = new JsonObject();
            foreach (var (status, count) in _statuses)
            {
                statuses[status.ToString(CultureInfo.InvariantCulture)] = count;
            }

            return new JsonObject
            {
                ["attempts"] = _latenciesMs.Count,
                ["p50Ms"] = Measure.Round(Measure.Percentile(_latenciesMs, 50)),
                ["p99Ms"] = Measure.Round(Measure.Percentile(_latenciesMs, 99)),
                ["maxMs"] = Measure.Round(_latenciesMs.Count == 0 ? 0 : _latenciesMs.Max()),
                ["statuses"] = statuses,
                ["retries"] = Retries,
                ["errors"] = Errors,
            };
        }
    }
}

/// <summary>A set of <see cref="OpStats"/> by operation name.</summary>
public sealed class OpStatsSet
{
    private readonly ConcurrentDictionary<string, OpStats> _ops = new();

    public OpStats this[string name] => _ops.GetOrAdd(name, n => new OpStats(n));

    public IEnumerable<OpStats> All => _ops.Values.OrderBy(o => o.Name, StringComparer.Ordinal);

    public int TotalAttempts => _ops.Values.Sum(o => o.Count);

    public int TotalErrors => _ops.Values.Sum(o => o.Errors);

    public int TotalRetries => _ops.Values.Sum(o => o.Retries);

    public JsonObject ToJson()
    {
        var json = new JsonObject();
        foreach (var op in All)
        {
            json[op.Name] = op.ToJson();
        }

        return json;
    }
}

public static class Measure
{
    /// <summary>
    /// The best of several rounds of one scenario (foreign load on a shared box only ever slows a run down): its result, with
    /// every round's req/s (<c>roundsRps</c>) and the errors of all rounds.
    /// </summary>
    public static JsonObject BestRound(IReadOnlyCollection<JsonObject> rounds)
    {
        var best = rounds.MaxBy(r => Report.Num(r["rps"]))!.DeepClone().AsObject();
        best["roundsRps"] = new JsonArray([.. rounds.Select(r => (JsonNode)Report.Num(r["rps"]))]);
        best["errors"] = rounds.Sum(r => Report.Num(r["errors"]));
        return best;
    }

    public static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        var sorted = values.ToArray();
        Array.Sort(sorted);
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }

    public static double Round(double value, int digits = 2) => Math.Round(value, digits, MidpointRounding.AwayFromZero);

    public static double Ms(long startTimestamp) => Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds;

    /// <summary>Runs <paramref name="work"/> over <paramref name="items"/> with <paramref name="concurrency"/> workers.</summary>
    public static async Task ForEachAsync<T>(IReadOnlyList<T> items, int concurrency, Func<T, Task> work)
    {
        var next = -1;
        var workers = Enumerable.Range(0, Math.Max(1, Math.Min(concurrency, items.Count))).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < items.Count)
            {
                await work(items[i]);
            }
        });
        await Task.WhenAll(workers);
    }
}

/// <summary>Machine-wide CPU from /proc/stat: how much of the box was idle during an interval.</summary>
public sealed class CpuSample
{
    private readonly long _idle;
    private readonly long _total;

    private CpuSample(long idle, long total)
    {
        _idle = idle;
        _total = total;
    }

    public static CpuSample Take()
    {
        var line = File.ReadLines("/proc/stat").First();
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var idle = parts[3] + (parts.Length > 4 ? parts[4] : 0); // idle + iowait
        var total = parts.Take(8).Sum(); // user nice system idle iowait irq softirq steal
        return new CpuSample(idle, total);
    }

    /// <summary>Idle cores (0..ProcessorCount) between this sample and <paramref name="later"/>.</summary>
    public double IdleCoresUntil(CpuSample later)
    {
        var total = later._total - _total;
        return total <= 0 ? 0 : Measure.Round((double)(later._idle - _idle) / total * Environment.ProcessorCount);
    }

    public static async Task<double> IdleCoresOverAsync(TimeSpan span)
    {
        var a = Take();
        await Task.Delay(span);
        return a.IdleCoresUntil(Take());
    }
}

/// <summary>The processes of the local cluster, from <c>$DATA_DIR/pids</c> ("role pid port" per line).</summary>
public static class ClusterProcesses
{
    public static List<(string Role, int Pid, int Port)> Read(string dataDir)
    {
        var file = Path.Combine(dataDir, "pids");
        var result = new List<(string, int, int)>();
        if (!File.Exists(file))
        {
            return result;
        }

        foreach (var line in File.ReadAllLines(file))
        {
            var p = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (p.Length == 3 && int.TryParse(p[1], CultureInfo.InvariantCulture, out var pid) && int.TryParse(p[2], CultureInfo.InvariantCulture, out var port))
            {
                result.Add((p[0], pid, port));
            }
        }

        return result;
    }

    /// <summary>Resident set size of a process in bytes (VmRSS), or 0 if it is gone.</summary>
    public static long RssBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }
}
