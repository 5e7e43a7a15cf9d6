using System.Buffers.Text;
using System.Security.Cryptography;
using Cluster.Grains.Events;
using Cluster.Grains.Events.Webhooks;

namespace Cluster.Grains.Tests.Events;

/// <summary>Webhook secrets: generated ones, admin-chosen ones, and their encryption at rest (invariant 2).</summary>
public sealed class WebhookSecretTests
{
    private static readonly byte[] Key = Convert.FromBase64String(EventsOptions.NewSecretKey());

    [Fact]
    public void AGeneratedSecretIsWhsecAnd256RandomBits()
    {
        var secrets = Enumerable.Range(0, 100).Select(_ => WebhookSecret.New()).ToList();
        Assert.All(secrets, s =>
        {
            Assert.StartsWith(WebhookSecret.Prefix, s, StringComparison.Ordinal);
            Assert.Equal(32, Base64Url.DecodeFromChars(s.AsSpan(WebhookSecret.Prefix.Length)).Length);
            Assert.Null(WebhookSecret.Validate(s));
        });
        Assert.Equal(secrets.Count, secrets.Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("too-short-0123456789")]
    [InlineData("has a space in it 0123456789abcdef0123")]
    [InlineData("non-ascii-é-0123456789abcdef0123456789")]
    [InlineData("control\u0001-0123456789abcdef0123456789ab")]
    public void AnUnusableAdminSecretIsRefusedWithoutEchoingIt(string? secret)
    {
        var error = WebhookSecret.Validate(secret);
        Assert.NotNull(error);
        if (!string.IsNullOrEmpty(secret))
        {
            Assert.DoesNotContain(secret, error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AnAdminSecretOf32To256VisibleAsciiCharactersIsAccepted()
    {
        Assert.Null(WebhookSecret.Validate(new string('x', 32)));
        Assert.Null(WebhookSecret.Validate("Abc!#$%&'()*+,-./:;<=>?@[]^_`{|}~0123456789"));
        Assert.NotNull(WebhookSecret.Validate(new string('x', 257)));
    }

    [Fact]
    public void AProtectedSecretRoundTripsAndDoesNotContainTheSecret()
    {
        var protector = new WebhookSecretProtector(Key);
        var secret = WebhookSecret.New();
        var stored = protector.Protect(secret, "tenant-a");

        Assert.StartsWith($"v1.{protector.KeyId}.", stored, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, stored, StringComparison.Ordinal);
        Assert.DoesNotContain(secret[WebhookSecret.Prefix.Length..], stored, StringComparison.Ordinal);
        Assert.Equal(secret, protector.Unprotect(stored, "tenant-a"));
        // A fresh nonce each time: the same secret never looks the same twice.
        Assert.NotEqual(stored, protector.Protect(secret, "tenant-a"));
        // Another protector under the same key (another silo, after a restart) reads it.
        Assert.Equal(secret, new WebhookSecretProtector(Key).Unprotect(stored, "tenant-a"));
    }

    [Fact]
    public void EveryAlteredByteIsDetected()
    {
        var protector = new WebhookSecretProtector(Key);
        var stored = protector.Protect("whsec_0123456789abcdef0123456789abcdef", "tenant-a");
        var prefix = stored[..(stored.LastIndexOf('.') + 1)];
        var payload = Base64Url.DecodeFromChars(stored.AsSpan(prefix.Length));
        for (var i = 0; i < payload.Length; i++)
        {
            var altered = payload.ToArray();
            altered[i] ^= 0x01;
            var tampered = prefix + Base64Url.EncodeToString(altered);
            Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(tampered, "tenant-a"));
        }

        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(stored[..^2], "tenant-a"));
        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(prefix + Base64Url.EncodeToString(payload.AsSpan(0, 28)), "tenant-a"));
    }

    [Fact]
    public void AValueFromAnotherTenantOrUnderAnotherKeyDoesNotDecrypt()
    {
        var protector = new WebhookSecretProtector(Key);
        var stored = protector.Protect("whsec_0123456789abcdef0123456789abcdef", "tenant-a");

        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(stored, "tenant-b"));

        var otherKey = new WebhookSecretProtector(Convert.FromBase64String(EventsOptions.NewSecretKey()));
        var wrongKey = Assert.ThrowsAny<CryptographicException>(() => otherKey.Unprotect(stored, "tenant-a"));
        Assert.Contains(protector.KeyId, wrongKey.Message, StringComparison.Ordinal);

        // Claiming the other key's id does not help: the key id is authenticated too.
        var relabelled = stored.Replace(protector.KeyId, otherKey.KeyId, StringComparison.Ordinal);
        Assert.ThrowsAny<CryptographicException>(() => otherKey.Unprotect(relabelled, "tenant-a"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("plain-secret")]
    [InlineData("v2.00000000.AAAA")]
    [InlineData("v1.00000000")]
    [InlineData("v1.{kid}.not base64!")]
    public void MalformedValuesAreRefused(string stored)
    {
        var protector = new WebhookSecretProtector(Key);
        var error = Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(stored.Replace("{kid}", protector.KeyId, StringComparison.Ordinal), "tenant-a"));
        Assert.DoesNotContain("whsec_", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheKeyMustBe32Bytes()
    {
        Assert.Throws<ArgumentException>(() => new WebhookSecretProtector(new byte[16]));
        Assert.Throws<ArgumentException>(() => new WebhookSecretProtector(new byte[33]));
    }
}
