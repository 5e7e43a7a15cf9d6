using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Cluster.Benchmarks;

/// <summary>
/// Issue 13's scenarios: the token endpoint's requests per second (client_secret_basic, one client), and GET /Users/{id}
/// with an OAuth access token against the same with a secret token, measured in the same run, one after the other; the goal
/// is a ratio of at least 0.95 (access tokens are validated in memory like secret tokens). bench.sh turns the per-client
/// token limit off (<c>RateLimits__OAuthClient__PermitsPerSecond=0</c>), as it does the per-tenant one.
/// </summary>
public static class OAuthBench
{
    public static async Task<JsonObject> RunAsync(BenchOptions options, Wrk wrk, BenchTenant tenant, string idsFile)
    {
        using var http = new HttpClient { BaseAddress = new Uri(options.GatewayUrl) };
        using var create = new HttpRequestMessage(HttpMethod.Post, $"/admin/tenants/{tenant.TenantId}/oauth-clients");
        create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.AdminKey);
        using var created = await http.SendAsync(create);
        created.EnsureSuccessStatusCode();
        var client = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{client["clientId"]!.GetValue<string>()}:{client["clientSecret"]!.GetValue<string>()}"));

        using var tokenRequest = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token") { Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]) };
        tokenRequest.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
        using var issued = await http.SendAsync(tokenRequest);
        issued.EnsureSuccessStatusCode();
        var accessToken = (await issued.Content.ReadFromJsonAsync<JsonObject>())!["access_token"]!.GetValue<string>();

        var token = await wrk.RunAsync("POST /oauth2/token (client_secret_basic)", "token.lua", options.GatewayUrl, "/oauth2/token", basic, null);
        var withSecret = await wrk.RunAsync("GET /Users/{id} (secret token)", "get.lua", options.GatewayUrl, $"{tenant.ScimPath}/Users", tenant.Token, idsFile);
        var withAccessToken = await wrk.RunAsync("GET /Users/{id} (OAuth access token)", "get.lua", options.GatewayUrl, $"{tenant.ScimPath}/Users", accessToken, idsFile);
        var ratio = Report.Num(withAccessToken["rps"]) / Math.Max(1, Report.Num(withSecret["rps"]));
        Console.WriteLine($"[bench]   access token / secret token GET /Users/{{id}}: {ratio:0.00} (goal ≥ 0.95)");
        var errors = Report.Num(token["errors"]) + Report.Num(withSecret["errors"]) + Report.Num(withAccessToken["errors"]);
        if (errors > 0)
        {
            throw new InvalidOperationException($"the OAuth scenarios saw {errors} errors");
        }

        return new JsonObject
        {
            ["tokenEndpoint"] = token,
            ["getWithSecretToken"] = withSecret,
            ["getWithAccessToken"] = withAccessToken,
            ["accessToSecretTokenRatio"] = Measure.Round(ratio, 3),
            ["ratioGoal"] = 0.95,
        };
    }
}
