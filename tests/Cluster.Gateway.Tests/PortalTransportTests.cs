using System.Net;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>
/// The portal is served over HTTPS only, except to a browser on the gateway's own machine. A request that a proxy on that
/// machine forwarded (it carries the proxy's headers) is not such a browser: until 2026-12-07 it was served over plain
/// HTTP, and its session cookie could travel in clear (docs/operations-tls.md).
/// </summary>
public sealed class PortalTransportTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    [Fact]
    public async Task ALoopbackBrowserIsServedOverPlainHttp()
    {
        using var client = gateway.CreateClient();
        using var page = await client.GetAsync("/portal/signin");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Theory]
    [InlineData("X-Forwarded-For", "203.0.113.9")]
    [InlineData("X-Forwarded-Proto", "http")]
    [InlineData("Forwarded", "for=203.0.113.9;proto=http")]
    [InlineData("Via", "1.1 proxy")]
    public async Task APlainRequestForwardedByAProxyIsRefused(string header, string value)
    {
        using var client = gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/portal/signin");
        request.Headers.TryAddWithoutValidation(header, value);
        using var page = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, page.StatusCode);
        Assert.Contains("served over HTTPS only", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(page.Headers.Contains("Set-Cookie"));
    }
}
