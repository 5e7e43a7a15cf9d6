using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Cluster.Benchmarks;

/// <summary>A tenant created through the admin API.</summary>
public sealed record BenchTenant(string TenantId, string Token, string ScimPath);

/// <summary>A seeded user.</summary>
public sealed record BenchUser(string Id, string UserName);

/// <summary>HTTP client of the gateway that behaves like Entra: retries on 5xx, 429 and no response.</summary>
public sealed class ScimDriver(string gatewayUrl, string adminKey)
{
    private const int MaxRetries = 3;

    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
    {
        BaseAddress = new Uri(gatewayUrl),
        Timeout = TimeSpan.FromSeconds(60),
    };

    public static string UserBody(string userName, string? managerId = null)
    {
        var u = userName;
        var body = new JsonObject
        {
            ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
            ["externalId"] = u,
            ["userName"] = $"{u}@bench.example.com",
            ["active"] = true,
            ["displayName"] = $"Bench {u}",
            ["emails"] = new JsonArray(new JsonObject { ["primary"] = true, ["type"] = "work", ["value"] = $"{u}@bench.example.com" }),
            ["name"] = new JsonObject { ["formatted"] = $"Bench {u}", ["familyName"] = u, ["givenName"] = "Bench" },
            ["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] = new JsonObject { ["department"] = "Benchmarks" },
            ["roles"] = new JsonArray(),
        };
        if (managerId is not null)
        {
            body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]!["manager"] = managerId;
        }

        return body.ToJsonString();
    }

    public static string PatchBody(string op, string path, JsonNode value) => new JsonObject
    {
        ["schemas"] = new JsonArray("urn:ietf:params:scim:api:messages:2.0:PatchOp"),
        ["Operations"] = new JsonArray(new JsonObject { ["op"] = op, ["path"] = path, ["value"] = value }),
    }.ToJsonString();

    public static string FilterPath(BenchTenant t, string userName) =>
        $"{t.ScimPath}/Users?filter={Uri.EscapeDataString($"userName eq \"{userName}\"")}";

    public async Task<BenchTenant> CreateTenantAsync(string name, OpStats? stats = null)
    {
        var (status, body) = await SendAsync(stats ?? new OpStats("tenant"), HttpMethod.Post, "/admin/tenants", adminKey, new JsonObject { ["name"] = name }.ToJsonString(), "application/json", 201);
        if (status != 201 || body is null)
        {
            throw new InvalidOperationException($"creating a tenant answered {status}: {body}");
        }

        var json = JsonNode.Parse(body)!;
        var tenantId = json["tenantId"]!.GetValue<string>();
        return new BenchTenant(tenantId, json["token"]!["secret"]!.GetValue<string>(), $"/scim/v2/tenants/{tenantId}");
    }

    /// <summary>Creates <paramref name="count"/> Entra-shaped users (5 storage writes each) at <paramref name="concurrency"/>.</summary>
    public async Task<List<BenchUser>> SeedAsync(BenchTenant tenant, int count, int concurrency, string prefix, OpStats stats)
    {
        var users = new BenchUser?[count];
        await Measure.ForEachAsync(Enumerable.Range(0, count).ToArray(), concurrency, async i =>
        {
            var name = $"{prefix}{i}";
            var (status, body) = await SendAsync(stats, HttpMethod.Post, $"{tenant.ScimPath}/Users", tenant.Token, UserBody(name), "application/scim+json", 201);
            if (status == 201 && body is not null)
            {
                users[i] = new BenchUser(JsonNode.Parse(body)!["id"]!.GetValue<string>(), $"{name}@bench.example.com");
            }
        });
        return [.. users.OfType<BenchUser>()];
    }

    /// <summary>
    /// Sends a request, recording every attempt in <paramref name="stats"/>. Retries (like Entra) on no response,
    /// 429 and 5xx, up to 3 times with a short back-off. A final status other than <paramref name="expected"/> is an
    /// error, except that a POST answered 409 after a retry (the first attempt did create it) counts as success.
    /// </summary>
    public async Task<(int Status, string? Body)> SendAsync(OpStats stats, HttpMethod method, string path, string token, string? body, string contentType, params int[] expected)
    {
        for (var attempt = 0; ; attempt++)
        {
            var status = -1;
            string? text = null;
            var start = Stopwatch.GetTimestamp();
            try
            {
                using var request = new HttpRequestMessage(method, path);
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                if (body is not null)
                {
                    request.Content = new StringContent(body, Encoding.UTF8);
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
                }

                using var response = await _http.SendAsync(request);
                status = (int)response.StatusCode;
                text = await response.Content.ReadAsStringAsync();
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                status = -1;
            }

            stats.Record(status, Measure.Ms(start));
            var transient = status is -1 or (int)HttpStatusCode.TooManyRequests or >= 500;
            if (transient && attempt < MaxRetries)
            {
                Interlocked.Increment(ref stats.Retries);
                await Task.Delay(250 * (attempt + 1));
                continue;
            }

            var ok = expected.Contains(status) || (attempt > 0 && method == HttpMethod.Post && status == 409);
            if (!ok)
            {
                Interlocked.Increment(ref stats.Errors);
            }

            return (status, text);
        }
    }

    public async Task<string> GetRawAsync(string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await _http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }
}
