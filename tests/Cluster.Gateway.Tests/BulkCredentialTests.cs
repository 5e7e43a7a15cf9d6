using System.Net;
using System.Net.Http.Json;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Gateway.Tests;

/// <summary>
/// A Bulk may run for minutes (hundreds of operations, each a write), but was authenticated once, before its first
/// operation. A suspension, a revocation of its token or the tenant's delete made meanwhile stops the operations not yet
/// run, as it stops single requests: each answers 403 or 401 and writes nothing. (Until 2026-12-07 the Bulk ran to its end,
/// and a long one could write a deleted tenant's rows after its erase had finished.)
/// </summary>
public sealed class BulkCredentialTests
{
    [Theory]
    [InlineData("suspend", "403")]
    [InlineData("revoke", "401")]
    [InlineData("delete", "401")]
    [InlineData("revoke-client", "401")] // a Bulk with an OAuth access token, its client revoked
    public async Task ABulkStopsWhenItsCredentialStopsHolding(string change, string status)
    {
        await using var gateway = GatewayFactory.With(new Dictionary<string, string?>()).WithStorageProbe();
        var tenant = await gateway.CreateTenantAsync();
        var client = await gateway.CreateOAuthClientAsync(tenant);
        using var scim = change == "revoke-client" ? gateway.ScimClient(tenant, await gateway.AccessTokenAsync(client)) : gateway.ScimClient(tenant);
        var first = (await scim.CreateUserAsync($"first-{Guid.NewGuid():N}@contoso.com"))["id"].Str();
        var later = $"later-{Guid.NewGuid():N}@contoso.com";

        // The Bulk's first operation is under way (its write held) when the operator acts.
        var held = StorageProbe.HoldNextWrite(GrainKeys.User(tenant.TenantId, first));
        var bulk = scim.PostAsync("Bulk", ScimTestClient.Body($$$"""
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
              {"method":"PATCH","path":"/Users/{{{first}}}","data":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"Changed"}]}},
              {"method":"POST","path":"/Users","bulkId":"later","data":{"userName":"{{{later}}}"}},
              {"method":"DELETE","path":"/Users/{{{first}}}"}
            ]}
            """));
        await held.Started.WaitAsync(TimeSpan.FromSeconds(30));
        using (var admin = gateway.AdminClient())
        {
            using var done = change switch
            {
                "suspend" => await admin.PatchAsJsonAsync($"/admin/tenants/{tenant.TenantId}", new { suspended = true }),
                "revoke" => await admin.DeleteAsync($"/admin/tenants/{tenant.TenantId}/tokens/{tenant.TokenId}"),
                "revoke-client" => await admin.DeleteAsync($"/admin/tenants/{tenant.TenantId}/oauth-clients/{client.ClientId}"),
                _ => await admin.DeleteAsync($"/admin/tenants/{tenant.TenantId}"),
            };
            Assert.True(done.IsSuccessStatusCode, $"{change}: {done.StatusCode}");
        }

        held.Release();
        using var response = await bulk;
        var ops = (await response.ExpectScimAsync(HttpStatusCode.OK))["Operations"]!.AsArray().Select(o => o!.AsObject()).ToArray();

        // The operation under way finished; the others did not run.
        Assert.Equal(["200", status, status], ops.Select(o => o["status"].Str()));
        Assert.All(ops.Skip(1), o => Assert.Contains("did not run", o["response"]!["detail"].Str(), StringComparison.Ordinal));
        if (change == "delete")
        {
            return; // nothing of the tenant is readable any more
        }

        // Nothing of them was written: the user is still there, the later one was never created.
        var grains = gateway.Services.GetRequiredService<IGrainFactory>();
        Assert.Equal(200, (await grains.GetGrain<IUserGrain>(GrainKeys.User(tenant.TenantId, first)).GetAsync()).Status);
        Assert.Equal(1, (await grains.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenant.TenantId)).GetCountsAsync()).Users);
    }
}
