using System.Text;
using Cluster.Grains.Events.Webhooks;

namespace Cluster.Grains.Tests.Events;

/// <summary>The <c>Scim-Signature</c> header: pinned vectors (computed with <c>openssl dgst -sha256 -hmac</c>) and what a receiver accepts.</summary>
public sealed class WebhookSignatureTests
{
    private const string Secret = "whsec_test-secret-0123456789abcdef0123456789";
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"id":"evt_1","type":"user.created"}""");
    private static readonly DateTimeOffset SignedAt = DateTimeOffset.FromUnixTimeSeconds(1767225600);

    [Fact]
    public void TheSignatureIsTheHmacSha256OfTimestampDotBodyInLowercaseHex()
    {
        // printf '%s' '1767225600.{"id":"evt_1","type":"user.created"}' | openssl dgst -sha256 -hmac 'whsec_test-secret-0123456789abcdef0123456789'
        Assert.Equal(
            "t=1767225600,v1=bf4fe47a02c9bc856b3c80568daf1fa6e3140cdfa903a12a56d169585643f524",
            WebhookSignature.Create(Secret, 1767225600, Body));
        Assert.Equal(
            WebhookSignature.Create(Secret, 1767225600, Body),
            WebhookSignature.Create(Encoding.UTF8.GetBytes(Secret), 1767225600, Body));
    }

    [Fact]
    public void TheBodyIsSignedAsRawBytesAndAnEmptyBodyToo()
    {
        // printf '%s' '1700000000.{"displayName":"Zoë"}' | openssl dgst -sha256 -hmac '…' (ë is UTF-8 c3 ab)
        Assert.Equal(
            "t=1700000000,v1=5760710d24802886243200f2eb90ccd178475c03f4624f13d24a91e9a87d73ae",
            WebhookSignature.Create(Secret, 1700000000, Encoding.UTF8.GetBytes("""{"displayName":"Zoë"}""")));
        // printf '%s' '1767225600.' | openssl dgst -sha256 -hmac '…'
        Assert.Equal(
            "t=1767225600,v1=db0af6852ec4141afa5bc82280e060bd6f3dba42d18d7d35e1b893bb7a686f11",
            WebhookSignature.Create(Secret, 1767225600, []));
    }

    [Fact]
    public void AFreshSignatureVerifies()
    {
        var header = WebhookSignature.Create(Secret, SignedAt.ToUnixTimeSeconds(), Body);
        Assert.True(WebhookSignature.Verify(header, Secret, Body, SignedAt, TimeSpan.Zero));
        Assert.True(WebhookSignature.Verify(header, Secret, Body, SignedAt.AddMinutes(5), WebhookSignature.DefaultTolerance));
        Assert.True(WebhookSignature.Verify(header, Secret, Body, SignedAt.AddMinutes(-5), WebhookSignature.DefaultTolerance));
        // Spaces after commas and upper-case hex are tolerated.
        Assert.True(WebhookSignature.Verify(header.Replace(",", ", ", StringComparison.Ordinal).ToUpperInvariant().Replace("T=", "t=", StringComparison.Ordinal).Replace("V1=", "v1=", StringComparison.Ordinal),
            Secret, Body, SignedAt, TimeSpan.Zero));
    }

    [Fact]
    public void AStaleOrFutureTimestampIsRejected()
    {
        var header = WebhookSignature.Create(Secret, SignedAt.ToUnixTimeSeconds(), Body);
        Assert.False(WebhookSignature.Verify(header, Secret, Body, SignedAt.AddSeconds(301), WebhookSignature.DefaultTolerance));
        Assert.False(WebhookSignature.Verify(header, Secret, Body, SignedAt.AddSeconds(-301), WebhookSignature.DefaultTolerance));
    }

    [Fact]
    public void AnotherSecretBodyOrTimestampIsRejected()
    {
        var header = WebhookSignature.Create(Secret, SignedAt.ToUnixTimeSeconds(), Body);
        Assert.False(WebhookSignature.Verify(header, Secret + "x", Body, SignedAt, TimeSpan.Zero));
        Assert.False(WebhookSignature.Verify(header, Secret, [.. Body, (byte)' '], SignedAt, TimeSpan.Zero));

        // The timestamp is signed: moving it forward breaks the signature even within the tolerance.
        var moved = header.Replace("t=1767225600", "t=1767225601", StringComparison.Ordinal);
        Assert.False(WebhookSignature.Verify(moved, Secret, Body, SignedAt, WebhookSignature.DefaultTolerance));
    }

    [Fact]
    public void AnyOfSeveralV1EntriesMayMatchSoSecretsCanBeRotated()
    {
        var t = SignedAt.ToUnixTimeSeconds();
        var old = WebhookSignature.Create("whsec_the-old-secret-0123456789abcdef01234", t, Body).Split(",v1=")[1];
        var current = WebhookSignature.Create(Secret, t, Body).Split(",v1=")[1];
        Assert.True(WebhookSignature.Verify($"t={t},v1={old},v1={current}", Secret, Body, SignedAt, TimeSpan.Zero));
        Assert.True(WebhookSignature.Verify($"t={t},v1={current},v1={old}", Secret, Body, SignedAt, TimeSpan.Zero));
        // Unknown schemes are ignored; they do not make a header valid on their own.
        Assert.True(WebhookSignature.Verify($"t={t},v0=abc,v1={current}", Secret, Body, SignedAt, TimeSpan.Zero));
        Assert.False(WebhookSignature.Verify($"t={t},v0={current}", Secret, Body, SignedAt, TimeSpan.Zero));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("v1=bf4fe47a02c9bc856b3c80568daf1fa6e3140cdfa903a12a56d169585643f524")]
    [InlineData("t=1767225600")]
    [InlineData("t=1767225600,v1=")]
    [InlineData("t=1767225600,v1=bf4fe47a")]
    [InlineData("t=1767225600,v1=zz4fe47a02c9bc856b3c80568daf1fa6e3140cdfa903a12a56d169585643f524")]
    [InlineData("t=1767225600,t=1767225600,v1=bf4fe47a02c9bc856b3c80568daf1fa6e3140cdfa903a12a56d169585643f524")]
    [InlineData("t=-1767225600,v1=bf4fe47a02c9bc856b3c80568daf1fa6e3140cdfa903a12a56d169585643f524")]
    [InlineData("t=99999999999999999999999,v1=bf4fe47a02c9bc856b3c80568daf1fa6e3140cdfa903a12a56d169585643f524")]
    [InlineData("t=1767225600,=x,v1=bf4fe47a02c9bc856b3c80568daf1fa6e3140cdfa903a12a56d169585643f524")]
    public void MalformedHeadersAreRejected(string? header) =>
        Assert.False(WebhookSignature.Verify(header, Secret, Body, SignedAt, WebhookSignature.DefaultTolerance));

    [Fact]
    public void TheVectorHeaderItselfVerifies() =>
        Assert.True(WebhookSignature.Verify(
            "t=1767225600,v1=bf4fe47a02c9bc856b3c80568daf1fa6e3140cdfa903a12a56d169585643f524", Secret, Body, SignedAt, TimeSpan.Zero));
}
