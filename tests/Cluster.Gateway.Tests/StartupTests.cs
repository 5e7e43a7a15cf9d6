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
}
