using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Cluster.Benchmarks;

/// <summary>Renders results.json as the Markdown section that tests/bench.sh puts into docs/benchmarks.md.</summary>
public static class Report
{
    private static double D(JsonNode? n, string key) => n?[key] is JsonValue v ? Num(v) : double.NaN;

    /// <summary>Any JSON number (int, long or double node) as a double; 0 for null.</summary>
    public static double Num(JsonNode? n) =>
        n is JsonValue && double.TryParse(n.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : 0;

    private static string F(double v, string format = "0") => double.IsNaN(v) ? "–" : v.ToString(format, CultureInfo.InvariantCulture);

    private static string Ratio(double a, double b) => double.IsNaN(a) || double.IsNaN(b) || b == 0 ? "–" : (a / b).ToString("0.00", CultureInfo.InvariantCulture);

    private static string Target(double a, double b, double min) => double.IsNaN(a) || double.IsNaN(b) || b == 0 ? "–" : a / b >= min ? "met" : "**missed**";

    /// <summary>Issue 12: writes with a webhook against without, delivery throughput, latency, lost events.</summary>
    private static void RenderWebhooks(StringBuilder sb, JsonObject r, JsonObject s)
    {
        var w = r["webhooks"] as JsonObject ?? [];
        sb.AppendLine("**Webhooks** (issue 12; the receiver is a bare Kestrel in the tool's process on 127.0.0.1 that answers 200 at once and records the `Scim-Event-Id`)");
        sb.AppendLine();
        foreach (var (key, without, name) in new[] { ("postWebhook", "postSmall", "POST /Users"), ("patchWebhook", "patch", "PATCH /Users/{id}") })
        {
            if (s[key] is { } with && with["notRun"] is null)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"- {name} with a webhook subscribed: {F(D(with, "rps"))} req/s = **{Ratio(D(with, "rps"), D(s[without], "rps"))} × without** (target ≥ 0.8: {Target(D(with, "rps"), D(s[without], "rps"), 0.8)}); at the end of the measurement {with["backlogAtEnd"]} events were still to deliver, all delivered {with["catchUpSeconds"]} s later");
            }
        }

