using System.Net;
using System.Net.Http.Json;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>
/// Storage that is unreachable or failing (Azure Storage 5xx) is the cluster being unable to answer right now, like a silo
/// that died (docs/operations.md, "storage unavailable"): a write that can be repeated is retried, and one that still fails
/// is a 503 with <c>Retry-After</c>, never a 500; so is a grain that cannot read its state as it activates. Orleans' storage
/// bridge hands grains the storage client's error wrapped in an <c>OrleansException</c>, which the gateway took for a bug
/// (500, no retry).
/// </summary>
public sealed class StorageOutageTests
{
    [Fact]
    public async Task AStorageOutageIsRetriedThenA503WithRetryAfter()
    {
        await using var gateway = GatewayFactory.With(new Dictionary<string, string?>()).WithStorageProbe();
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var id = (await scim.CreateUserAsync("outage@contoso.com"))["id"].Str();
        var user = GrainKeys.User(tenant.TenantId, id);

        // One failed write: the PATCH (idempotent) is repeated, on a fresh activation, and succeeds.
        StorageProbe.FailNextWritesAsOutage(user, "user");
        using (var retried = await scim.PatchUserAsync(id, EntraPayloads.SetActive("Replace", "\"False\"")))
        {
            await retried.ExpectScimAsync(HttpStatusCode.OK);
        }

        // Storage still failing: 503 with Retry-After, as SCIM, and nothing changed.
        StorageProbe.FailNextWritesAsOutage(user, "user", int.MaxValue);
        try
        {
            using var refused = await scim.PatchUserAsync(id, EntraPayloads.SetActive("Replace", "\"True\""));
            await refused.ExpectScimErrorAsync(HttpStatusCode.ServiceUnavailable);
            Assert.NotNull(refused.Headers.RetryAfter);
        }
        finally
        {
            StorageProbe.FailNextWritesAsOutage(user, "user", 0);
        }

        Assert.False((await scim.GetUserAsync(id))["active"]!.GetValue<bool>());

        // The admin API likewise (a problem, 503, Retry-After).
        StorageProbe.FailNextWritesAsOutage(GrainKeys.Tenant(tenant.TenantId), "tenant", int.MaxValue);
        try
        {
            using var admin = gateway.AdminClient();
            using var suspend = await admin.PatchAsJsonAsync($"/admin/tenants/{tenant.TenantId}", new { suspended = true });
            Assert.Equal(HttpStatusCode.ServiceUnavailable, suspend.StatusCode);
            Assert.NotNull(suspend.Headers.RetryAfter);
            Assert.Equal("application/problem+json", suspend.Content.Headers.ContentType?.MediaType);
        }
        finally
        {
            StorageProbe.FailNextWritesAsOutage(GrainKeys.Tenant(tenant.TenantId), "tenant", 0);
        }

        // A grain that cannot read its state as it activates: the same 503, not the storage client's error as a 500.
        var eventLog = GrainKeys.EventLog(tenant.TenantId);
        try
        {
            await gateway.FailEventLogReadsAsync(tenant.TenantId);
            using var admin = gateway.AdminClient();
            using var summary = await admin.GetAsync($"/admin/tenants/{tenant.TenantId}");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, summary.StatusCode);
            Assert.NotNull(summary.Headers.RetryAfter);

            // From a gateway of the split topology: the failure crosses the wire (serialized), and is still known.
            await using var split = GatewayFactory.ConnectTo(gateway);
            using var remote = split.AdminClient();
            using var remoteSummary = await remote.GetAsync($"/admin/tenants/{tenant.TenantId}");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, remoteSummary.StatusCode);
            Assert.NotNull(remoteSummary.Headers.RetryAfter);
        }
        finally
        {
            StorageProbe.FailNextReadsAsOutage(eventLog, 0);
        }
    }
}
