using Cluster.TestInfrastructure;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Tests;

/// <summary>The gateway refuses to start without a usable operator key, instead of serving an unprotected admin API.</summary>
public sealed class StartupTests
{
    [Theory]
    [InlineData("")]
    [InlineData("short-key")]
    public void GatewayWithoutAUsableAdminKeyDoesNotStart(string key)
    {
        using var gateway = GatewayFactory.With(new Dictionary<string, string?> { ["Admin:ApiKey"] = key });
        var error = Assert.Throws<OptionsValidationException>(() => gateway.CreateClient());
        Assert.Contains("Admin:ApiKey", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("OAuth:AccessTokenMinutes", "59", "AccessTokenMinutes")]
    [InlineData("OAuth:AccessTokenMinutes", "361", "AccessTokenMinutes")]
    [InlineData("OAuth:Issuer", "not a url", "OAuth:Issuer")]
    [InlineData("OAuth:Issuer", "ftp://scim.example.com", "OAuth:Issuer")]
    [InlineData("OAuth:Audience", "", "Audience")]
    [InlineData("OAuth:SigningKeyRotationDays", "0", "SigningKeyRotationDays")]
    [InlineData("RateLimits:OAuthClient:Burst", "0", "Burst")]
    public void GatewayWithInvalidOAuthSettingsDoesNotStart(string key, string value, string named)
    {
        using var gateway = GatewayFactory.With(new Dictionary<string, string?> { [key] = value });
        var error = Assert.Throws<OptionsValidationException>(() => gateway.CreateClient());
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }
}
