using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Gateway.Tests;

/// <summary>Requests as Entra sends them, for the scale and limit tests.</summary>
internal static class ScimUsers
{
    public const string ScimJson = "application/scim+json";

    public static StringContent Json(string json) => new(json, Encoding.UTF8, ScimJson);

    public static StringContent NewUser(string userName, string? displayName = null) => Json(new JsonObject
    {
        ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:User"),
        ["userName"] = userName,
        ["externalId"] = "ext-" + userName,
        ["active"] = true,
        ["displayName"] = displayName ?? userName,
        ["emails"] = new JsonArray(new JsonObject { ["primary"] = true, ["type"] = "work", ["value"] = userName }),
    }.ToJsonString());

    public static StringContent Patch(params string[] operations) =>
        Json($$"""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{{string.Join(",", operations)}}]}""");

    public static async Task<JsonObject> BodyAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    public static async Task<string> CreateAsync(HttpClient scim, string userName)
    {
        using var response = await scim.PostAsync("Users", NewUser(userName));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await BodyAsync(response))["id"]!.GetValue<string>();
    }

    public static string Filter(string userName) => "Users?filter=" + Uri.EscapeDataString($"userName eq \"{userName}\"");

    /// <summary>
    /// A tenant whose id is chosen by the test (so configuration naming it can be given before the gateway starts),
    /// created directly on the co-hosted silo.
    /// </summary>
    public static async Task<TestTenant> CreateTenantWithIdAsync(WebApplicationFactory<Cluster.Silo.SiloHostEntry> gateway, string tenantId)
    {
        var grains = gateway.Services.GetRequiredService<IGrainFactory>();
        var token = (await grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenantId)).CreateAsync("Fixed"))!;
        var baseAddress = gateway.Server.BaseAddress.ToString().TrimEnd('/');
        return new TestTenant(tenantId, $"{baseAddress}/scim/v2/tenants/{tenantId}", token.Id, token.Secret);
    }

    public static HttpClient Authorized(HttpClient client, TestTenant tenant)
    {
        client.BaseAddress = new Uri(tenant.ScimUrl.TrimEnd('/') + "/");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tenant.Token);
        return client;
    }
}
