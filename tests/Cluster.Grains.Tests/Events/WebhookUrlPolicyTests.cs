using System.Net;
using Cluster.Grains.Events.Webhooks;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests.Events;

/// <summary>Which webhook URLs are stored and which addresses deliveries connect to (SSRF, DNS rebinding).</summary>
public sealed class WebhookUrlPolicyTests
{
    [Theory]
    [InlineData("https://hooks.example.com/scim")]
    [InlineData("https://hooks.example.com:8443/scim?tenant=a")]
    [InlineData("https://8.8.8.8/")]
    [InlineData("https://172.32.0.1/")] // just outside 172.16.0.0/12
    [InlineData("https://100.128.0.1/")] // just outside 100.64.0.0/10
    [InlineData("https://[2606:4700:4700::1111]/")]
    public void PublicHttpsUrlsAreAccepted(string url)
    {
        Assert.True(WebhookUrlPolicy.TryValidate(url, allowInsecure: false, out var uri, out var error), error);
        Assert.Equal(new Uri(url), uri);
    }

    [Theory]
    [InlineData("http://hooks.example.com/scim", "https")]
    [InlineData("https://127.0.0.1/", "public host")]
    [InlineData("https://127.1.2.3:8443/", "public host")]
    [InlineData("https://[::1]/", "public host")]
    [InlineData("https://10.0.0.1/", "public host")]
    [InlineData("https://172.16.0.1/", "public host")]
    [InlineData("https://172.31.255.255/", "public host")]
    [InlineData("https://192.168.1.10/", "public host")]
    [InlineData("https://100.64.0.1/", "public host")]
    [InlineData("https://169.254.169.254/latest/meta-data/", "public host")]
    [InlineData("https://168.63.129.16:32526/", "public host")]
    [InlineData("https://[fe80::1]/", "public host")]
    [InlineData("https://[fc00::1]/", "public host")]
    [InlineData("https://[fd12:3456::1]/", "public host")]
    [InlineData("https://[::ffff:127.0.0.1]/", "public host")]
    [InlineData("https://[::ffff:10.0.0.1]/", "public host")]
    [InlineData("https://0.0.0.0/", "public host")]
    [InlineData("https://2130706433/", "public host")] // 127.0.0.1 as one number; System.Uri normalises these spellings
    [InlineData("https://0x7f000001/", "public host")]
    [InlineData("https://127.1/", "public host")]
    [InlineData("https://[::]/", "public host")]
    [InlineData("https://224.0.0.1/", "public host")]
    [InlineData("https://255.255.255.255/", "public host")]
    [InlineData("https://localhost/", "public host")]
    [InlineData("https://LocalHost./", "public host")]
    [InlineData("https://hooks.localhost/", "public host")]
    public void InsecureUrlsAreRefusedByDefaultAndAllowedWithTheSetting(string url, string reason)
    {
        Assert.False(WebhookUrlPolicy.TryValidate(url, allowInsecure: false, out var uri, out var error));
        Assert.Null(uri);
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.Contains("Events:AllowInsecureWebhooks", error, StringComparison.Ordinal);

        Assert.True(WebhookUrlPolicy.TryValidate(url, allowInsecure: true, out uri, out error), error);
        Assert.NotNull(uri);
    }

