using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Cluster.Benchmarks;

/// <summary>
/// Issue 14: the customer portal's page render time for the large tenant (<c>--large-users</c> users, and a provisioning log
/// holding every request of its seeding and of the write scenarios). A session is opened with a setup link and its page's
/// form, as the admin's browser does; each page is requested <see cref="Requests"/> times, one at a time, in rounds that alternate with the
/// baseline: GET /Users/{id} of the same tenant through the same gateway (a SCIM read: one authentication, one grain call).
/// Reported: p50 and p99 per page, and the page's p99 as a ratio of the baseline's, measured in the same rounds.
/// </summary>
public static class PortalBench
{
    private const int Requests = 40;

    public static async Task<JsonObject> RunAsync(BenchOptions o, BenchTenant tenant, IReadOnlyList<BenchUser> users)
    {
        using var handler = new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = true };
        using var portal = new HttpClient(handler) { BaseAddress = new Uri(o.GatewayUrl), Timeout = TimeSpan.FromSeconds(60) };
        using var admin = new HttpClient { BaseAddress = new Uri(o.GatewayUrl) };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", o.AdminKey);
        using var link = await admin.PostAsJsonAsync($"/admin/tenants/{tenant.TenantId}/setup-links", new { expiresInMinutes = 60 });
        link.EnsureSuccessStatusCode();
        var url = new Uri((await link.Content.ReadFromJsonAsync<JsonObject>())!["url"]!.GetValue<string>()).PathAndQuery;
        string form;
        using (var opened = await portal.GetAsync(url))
        {
            opened.EnsureSuccessStatusCode();
            form = await opened.Content.ReadAsStringAsync();
        }

        // The link's page asks before it starts a session: its form, posted with the page's antiforgery token.
        var token = System.Text.RegularExpressions.Regex.Match(form, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        using (var continued = await portal.PostAsync(url, new FormUrlEncodedContent([new("__RequestVerificationToken", token)])))
        {
            continued.EnsureSuccessStatusCode();
        }

        using var scim = new HttpClient { BaseAddress = new Uri(o.GatewayUrl) };
        scim.DefaultRequestHeaders.Authorization = new("Bearer", tenant.Token);

        var root = $"/portal/t/{tenant.TenantId}";
        var someone = users[users.Count / 2];
        (string Key, string Name, string Path)[] pages =
        [
            ("connect", "Connect Entra", root),
            ("status", "Status", root + "/status"),
            ("log", "Provisioning log (newest page)", root + "/log"),
            ("logErrors", "Provisioning log, errors only", root + "/log?outcome=error"),
            ("logResource", "Provisioning log, one user", root + "/log?resourceId=" + someone.Id),
            ("users", "Users (first page)", root + "/users"),
            ("usersSearch", "Users, search by userName", root + "/users?q=" + Uri.EscapeDataString(someone.UserName)),
            ("user", "One user", root + "/users/" + someone.Id),
            ("groups", "Groups", root + "/groups"),
        ];

        var latencies = pages.ToDictionary(p => p.Key, _ => new List<double>());
        var baseline = new List<double>();
        var errors = 0;
        for (var round = 0; round < o.Rounds; round++)
        {
            for (var i = 0; i < Requests; i++)
            {
                baseline.Add(await TimeAsync(scim, $"{tenant.ScimPath}/Users/{users[i % users.Count].Id}", () => errors++));
            }

            foreach (var (key, _, path) in pages)
            {
                for (var i = 0; i < Requests; i++)
                {
                    latencies[key].Add(await TimeAsync(portal, path, () => errors++));
                }
            }
        }

        var baselineP99 = Measure.Percentile(baseline, 99);
        var result = new JsonObject
        {
            ["users"] = users.Count,
            ["requestsPerPage"] = Requests * o.Rounds,
            ["errors"] = errors,
            ["baseline"] = new JsonObject { ["name"] = "GET /Users/{id} (same tenant, same gateway)", ["p50Ms"] = Measure.Round(Measure.Percentile(baseline, 50)), ["p99Ms"] = Measure.Round(baselineP99) },
        };
        var json = new JsonObject();
        foreach (var (key, name, _) in pages)
        {
            var p99 = Measure.Percentile(latencies[key], 99);
            json[key] = new JsonObject
            {
                ["name"] = name,
                ["p50Ms"] = Measure.Round(Measure.Percentile(latencies[key], 50)),
                ["p99Ms"] = Measure.Round(p99),
                ["p99VsBaseline"] = Measure.Round(p99 / Math.Max(baselineP99, 0.001)),
            };
            Console.WriteLine($"[bench]   {name}: p99 {p99:0.0} ms ({p99 / Math.Max(baselineP99, 0.001):0.0} × GET /Users/{{id}})");
        }

        result["pages"] = json;
        if (errors > 0)
        {
            throw new InvalidOperationException($"{errors} portal or baseline requests failed");
        }

        return result;
    }

    /// <summary>The section of report.md.</summary>
    public static void Render(StringBuilder sb, JsonNode? r)
    {
        if (r?["pages"] is not JsonObject pages)
        {
            return;
        }

        sb.AppendLine(CultureInfo.InvariantCulture, $"**Customer portal** (issue 14): page render time for the tenant of {r["users"]} users and its full provisioning log, {r["requestsPerPage"]} requests per page one at a time through a setup-link session; baseline {r["baseline"]?["name"]}, p99 {r["baseline"]?["p99Ms"]} ms, in the same rounds:");
        sb.AppendLine();
        sb.AppendLine("| page | p50 ms | p99 ms | p99 / baseline p99 |");
        sb.AppendLine("|---|---:|---:|---:|");
        foreach (var (_, page) in pages)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {page?["name"]} | {page?["p50Ms"]} | {page?["p99Ms"]} | {page?["p99VsBaseline"]} |");
        }

        sb.AppendLine();
    }

    private static async Task<double> TimeAsync(HttpClient http, string path, Action failed)
    {
        var clock = Stopwatch.StartNew();
        using var response = await http.GetAsync(path, HttpCompletionOption.ResponseContentRead);
        var elapsed = clock.Elapsed.TotalMilliseconds;
        if (!response.IsSuccessStatusCode)
        {
            failed();
        }

        return elapsed;
    }
}
