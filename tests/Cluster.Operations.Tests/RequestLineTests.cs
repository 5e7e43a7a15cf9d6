using System.Net;
using Cluster.TestInfrastructure;

namespace Cluster.Operations.Tests;

/// <summary>
/// A filter as long as the SCIM limit allows (10,000 characters), sent in a GET's query string to the real Kestrel
/// server: it is served, and one past the limit is the SCIM error, not the web server's bare 414 for an 8 KiB request line.
/// </summary>
public sealed class RequestLineTests : IAsyncLifetime
{
    private readonly GatewayFactory _gateway = new();
    private Uri _address = null!;

    public Task InitializeAsync()
    {
        _address = _gateway.StartOnLoopback();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task AFilterUpToTheScimLimitIsServedAndOnePastItIsAScimError()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var http = new HttpClient { BaseAddress = new Uri(_address, new Uri(tenant.ScimUrl).AbsolutePath.TrimEnd('/') + "/") };
        http.DefaultRequestHeaders.Authorization = new("Bearer", tenant.Token);

        // 9,000 characters of which 3,000 spaces: about 15,000 bytes of request line once percent-encoded.
        var value = string.Concat(Enumerable.Repeat("ab ", 3_000));
        using (var served = await http.GetAsync("Users?filter=" + Uri.EscapeDataString($"userName eq \"{value}\"")))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            Assert.Equal("application/scim+json", served.Content.Headers.ContentType?.MediaType);
        }

        using var tooLong = await http.GetAsync("Users?filter=" + Uri.EscapeDataString($"userName eq \"{new string('a', 10_001)}\""));
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Equal("application/scim+json", tooLong.Content.Headers.ContentType?.MediaType);
        Assert.Contains("invalidFilter", await tooLong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
