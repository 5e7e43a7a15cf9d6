using System.Text;
using System.Text.Json.Nodes;
using Cluster.Scim;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Fuzz.Tests;

/// <summary>The test collection sharing one <see cref="FuzzCluster"/>.</summary>
[CollectionDefinition(Name)]
public sealed class FuzzCollection : ICollectionFixture<FuzzCluster>
{
    public const string Name = "Fuzz";
}

/// <summary>
/// The system under test: the real gateway pipeline (<see cref="GatewayFactory"/>: co-hosted silo, memory storage, the
/// test extension schemas) with production settings, except that rate limits are off — at fuzzing speed they would only
/// answer 429 and hide everything else — and logging is at warnings (thousands of requests would flood the test output).
/// One for the test collection; every surface seeds its own tenants (<see cref="SeedAsync"/>).
/// </summary>
public sealed class FuzzCluster : IAsyncLifetime
{
    public GatewayFactory Gateway { get; } = GatewayFactory.With(new Dictionary<string, string?>
    {
        ["RateLimits:Default:PermitsPerSecond"] = "0",
        ["Logging:LogLevel:Default"] = "Warning",
    });

    /// <summary>The cluster's grains, for reading tenants' state directly (<see cref="TenantSnapshot"/>).</summary>
    public IGrainFactory Grains => Gateway.Services.GetRequiredService<IGrainFactory>();

    /// <summary>A client without default headers: every header of a <see cref="FuzzRequest"/> is the generator's.</summary>
    // No cookie container: a request carries exactly the cookies its generator gave it (the portal surface).
    public HttpClient CreateClient() => Gateway.CreateClient(new() { HandleCookies = false });

    /// <summary>
    /// Two fresh tenants: the target, with users and groups (members, a nested group, a manager, extension values, a spare
    /// token that may be revoked), and another tenant whose ids and token the generators use to probe isolation.
    /// </summary>
    public async Task<FuzzWorld> SeedAsync()
    {
        var tenant = await Gateway.CreateTenantAsync("Fuzzed tenant");
        var other = await Gateway.CreateTenantAsync("Other tenant");
        using var admin = Gateway.AdminClient();
        using var issued = await admin.PostAsync($"/admin/tenants/{tenant.TenantId}/tokens", null);
        var spareTokenId = (await ReadAsync(issued))["id"]!.GetValue<string>();

        var world = new FuzzWorld(tenant, other, spareTokenId, this,
            await Gateway.CreateOAuthClientAsync(tenant), await Gateway.CreateOAuthClientAsync(tenant), await Gateway.CreateOAuthClientAsync(other));
        await world.TopUpAsync();

        using var scim = Gateway.ScimClient(other);
        var otherUser = await CreateAsync(scim, "Users", UserBody("other.user@fabrikam.com"));
        var otherGroup = await CreateAsync(scim, "Groups", GroupBody("Other group", otherUser));
        world.SetOtherTenantIds(otherUser, otherGroup);
        world.SetPortalSession(await PortalBrowser.OpenAsync(Gateway, tenant.TenantId));
        return world;
    }

    /// <summary>Creates a resource over HTTP (setup, not fuzzing) and returns its id.</summary>
    internal static async Task<string> CreateAsync(HttpClient scim, string endpoint, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/scim+json");
        using var response = await scim.PostAsync(endpoint, content);
        return (await ReadAsync(response))["id"]!.GetValue<string>();
    }

    internal static string UserBody(string userName, string? managerId = null) => new JsonObject
    {
        ["schemas"] = new JsonArray(ScimConstants.UserSchema, ScimConstants.EnterpriseUserSchema, TestExtension.UserUrn),
        ["userName"] = userName,
        ["externalId"] = "ext-" + userName,
        ["active"] = true,
        ["name"] = new JsonObject { ["givenName"] = "Jo", ["familyName"] = "Wong" },
        ["emails"] = new JsonArray(new JsonObject { ["value"] = userName, ["type"] = "work", ["primary"] = true }),
        [ScimConstants.EnterpriseUserSchema] = new JsonObject
        {
            ["employeeNumber"] = "E-1",
            ["department"] = "Ops",
            ["manager"] = managerId is null ? null : new JsonObject { ["value"] = managerId },
        },
        [TestExtension.UserUrn] = new JsonObject { ["site"] = "Oslo", ["badgeId"] = "B-1", ["pin"] = "1234", ["tags"] = new JsonArray("a", "b") },
    }.ToJsonString();

    internal static string GroupBody(string displayName, params string[] memberIds) => new JsonObject
    {
        ["schemas"] = new JsonArray(ScimConstants.GroupSchema, TestExtension.GroupUrn),
        ["displayName"] = displayName,
        ["members"] = new JsonArray([.. memberIds.Select(id => (JsonNode)new JsonObject { ["value"] = id })]),
        [TestExtension.GroupUrn] = new JsonObject { ["costCode"] = "CC-1", ["code"] = "G-1" },
    }.ToJsonString();

    private static async Task<JsonObject> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Seeding failed: {(int)response.StatusCode} {text}");
        }

        return (JsonObject)JsonNode.Parse(text)!;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await Gateway.DisposeAsync();
}