        foreach (var key in new[] { "deliveryOneTenant", "deliveryManyTenants" })
        {
            if (w[key] is { } d)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"- delivery to the local receiver, {d["name"]}{(key == "deliveryOneTenant" ? " (one event in flight, in sequence order)" : "")}: {d["delivered"]} events delivered again in {d["seconds"]} s = **{d["eventsPerSecond"]} events/s** (idle cores {d["idleCores"]})");
            }
        }

        if (w["latency"] is { } l)
        {
            var p99 = D(l, "p99Ms");
            sb.AppendLine(CultureInfo.InvariantCulture, $"- latency from the SCIM acknowledgement (the 200 of a PATCH) to the webhook's arrival, {l["ratePerSecond"]} PATCH/s (open loop) for {l["sendSeconds"]} s over {l["tenants"]} tenants: p50 **{l["p50Ms"]} ms**, p99 **{l["p99Ms"]} ms** (target < 1 s: {(double.IsNaN(p99) ? "–" : p99 < 1000 ? "met" : "**missed**")}), max {l["maxMs"]} ms, min {l["minMs"]} ms (an event can arrive before the client has read its 200); {l["measured"]} of {l["acknowledged"]} acknowledged PATCHes measured, {l["missing"]} never arrived; the PATCHes themselves took p50 {l["patch"]?["p50Ms"]} ms, p99 {l["patch"]?["p99Ms"]} ms");
        }

        foreach (var (key, name) in new[] { ("entra", "Entra cycle"), ("entraRestart", "Entra cycle with a silo killed") })
        {
            if (r[key]?["webhookEvents"] is { } e)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"- {name}, a webhook per tenant: {e["feedEvents"]} events in {e["tenants"]} feeds, {e["deliveries"]} deliveries ({e["repeated"]} repeated), **lost {e["lost"]}** (target 0: {(Num(e["lost"]) == 0 ? "met" : "**missed**")}), delivered but not in the feed {e["notInFeed"]}; every webhook caught up {e["catchUpSeconds"]} s after the cycle");
            }
        }

        sb.AppendLine();
    }

    public static string Render(JsonObject r)
    {
        var sb = new StringBuilder();
        var ctx = r["context"]!;
        var b = r["baselines"] as JsonObject ?? [];
        var s = r["scenarios"] as JsonObject ?? [];
        var seeding = r["seeding"] as JsonObject ?? [];
        var opts = ctx["options"]!;
        var ceiling = D(b["ceiling"], "rps");
        var grain = D(b["grain"], "rps");
        var storage = D(b["storage"], "rps");
        var storageFull = D(b["storageStateTable"], "rps");
        const int WritesPerCreate = 6; // user, 3 index entries, directory partition, event log (docs/architecture.md)

        sb.AppendLine(CultureInfo.InvariantCulture, $"### Run {ctx["startedUtc"]} ({ctx["mode"]})");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Machine: {ctx["cores"]} cores ({ctx["cpuModel"]}), shared with other builds. Idle cores before the run: **{ctx["idleCoresBefore"]}**, after: **{ctx["idleCoresAfter"]}** (from /proc/stat over 2 s); load average before `{ctx["loadAvgBefore"]}`, after `{ctx["loadAvgAfter"]}`. " +
            $"wrk -t1 -c{opts["Connections"]}, warm-up {opts["WarmupSeconds"]} s (repeated until two in a row find the cluster spending at most 2 % of a core in the JIT, up to {opts["MaxWarmupSeconds"]} s), measure {opts["DurationSeconds"]} s. Sizes: small tenant {opts["SmallUsers"]} users, large tenant {opts["LargeUsers"]}, Entra {opts["EntraTenants"]} × {opts["EntraUsers"]}, restart run {opts["RestartTenants"]} × {opts["RestartUsers"]}, {opts["ManyTenants"]} tenants, {opts["ActiveUsers"]} active users. " +
            $"User JSON: {r["userJsonBytes"]} bytes. Total {ctx["totalSeconds"]} s.");
        sb.AppendLine();
        sb.AppendLine("| scenario | req/s | p50 ms | p99 ms | errors | idle cores | ratio | target |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---|---|");
        // A partial run (BENCH_ONLY) leaves steps out by design: a missing result there is not a failure.
        var missing = opts["Only"] is JsonArray { Count: > 0 } ? "not run (left out by BENCH_ONLY)" : "not run (failed)";
        void Row(JsonNode? n, string fallbackName, string ratio, string target)
        {
            if (n is null)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {fallbackName} | – | – | – | – | – | {missing} | |");
                return;
            }

            if (n["notRun"] is not null)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {n["name"] ?? fallbackName} | – | – | – | – | – | {n["notRun"]} | |");
                return;
            }

            var rounds = n["roundsRps"] is JsonArray { Count: > 1 } rr ? $" (best of {string.Join(" / ", rr.Select(x => F(Num(x))))})" : "";
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {n["name"] ?? fallbackName} | {F(D(n, "rps"))}{rounds} | {F(D(n, "p50Ms"), "0.0")} | {F(D(n, "p99Ms"), "0.0")} | {n["errors"]} | {F(D(n, "idleCores"), "0.00")} | {ratio} | {target} |");
        }

        Row(b["ceiling"], "ceiling", "baseline", "");
        Row(b["grain"], "bare grain call", $"{Ratio(grain, ceiling)} × ceiling", "");
        Row(b["storage"], "Azurite raw upserts", "baseline (writes/s)", "");
        Row(b["storageStateTable"], "Azurite raw upserts (state table)", $"baseline (writes/s); {Ratio(storageFull, storage)} × empty table", "");
        var get = D(s["get"], "rps");
        Row(s["get"], "GET /Users/{id}", $"{Ratio(get, ceiling)} × ceiling; {Ratio(get, grain)} × grain call",
            $"≥0.65: {Target(get, ceiling, 0.65)}; ≥0.9: {Target(get, grain, 0.9)}");
        var fs = D(s["filterSmall"], "rps");
        var fl = D(s["filterLarge"], "rps");
        Row(s["filterSmall"], "filter (small)", $"{Ratio(fs, ceiling)} × ceiling; {Ratio(fs, grain)} × grain call", $"≥0.55: {Target(fs, ceiling, 0.55)}");
        Row(s["filterLarge"], "filter (large)", $"{Ratio(fl, ceiling)} × ceiling; large/small {Ratio(fl, fs)}", $"≥0.55: {Target(fl, ceiling, 0.55)}; flat (≥0.9): {Target(fl, fs, 0.9)}");
        var ps = D(s["postSmall"], "rps");
        var pl = D(s["postLarge"], "rps");
        Row(s["postSmall"], "POST (small)", $"×{WritesPerCreate} writes = {F(ps * WritesPerCreate)} writes/s = {Ratio(ps * WritesPerCreate, storage)} × storage limit ({Ratio(ps * WritesPerCreate, storageFull)} × state-table limit)", $"≥0.8: {Target(ps * WritesPerCreate, storage, 0.8)}");
        Row(s["postLarge"], "POST (large)", $"{Ratio(pl * WritesPerCreate, storage)} × storage limit ({Ratio(pl * WritesPerCreate, storageFull)} × state-table limit); large/small {Ratio(pl, ps)}", $"≥0.8: {Target(pl * WritesPerCreate, storage, 0.8)}; flat (≥0.9): {Target(pl, ps, 0.9)}");
        Row(s["patch"], "PATCH /Users/{id}", $"×1 write = {Ratio(D(s["patch"], "rps"), storage)} × storage limit", "");
        var pw = D(s["postWebhook"], "rps");
        var patchWithout = D(s["patch"], "rps");
        var patchWith = D(s["patchWebhook"], "rps");
        Row(s["postWebhook"], "POST with a webhook", $"{Ratio(pw, ps)} × POST without", $"≥0.8: {Target(pw, ps, 0.8)}");
        Row(s["patchWebhook"], "PATCH with a webhook", $"{Ratio(patchWith, patchWithout)} × PATCH without", $"≥0.8: {Target(patchWith, patchWithout, 0.8)}");
        Row(s["groupPatch"], "PATCH /Groups/{id} add one member", "", "");
        Row(s["groupPatchLarge"], "PATCH /Groups/{id} add one member (large group)",
            $"large group / small group {Ratio(D(s["groupPatchLarge"], "rps"), D(s["groupPatch"], "rps"))}", "");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"POST bodies are Entra-shaped (userName + externalId + work email): **{WritesPerCreate} storage writes per create** (and 3 reads: the new index entries'). PATCH changes displayName (not indexed): 1 write.");
        sb.AppendLine();

        sb.AppendLine("Where the time goes during each measurement (CPU cores used, of " + ctx["cores"] + "; \"wrk + foreign\" = machine busy minus the processes listed; storage operations from the silos' Orleans metrics; JIT: time the cluster's processes spent compiling during the measurement, part of their CPU; warm-up: seconds of the same load before it):");
        sb.AppendLine();
        sb.AppendLine("| scenario | gateway | silos | Azurite | tool | wrk + foreign | machine busy | storage reads/req | writes/req | avg write ms | gateway CPU ms/req | silos CPU ms/req | JIT ms/req | warm-up s |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var n in new[] { b["ceiling"], b["grain"], b["storage"], b["storageStateTable"], s["get"], s["filterSmall"], s["filterLarge"], s["postSmall"], s["postLarge"], s["patch"], s["postWebhook"], s["patchWebhook"], s["groupPatch"], s["groupPatchLarge"] })
        {
            if (n?["profile"] is not { } p)
            {
                continue;
            }

            sb.AppendLine(CultureInfo.InvariantCulture, $"| {n["name"]} | {p["gatewayCores"]} | {p["silosCores"]} | {p["azuriteCores"]} | {p["toolCores"]} | {p["wrkAndForeignCores"]} | {p["machineBusyCores"]} | {p["storageReadsPerRequest"]} | {p["storageWritesPerRequest"]} | {p["storageWriteAvgMs"]} | {p["gatewayCpuMsPerRequest"]} | {p["silosCpuMsPerRequest"]} | {p["jitMsPerRequest"]} | {n["warmupSeconds"]} |");
        }

        sb.AppendLine();
        sb.AppendLine("**Seeding** (through the API, Entra-shaped users, concurrency " + opts["SeedConcurrency"] + "):");
        sb.AppendLine();
        foreach (var (name, n) in seeding)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"- {name}: {n?["users"]} users in {n?["seconds"]} s ({n?["usersPerSecond"]} users/s, errors {n?["errors"]}){(n?["storageBytesPerUser"] is { } bpu ? $"; the tenant's {n?["storageRows"]} grain-state rows hold {n?["storageBytes"]} bytes by Azure's entity-size formula = **{bpu} bytes per user**" : "")}");
        }

        sb.AppendLine();
        RenderWebhooks(sb, r, s);
        foreach (var key in new[] { "entra", "entraRestart" })
        {
            var e = r[key];
            sb.AppendLine(key == "entra" ? "**Entra cycle simulation**" : "**Entra cycle while one silo is killed (SIGKILL) and restarted**");
            sb.AppendLine();
            if (e is null || e["notRun"] is not null)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"not run: {e?["notRun"] ?? "failed (see failures)"}");
                sb.AppendLine();
                continue;
            }

            sb.AppendLine(CultureInfo.InvariantCulture, $"{e["tenants"]} tenants × {e["usersPerTenant"]} users, {e["concurrency"]} concurrent requests: initial cycle **{e["usersPerSecond"]} users/s** ({e["initialCycleSeconds"]} s), **{e["requestsPerSecond"]} requests/s** overall ({e["requests"]} attempts in {e["totalSeconds"]} s), **errors {e["errors"]}**, retries {e["retries"]}.");
            if (e["restart"] is { } rs)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"Silo pid {rs["killedPid"]} killed at {e["progressAtKill"]}; restarted as pid {rs["newPid"]}, alive {rs["aliveAfterSeconds"]} s after the kill.");
            }

            sb.AppendLine();
            sb.AppendLine("| operation | attempts | p50 ms | p99 ms | max ms | status codes seen | retries | errors |");
            sb.AppendLine("|---|---:|---:|---:|---:|---|---:|---:|");
            foreach (var (op, n) in (JsonObject)e["operations"]!)
            {
                var codes = string.Join(", ", ((JsonObject)n!["statuses"]!).Select(kv => $"{(kv.Key == "-1" ? "no response" : kv.Key)}: {kv.Value}"));
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {op} | {n["attempts"]} | {n["p50Ms"]} | {n["p99Ms"]} | {n["maxMs"]} | {codes} | {n["retries"]} | {n["errors"]} |");
            }

            sb.AppendLine();
        }

        if (r["memory"] is JsonObject m)
        {
            sb.AppendLine("**Memory and tenant scale** (MB, both silos together; heap = live managed heap right after a forced full GC, from the silos' `dotnet_gc_last_collection_heap_*` metrics; RSS = VmRSS from /proc/<pid>/status, which does not fall when activations are collected)");
            sb.AppendLine();
            sb.AppendLine(CultureInfo.InvariantCulture, $"- collection age: {m["collectionAge"]}");
            sb.AppendLine(CultureInfo.InvariantCulture, $"- heap idle before: {m["heapIdleBeforeMB"]}; with {m["activeUsers"]} active users: {m["heapWithActiveUsersMB"]} → **{m["heapMBPer10kActiveUsers"]} MB per 10,000 active users**; after idle collection: **{m["heapAfterIdleCollectionMB"]}**. RSS: {m["rssIdleBefore"]?["silosTotalMB"]} → {m["rssWithActiveUsers"]?["silosTotalMB"]} ({m["siloMBPer10kActiveUsers"]} per 10,000) → {m["rssAfterIdleCollection"]?["silosTotalMB"]}");
            sb.AppendLine(CultureInfo.InvariantCulture, $"- {m["tenantsCreated"]} tenants created in {m["tenantsSeconds"]} s ({m["tenantsPerSecond"]}/s, p99 {m["tenantCreate"]?["p99Ms"]} ms, errors {m["tenantCreate"]?["errors"]}); heap with them active: {m["heapWithTenantsActiveMB"]} ({m["heapMBPer10kActiveTenants"]} MB per 10,000); once idle (collected): **{m["heapIdleWithTenantsMB"]}**; RSS {m["rssWithTenantsActive"]?["silosTotalMB"]} ({m["siloMBPer10kActiveTenants"]} per 10,000), then {m["rssIdleWithTenants"]?["silosTotalMB"]}; storage **{m["storageBytesPerTenant"]} bytes per tenant** (Azure's entity-size formula, 10 sampled)");
            sb.AppendLine(CultureInfo.InvariantCulture, $"- first request to a cold tenant (filter; tenant + index grains activated from storage): p50 **{m["coldTenantFirstRequest"]?["p50Ms"]} ms**, max {m["coldTenantFirstRequest"]?["maxMs"]} ms; the same request warm: p50 {m["warmTenantSecondRequest"]?["p50Ms"]} ms");
            sb.AppendLine(CultureInfo.InvariantCulture, $"- GET /Users/{{id}} of a collected user (warm tenant): p50 **{m["coldUserGet"]?["p50Ms"]} ms**, max {m["coldUserGet"]?["maxMs"]} ms; warm: p50 {m["warmUserGet"]?["p50Ms"]} ms");
            sb.AppendLine(CultureInfo.InvariantCulture, $"- all processes after the tenant run: {m["rssIdleWithTenants"]?.ToJsonString()}");
            sb.AppendLine();
        }

        RequestLogScenario.Render(sb, r["requestLog"]);
        PortalBench.Render(sb, r["portal"]);
        if (r["failures"] is JsonArray { Count: > 0 } failures)
        {
            sb.AppendLine("**Failures:**");
            sb.AppendLine();
            foreach (var f in failures)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"- {f}");
            }

            sb.AppendLine();
        }

        return sb.ToString();
    }
}
