using System.Net;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Gateway.Tests;

/// <summary>
/// Issue 13, one authentication model: each surface authenticates with its own scheme and answers in its own format, for
/// routed and unrouted requests alike; a suspended tenant's SCIM calls are 403 and change nothing, and resuming restores them.
/// </summary>
public sealed class SurfaceAuthTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    [Fact]
    public async Task ASuspendedTenantGets403OnEverySCIMCallAndResumingRestoresIt()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var user = await scim.CreateUserAsync("paused@contoso.com");
        var tenantGrain = gateway.Services.GetRequiredService<IGrainFactory>().GetGrain<ITenantGrain>(GrainKeys.Tenant(tenant.TenantId));
        Assert.True((await tenantGrain.UpdateAsync(null, suspended: true))!.Suspended);

        // Within the credential cache's time every call is refused, writes change nothing.
        await WaitForStatusAsync(scim, "Users", HttpStatusCode.Forbidden);
        foreach (var (method, path, body) in new[] { ("GET", "Users", (string?)null), ("POST", "Users", EntraPayloads.MinimalUser("new@contoso.com")), ("PATCH", $"Users/{user["id"].Str()}", EntraPayloads.SetActive("Replace", "\"False\"")), ("DELETE", $"Users/{user["id"].Str()}", null), ("GET", "NoSuchEndpoint", null) })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = body is null ? null : ScimTestClient.Body(body) };
            using var response = await scim.SendAsync(request);
            var error = await response.ExpectScimErrorAsync(HttpStatusCode.Forbidden);
            Assert.Contains("suspended", error["detail"].Str(), StringComparison.Ordinal);
        }

        // A wrong token is still the same 401 (suspension reveals nothing to strangers).
        using (var stranger = gateway.ScimClient(tenant, "scim_" + new string('x', 43)))
        using (var refused = await stranger.GetAsync("Users"))
        {
            await refused.ExpectScimErrorAsync(HttpStatusCode.Unauthorized);
        }

        Assert.False((await tenantGrain.UpdateAsync(null, suspended: false))!.Suspended);
        await WaitForStatusAsync(scim, "Users", HttpStatusCode.OK);
        Assert.True((await scim.GetUserAsync(user["id"].Str()))["active"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("GET", "NoSuchEndpoint", HttpStatusCode.NotFound)]
    [InlineData("PUT", "Users", HttpStatusCode.MethodNotAllowed)]
    [InlineData("GET", "Users/a/b/c", HttpStatusCode.NotFound)]
    public async Task UnroutedScimRequestsAreAuthenticatedFirstThenAnsweredAsScim(string method, string path, HttpStatusCode status)
    {
        var tenant = await gateway.CreateTenantAsync();
        using var anonymous = gateway.ScimClient(tenant);
        anonymous.DefaultRequestHeaders.Authorization = null;
        using (var refused = await anonymous.SendAsync(new HttpRequestMessage(new HttpMethod(method), path)))
        {
            await refused.ExpectScimErrorAsync(HttpStatusCode.Unauthorized);
            Assert.Equal("Bearer", refused.Headers.WwwAuthenticate.Single().Scheme);
        }

        using var scim = gateway.ScimClient(tenant);
        using var answered = await scim.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        await answered.ExpectScimErrorAsync(status);
    }

    [Theory]
    [InlineData("GET", "/admin/tenants/0123456789abcdef0123456789abcdef", HttpStatusCode.NotFound)]
    [InlineData("GET", "/admin/nothing", HttpStatusCode.NotFound)]
    [InlineData("DELETE", "/admin/tenants", HttpStatusCode.MethodNotAllowed)]
    public async Task AdminRequestsNeedTheOperatorKeyAndAnswerProblems(string method, string path, HttpStatusCode status)
    {
        using var anonymous = gateway.CreateClient();
        using (var refused = await anonymous.SendAsync(new HttpRequestMessage(new HttpMethod(method), path)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        }

        using var admin = gateway.AdminClient();
        using var answered = await admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Equal(status, answered.StatusCode);
        Assert.Equal("application/problem+json", answered.Content.Headers.ContentType?.MediaType);
        if (status == HttpStatusCode.MethodNotAllowed)
        {
            Assert.Equal(["GET", "POST"], answered.Content.Headers.Allow.Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task ATenantTokenIsNotAnOperatorKeyAndTheOperatorKeyIsNotATenantToken()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var asOperator = gateway.CreateClient();
        asOperator.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", tenant.Token);
        using (var refused = await asOperator.GetAsync($"/admin/tenants/{tenant.TenantId}"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using var asTenant = gateway.ScimClient(tenant, GatewayFactory.AdminKey);
        using var scimRefused = await asTenant.GetAsync("Users");
        await scimRefused.ExpectScimErrorAsync(HttpStatusCode.Unauthorized);
    }

    private static async Task WaitForStatusAsync(HttpClient scim, string path, HttpStatusCode status)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var response = await scim.GetAsync(path);
            if (response.StatusCode == status)
            {
                return;
            }

            Assert.True(attempt < 100, $"still {response.StatusCode}, expected {status}");
            await Task.Delay(100);
        }
    }
}