    [Theory]
    [InlineData(null, "required")]
    [InlineData("", "required")]
    [InlineData("  ", "required")]
    [InlineData("hooks.example.com/scim", "absolute")]
    [InlineData("/scim", "absolute")]
    [InlineData("file:///etc/passwd", "absolute")]
    [InlineData("ftp://hooks.example.com/", "https")]
    [InlineData("gopher://hooks.example.com/", "https")]
    [InlineData("https://user:password@hooks.example.com/", "user name or password")]
    [InlineData("https://token@hooks.example.com/", "user name or password")]
    [InlineData("https://hooks.example.com/#fragment", "fragment")]
    public void MalformedUrlsAreRefusedEvenWithTheSetting(string? url, string reason)
    {
        foreach (var allowInsecure in new[] { false, true })
        {
            Assert.False(WebhookUrlPolicy.TryValidate(url, allowInsecure, out _, out var error));
            Assert.Contains(reason, error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void UrlsLongerThan2048CharactersAreRefused()
    {
        var prefix = "https://hooks.example.com/";
        Assert.True(WebhookUrlPolicy.TryValidate(prefix + new string('a', 2048 - prefix.Length), false, out _, out _));
        Assert.False(WebhookUrlPolicy.TryValidate(prefix + new string('a', 2049 - prefix.Length), false, out _, out var error));
        Assert.Contains("2048", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("8.8.8.8", true)]
    [InlineData("1.1.1.1", true)]
    [InlineData("172.15.255.255", true)]
    [InlineData("192.169.0.1", true)]
    [InlineData("2606:4700:4700::1111", true)]
    [InlineData("2a00:1450:4001:80b::200e", true)]
    [InlineData("::ffff:8.8.8.8", true)]
    [InlineData("64:ff9b::808:808", true)] // NAT64 of 8.8.8.8
    [InlineData("2002:808:808::1", true)] // 6to4 of 8.8.8.8
    [InlineData("0.0.0.0", false)]
    [InlineData("0.1.2.3", false)]
    [InlineData("10.255.255.255", false)]
    [InlineData("100.64.0.0", false)]
    [InlineData("100.127.255.255", false)]
    [InlineData("127.0.0.1", false)]
    [InlineData("127.255.255.254", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("168.63.129.16", false)]
    [InlineData("168.63.129.17", true)]
    [InlineData("172.16.0.0", false)]
    [InlineData("192.0.0.8", false)]
    [InlineData("192.0.2.1", false)]
    [InlineData("192.168.0.1", false)]
    [InlineData("198.18.0.1", false)]
    [InlineData("198.51.100.7", false)]
    [InlineData("203.0.113.9", false)]
    [InlineData("224.0.0.251", false)]
    [InlineData("239.255.255.250", false)]
    [InlineData("240.0.0.1", false)]
    [InlineData("255.255.255.255", false)]
    [InlineData("::", false)]
    [InlineData("::1", false)]
    [InlineData("::127.0.0.1", false)] // IPv4-compatible (deprecated)
    [InlineData("::ffff:127.0.0.1", false)]
    [InlineData("::ffff:169.254.169.254", false)]
    [InlineData("::ffff:192.168.0.1", false)]
    [InlineData("64:ff9b::7f00:1", false)] // NAT64 of 127.0.0.1
    [InlineData("64:ff9b::a9fe:a9fe", false)] // NAT64 of 169.254.169.254
    [InlineData("2002:7f00:1::1", false)] // 6to4 of 127.0.0.1
    [InlineData("2002:c0a8:1::1", false)] // 6to4 of 192.168.0.1
    [InlineData("fc00::1", false)]
    [InlineData("fdff:ffff::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fe80::1%2", false)]
    [InlineData("febf::1", false)]
    [InlineData("fec0::1", false)] // site-local (deprecated)
    [InlineData("ff02::1", false)]
    [InlineData("2001:db8::1", false)]
    [InlineData("2001::1", false)] // Teredo
    [InlineData("3fff::1", false)]
    [InlineData("100::1", false)] // discard-only
    public void OnlyPublicUnicastAddressesAreAllowedByDefault(string address, bool allowed)
    {
        Assert.Equal(allowed, WebhookUrlPolicy.IsAllowed(IPAddress.Parse(address), allowInsecure: false));
        Assert.True(WebhookUrlPolicy.IsAllowed(IPAddress.Parse(address), allowInsecure: true));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    [InlineData("2130706433")] // 127.0.0.1 as one decimal number
    [InlineData("[::ffff:127.0.0.1]")]
    public async Task TheConnectCallbackRefusesANonPublicHostWithoutConnecting(string host)
    {
        using var listener = TestPorts.Listening(out var port);

        await Assert.ThrowsAsync<WebhookAddressRefusedException>(
            async () => await WebhookUrlPolicy.ConnectAsync(new DnsEndPoint(host, port), allowInsecure: false, CancellationToken.None));
        Assert.False(listener.Pending());
    }

    [Fact]
    public async Task TheConnectCallbackConnectsToLoopbackWithTheSetting()
    {
        using var listener = TestPorts.Listening(out var port);

        // localhost may resolve to ::1 first, where nothing listens: the next allowed address is tried.
        await using var stream = await WebhookUrlPolicy.ConnectAsync(new DnsEndPoint("localhost", port), allowInsecure: true, CancellationToken.None);
        using var accepted = await listener.AcceptTcpClientAsync();
        Assert.True(accepted.Connected);
    }

    [Fact]
    public async Task TheHandlerEnforcesTheAddressRuleWhateverTheUrl()
    {
        using var listener = TestPorts.Listening(out var port);
        using var client = new HttpClient(WebhookUrlPolicy.CreateHandler(allowInsecure: false));

        // A plain-http loopback URL that never went through TryValidate: the handler itself refuses to connect.
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(new Uri($"http://127.0.0.1:{port}/")));
        Assert.IsType<WebhookAddressRefusedException>(error.InnerException);
        Assert.False(listener.Pending());
    }
}
