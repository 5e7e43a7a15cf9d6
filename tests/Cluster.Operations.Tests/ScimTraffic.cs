using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Cluster.TestInfrastructure;

namespace Cluster.Operations.Tests;

/// <summary>The requests Entra sends, enough to move every SCIM metric: create, conflict, disable, lookups, bad filter, bad token, delete.</summary>
internal static class ScimTraffic
{
    public const string UserName = "traffic.user@contoso.example";

    public static async Task<TestTenant> ReplayAsync(IScimTestHost gateway)
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var user = $$"""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{{UserName}}","externalId":"ext-1","active":true,"emails":[{"type":"work","primary":true,"value":"{{UserName}}"}]}""";
        using var created = await scim.PostAsync("Users", Scim(user));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();

        using var conflict = await scim.PostAsync("Users", Scim(user));
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);

        using var disable = await scim.PatchAsync($"Users/{id}", Scim("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}"""));
        Assert.Equal(HttpStatusCode.OK, disable.StatusCode);

        using var update = await scim.PatchAsync($"Users/{id}", Scim("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"True"}]}"""));
        Assert.Equal(HttpStatusCode.OK, update.StatusCode);

        using var hit = await scim.GetAsync($"Users?filter=userName+eq+%22{Uri.EscapeDataString(UserName)}%22");
        Assert.Equal(HttpStatusCode.OK, hit.StatusCode);
        using var miss = await scim.GetAsync("Users?filter=userName+eq+%22nobody%22");
        Assert.Equal(HttpStatusCode.OK, miss.StatusCode);
        using var get = await scim.GetAsync($"Users/{id}");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        using var badFilter = await scim.GetAsync("Users?filter=nonsense+eq+%22x%22");
        Assert.Equal(HttpStatusCode.BadRequest, badFilter.StatusCode);
        using var badBody = await scim.PostAsync("Users", Scim("""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x","shoeSize":44}"""));
        Assert.Equal(HttpStatusCode.BadRequest, badBody.StatusCode);
        using var config = await scim.GetAsync("ServiceProviderConfig");
        Assert.Equal(HttpStatusCode.OK, config.StatusCode);

        using (var intruder = gateway.ScimClient(tenant, token: "scim_not-a-token"))
        using (var refused = await intruder.GetAsync("Users"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using var delete = await scim.DeleteAsync($"Users/{id}");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);

        // A second user that stays, so UserGrain activations remain for the dashboard.
        using var kept = await scim.PostAsync("Users", Scim(user.Replace("traffic.user", "kept.user", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.Created, kept.StatusCode);
        return tenant;
    }

    private static StringContent Scim(string json) => new(json, Encoding.UTF8, "application/scim+json");
}
