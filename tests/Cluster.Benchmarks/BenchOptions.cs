using System.Globalization;

namespace Cluster.Benchmarks;

/// <summary>Command-line options (<c>--name value</c>); tests/bench.sh passes them.</summary>
public sealed class BenchOptions
{
    public string GatewayUrl { get; set; } = "http://127.0.0.1:18080";
    public string AdminKey { get; set; } = "";
    public string Storage { get; set; } = "UseDevelopmentStorage=true";
    public string DataDir { get; set; } = ".data";

    /// <summary>The cluster's <c>Cluster:ServiceId</c> (deploy/local/run.sh: scim): the prefix of every grain-state PartitionKey.</summary>
    public string ServiceId { get; set; } = "scim";

    /// <summary>The cluster's grain-state table (<c>Storage:TableName</c>).</summary>
    public string StateTable { get; set; } = "ScimGrainState";
    public string OutDir { get; set; } = "artifacts/bench";
    public string LuaDir { get; set; } = "tests/bench";
    public bool Smoke { get; set; }
    public int Connections { get; set; } = 32;
    public int WarmupSeconds { get; set; } = 5;

    /// <summary>The longest warm-up of one wrk measurement: it goes on in warm-up-long steps while the cluster is still compiling (<see cref="Wrk"/>).</summary>
    public int MaxWarmupSeconds { get; set; } = 90;
    public int DurationSeconds { get; set; } = 15;
    public int SmallUsers { get; set; } = 1000;
    public int LargeUsers { get; set; } = 100_000;
    public int EntraTenants { get; set; } = 200;
    public int EntraUsers { get; set; } = 200;
    public int RestartTenants { get; set; } = 20;
    public int RestartUsers { get; set; } = 50;
    public int ManyTenants { get; set; } = 100_000;
    public int ActiveUsers { get; set; } = 10_000;
    public int SeedConcurrency { get; set; } = 32;
    public int PortBase { get; set; } = 18180;
    public int Rounds { get; set; } = 3;

    /// <summary>Webhook latency scenario: PATCHes per second (open loop), over <see cref="LatencyTenants"/> tenants.</summary>
    public int WebhookRate { get; set; } = 100;
    public int LatencyTenants { get; set; } = 10;

    /// <summary>Delivery throughput of one tenant: its last this many events are delivered again.</summary>
    public int RedeliverEvents { get; set; } = 10_000;

    /// <summary>The co-hosted cluster of the topology comparison (<c>tests/bench.sh --topology</c>): its HTTP endpoint and DATA_DIR.</summary>
    public string CohostedUrl { get; set; } = "";
    public string CohostedDataDir { get; set; } = "";

    /// <summary>
    /// Only the steps whose names contain one of these (case-insensitive; the seeding steps always run), e.g.
    /// <c>--only "provisioning log,portal"</c>; empty = every step. A partial run's report is not put into docs/benchmarks.md.
    /// </summary>
    public string[] Only { get; set; } = [];

    /// <summary>Silos of each cluster in the topology comparison (for the report).</summary>
    public int TopologySilos { get; set; } = 1;

    /// <summary>True when every size is the full default (the report says "full", else "reduced sizes").</summary>
    public bool HasFullSizes
    {
        get
        {
            var full = new BenchOptions();
            return (SmallUsers, LargeUsers, EntraTenants, EntraUsers, RestartTenants, RestartUsers, ManyTenants, ActiveUsers)
                == (full.SmallUsers, full.LargeUsers, full.EntraTenants, full.EntraUsers, full.RestartTenants, full.RestartUsers, full.ManyTenants, full.ActiveUsers);
        }
    }

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int NextInt() => int.Parse(Next(), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--gateway": o.GatewayUrl = Next(); break;
                case "--admin-key": o.AdminKey = Next(); break;
                case "--storage": o.Storage = Next(); break;
                case "--data-dir": o.DataDir = Next(); break;
                case "--out": o.OutDir = Next(); break;
                case "--lua-dir": o.LuaDir = Next(); break;
                case "--smoke": o.Smoke = true; break;
                case "--connections": o.Connections = NextInt(); break;
                case "--warmup": o.WarmupSeconds = NextInt(); break;
                case "--duration": o.DurationSeconds = NextInt(); break;
                case "--max-warmup": o.MaxWarmupSeconds = NextInt(); break;
                case "--small-users": o.SmallUsers = NextInt(); break;
                case "--large-users": o.LargeUsers = NextInt(); break;
                case "--entra-tenants": o.EntraTenants = NextInt(); break;
                case "--entra-users": o.EntraUsers = NextInt(); break;
                case "--restart-tenants": o.RestartTenants = NextInt(); break;
                case "--restart-users": o.RestartUsers = NextInt(); break;
                case "--tenants": o.ManyTenants = NextInt(); break;
                case "--active-users": o.ActiveUsers = NextInt(); break;
                case "--seed-concurrency": o.SeedConcurrency = NextInt(); break;
                case "--port-base": o.PortBase = NextInt(); break;
                case "--rounds": o.Rounds = NextInt(); break;
                case "--webhook-rate": o.WebhookRate = NextInt(); break;
                case "--latency-tenants": o.LatencyTenants = NextInt(); break;
                case "--redeliver-events": o.RedeliverEvents = NextInt(); break;
                case "--cohosted": o.CohostedUrl = Next(); break;
                case "--cohosted-data-dir": o.CohostedDataDir = Next(); break;
                case "--topology-silos": o.TopologySilos = NextInt(); break;
                case "--only": o.Only = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        return o;
    }
}
