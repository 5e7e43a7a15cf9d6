using Cluster.TestInfrastructure;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Tests;

/// <summary>
/// A host refuses to start with settings it cannot serve (no usable operator key, invalid OAuth, cluster, storage or limit
/// settings, a topology its role does not belong to), naming the setting, instead of failing at some later request.
/// </summary>
public sealed class StartupTests
{
    [Theory]
    [InlineData("")]
    [InlineData("short-key")]
    public void GatewayWithoutAUsableAdminKeyDoesNotStart(string key) => AssertRefusesToStart("Admin:ApiKey", key, "Admin:ApiKey");

    [Theory]
    [InlineData("OAuth:AccessTokenMinutes", "59", "AccessTokenMinutes")]
    [InlineData("OAuth:AccessTokenMinutes", "361", "AccessTokenMinutes")]
    [InlineData("OAuth:BodyTimeoutSeconds", "0", "BodyTimeoutSeconds")]
    [InlineData("OAuth:BodyTimeoutSeconds", "301", "BodyTimeoutSeconds")]
    [InlineData("OAuth:Issuer", "not a url", "OAuth:Issuer")]
    [InlineData("OAuth:Issuer", "ftp://scim.example.com", "OAuth:Issuer")]
    [InlineData("Gateway:PublicBaseUrl", "scim.example.com", "Gateway:PublicBaseUrl")] // no scheme: every Tenant URL would be wrong
    [InlineData("Gateway:PublicBaseUrl", "https://scim.example.com/?x=1", "Gateway:PublicBaseUrl")]
    [InlineData("OAuth:Audience", "", "Audience")]
    [InlineData("OAuth:SigningKeyRotationDays", "0", "SigningKeyRotationDays")]
    [InlineData("RateLimits:OAuthClient:Burst", "0", "Burst")]
    public void GatewayWithInvalidOAuthSettingsDoesNotStart(string key, string value, string named) => AssertRefusesToStart(key, value, named);

    [Theory]
    [InlineData("Cluster:Topology", "both", "Cluster:Topology")]
    [InlineData("Cluster:Placement", "random", "Cluster:Placement")]
    [InlineData("Cluster:Membership", "Consul", "Cluster:Membership")]
    [InlineData("Cluster:SiloPort", "70000", "Cluster:SiloPort")]
    [InlineData("Cluster:AdvertisedIP", "not-an-ip", "Cluster:AdvertisedIP")]
    [InlineData("Cluster:ClusterId", "a b", "Cluster:ClusterId")]
    [InlineData("Cluster:ResponseTimeoutSeconds", "0", "Cluster:ResponseTimeoutSeconds")]
    [InlineData("Storage:Provider", "Cosmos", "Storage:Provider")]
    [InlineData("Storage:TableName", "1bad", "Storage:TableName")]
    [InlineData("RateLimits:Default:PermitsPerSecond", "-1", "RateLimits:Default:PermitsPerSecond")]
    [InlineData("RateLimits:Default:Burst", "0", "RateLimits:Default:Burst")]
    [InlineData("RateLimits:MaxConcurrentRequests", "-1", "RateLimits:MaxConcurrentRequests")]
    [InlineData("RateLimits:MaxConcurrentRequestsPerTenant", "-1", "RateLimits:MaxConcurrentRequestsPerTenant")]
    [InlineData("RateLimits:MaxQueuedRequestsPerTenant", "-1", "RateLimits:MaxQueuedRequestsPerTenant")]
    [InlineData("RateLimits:Tenants:not.a.tenant:Burst", "5", "not.a.tenant")]
    [InlineData("RateLimits:Tenants:0123456789abcdef0123456789abcdef:PermitsPerSecond", "-3", "PermitsPerSecond")]
    public void HostWithInvalidClusterStorageOrLimitSettingsDoesNotStart(string key, string value, string named) => AssertRefusesToStart(key, value, named);

    [Fact]
    public void TheSplitTopologysGatewayHostRefusesACohostedCluster()
    {
        using var gateway = ClientGatewayFactory.Of(TestPorts.Free(), new Dictionary<string, string?> { ["Cluster:Topology"] = "cohosted" });
        var error = Assert.Throws<InvalidOperationException>(() => gateway.CreateClient());
        Assert.Contains("Cluster:Topology", error.Message, StringComparison.Ordinal);
    }

    // The host does not start with <paramref name="key"/> = <paramref name="value"/>, and its error names <paramref name="named"/>.
    private static void AssertRefusesToStart(string key, string value, string named)
    {
        using var gateway = GatewayFactory.With(new Dictionary<string, string?> { [key] = value });
        var error = Assert.Throws<OptionsValidationException>(() => gateway.CreateClient());
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }
}
