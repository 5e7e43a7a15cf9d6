using System.Text;

namespace Cluster.Fuzz.Tests;

/// <summary>
/// The harness's state check is only as strong as <see cref="TenantSnapshot"/>: it must see every kind of change a
/// rejected request could make (and nothing else), including those the HTTP API never shows.
/// </summary>
[Collection(FuzzCollection.Name)]
public sealed class TenantSnapshotTests(FuzzCluster cluster)
{
    [Fact]
    public async Task ReadingTwiceAgrees()
    {
        var world = await cluster.SeedAsync();
        var before = await TenantSnapshot.ReadAsync(cluster.Grains, world.Tenant.TenantId);
        var again = await TenantSnapshot.ReadAsync(cluster.Grains, world.Tenant.TenantId);
        Assert.Null(again.DifferenceFrom(before));
        Assert.Equal(5, before.Users.Count);
        Assert.Equal(3, before.Groups.Count);
    }

    [Theory]
    [InlineData("a writeOnly value", "PATCH", "Users/{user}", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:acme:2.0:User:pin","value":"9999"}]}""")]
    [InlineData("a group's members", "PATCH", "Groups/{group}", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members"}]}""")]
    [InlineData("a user's attribute", "PATCH", "Users/{user}", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"Boss"}]}""")]
    [InlineData("a deleted user", "DELETE", "Users/{user}", null)]
    [InlineData("a new group", "POST", "Groups", """{"displayName":"Brand new"}""")]
    public async Task SeesTheChange(string change, string method, string path, string? body)
    {
        var world = await cluster.SeedAsync();
        var before = await TenantSnapshot.ReadAsync(cluster.Grains, world.Tenant.TenantId);
        world.Observe(before);
        using var scim = cluster.Gateway.ScimClient(world.Tenant);
        using var request = new HttpRequestMessage(new HttpMethod(method), path.Replace("{user}", world.User(0).Id, StringComparison.Ordinal).Replace("{group}", world.Group(0).Id, StringComparison.Ordinal))
        {
            Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/scim+json"),
        };
        using var response = await scim.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"{change}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");

        var after = await TenantSnapshot.ReadAsync(cluster.Grains, world.Tenant.TenantId);
        Assert.NotNull(after.DifferenceFrom(before));
    }

    [Fact]
    public async Task SeesARevokedToken()
    {
        var world = await cluster.SeedAsync();
        var before = await TenantSnapshot.ReadAsync(cluster.Grains, world.Tenant.TenantId);
        using var admin = cluster.Gateway.AdminClient();
        using var response = await admin.DeleteAsync($"/admin/tenants/{world.Tenant.TenantId}/tokens/{world.SpareTokenId}");
        Assert.Equal(System.Net.HttpStatusCode.NoContent, response.StatusCode);

        var after = await TenantSnapshot.ReadAsync(cluster.Grains, world.Tenant.TenantId);
        Assert.Contains("tenant:", after.DifferenceFrom(before), StringComparison.Ordinal);
    }
}
