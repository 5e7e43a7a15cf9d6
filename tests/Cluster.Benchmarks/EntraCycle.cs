using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Cluster.Benchmarks;

/// <summary>
/// Simulates Entra provisioning many tenants at once. Initial cycle per user: match by filter (expects no match)
/// → POST; then the manager PATCH (bare-string value, Entra's form); then groups (when served); then an
/// incremental cycle: GET + PATCH for a tenth of the users, disable some (<c>"False"</c>), delete a few.
/// <paramref name="subscribe"/> (webhooks on) runs for each tenant right after it is created, before any SCIM request.
/// </summary>
public sealed class EntraCycle(ScimDriver driver, int tenants, int usersPerTenant, int concurrency, Func<BenchTenant, Task>? subscribe = null)
{
    private const string EnterpriseManager = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";

    public OpStatsSet Stats { get; } = new();

    /// <summary>Fraction (0..1) of the initial create phase done; the silo-restart run watches it.</summary>
    public double Progress => _total == 0 ? 0 : (double)Volatile.Read(ref _created) / _total;

    private int _created;
    private int _total;

    /// <summary>The tenants of the last run.</summary>
    public IReadOnlyList<BenchTenant> Tenants { get; private set; } = [];

    public async Task<JsonObject> RunAsync(string label)
    {
        var run = $"{label}{DateTime.UtcNow:HHmmss}";
        var setup = new OpStats("tenant-create");
        var tenantList = new List<BenchTenant>();
        await Measure.ForEachAsync(Enumerable.Range(0, tenants).ToArray(), concurrency, async i =>
        {
            var t = await driver.CreateTenantAsync($"entra-{run}-{i}", setup);
            if (subscribe is not null)
            {
                await subscribe(t);
            }

            lock (tenantList)
            {
                tenantList.Add(t);
            }
        });

        Tenants = tenantList;
        _total = tenants * usersPerTenant;
        var ids = tenantList.ToDictionary(t => t.TenantId, _ => new string?[usersPerTenant]);
        // Interleave tenants: Entra runs many tenants' cycles at once.
        var work = Enumerable.Range(0, usersPerTenant).SelectMany(u => tenantList.Select(t => (Tenant: t, User: u))).ToArray();

        var start = Stopwatch.GetTimestamp();
        await Measure.ForEachAsync(work, concurrency, async w =>
        {
            var name = $"{run}-{w.Tenant.TenantId[..8]}-{w.User}";
            await driver.SendAsync(Stats["1 match (GET filter)"], HttpMethod.Get, ScimDriver.FilterPath(w.Tenant, $"{name}@bench.example.com"), w.Tenant.Token, null, "", 200);
            var (status, body) = await driver.SendAsync(Stats["2 create (POST)"], HttpMethod.Post, $"{w.Tenant.ScimPath}/Users", w.Tenant.Token, ScimDriver.UserBody(name), "application/scim+json", 201);
            if (status == 201 && body is not null)
            {
                ids[w.Tenant.TenantId][w.User] = JsonNode.Parse(body)!["id"]!.GetValue<string>();
            }

            Interlocked.Increment(ref _created);
        });
        var initialSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;

        // Manager: user u reports to user 0 of its tenant (bare-string value, Entra's enterprise manager form).
        await Measure.ForEachAsync(work.Where(w => w.User > 0).ToArray(), concurrency, async w =>
        {
            var id = ids[w.Tenant.TenantId][w.User];
            var manager = ids[w.Tenant.TenantId][0];
            if (id is not null && manager is not null)
            {
                await driver.SendAsync(Stats["3 manager (PATCH)"], HttpMethod.Patch, $"{w.Tenant.ScimPath}/Users/{id}", w.Tenant.Token,
                    ScimDriver.PatchBody("Add", EnterpriseManager, manager), "application/scim+json", 200, 204);
            }
        });

        // One group per tenant; every user added with one PATCH each (how Entra adds members).
        await Measure.ForEachAsync(tenantList, concurrency, async t =>
        {
            var (status, body) = await driver.SendAsync(Stats["4 group create (POST)"], HttpMethod.Post, $"{t.ScimPath}/Groups", t.Token,
                new JsonObject { ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:Group"), ["displayName"] = $"group {run}" }.ToJsonString(), "application/scim+json", 201);
            if (status != 201 || body is null)
            {
                return;
            }

            var groupId = JsonNode.Parse(body)!["id"]!.GetValue<string>();
            foreach (var id in ids[t.TenantId].OfType<string>())
            {
                await driver.SendAsync(Stats["4 group member (PATCH)"], HttpMethod.Patch, $"{t.ScimPath}/Groups/{groupId}", t.Token,
                    ScimDriver.PatchBody("Add", "members", new JsonArray(new JsonObject { ["value"] = id })), "application/scim+json", 200, 204);
            }
        });

        // Incremental cycle: a tenth GET + PATCH, a twentieth disabled, a fiftieth deleted.
        await Measure.ForEachAsync(work, concurrency, async w =>
        {
            var id = ids[w.Tenant.TenantId][w.User];
            if (id is null)
            {
                return;
            }

            var path = $"{w.Tenant.ScimPath}/Users/{id}";
            if (w.User % 10 == 1)
            {
                await driver.SendAsync(Stats["5 incremental GET"], HttpMethod.Get, path, w.Tenant.Token, null, "", 200);
                await driver.SendAsync(Stats["5 incremental PATCH"], HttpMethod.Patch, path, w.Tenant.Token,
                    ScimDriver.PatchBody("Replace", "displayName", $"Renamed {w.User.ToString(CultureInfo.InvariantCulture)}"), "application/scim+json", 200);
            }

            if (w.User % 20 == 2)
            {
                await driver.SendAsync(Stats["6 disable (PATCH active False)"], HttpMethod.Patch, path, w.Tenant.Token,
                    ScimDriver.PatchBody("Replace", "active", "False"), "application/scim+json", 200);
            }

            if (w.User % 50 == 3)
            {
                await driver.SendAsync(Stats["7 delete (DELETE)"], HttpMethod.Delete, path, w.Tenant.Token, null, "", 204);
            }
        });

        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var created = ids.Values.Sum(a => a.Count(x => x is not null));
        var result = new JsonObject
        {
            ["tenants"] = tenants,
            ["usersPerTenant"] = usersPerTenant,
            ["concurrency"] = concurrency,
            ["usersCreated"] = created,
            ["initialCycleSeconds"] = Measure.Round(initialSeconds),
            ["usersPerSecond"] = Measure.Round(created / initialSeconds, 1),
            ["totalSeconds"] = Measure.Round(seconds),
            ["requests"] = Stats.TotalAttempts,
            ["requestsPerSecond"] = Measure.Round(Stats.TotalAttempts / seconds, 1),
            ["errors"] = Stats.TotalErrors,
            ["retries"] = Stats.TotalRetries,
            ["webhooks"] = subscribe is not null,
            ["tenantSetup"] = setup.ToJson(),
            ["operations"] = Stats.ToJson(),
        };
        Console.WriteLine($"[bench]   entra {label}: {result["usersPerSecond"]} users/s, {result["requestsPerSecond"]} req/s, errors {result["errors"]}, retries {result["retries"]}");
        return result;
    }
}
