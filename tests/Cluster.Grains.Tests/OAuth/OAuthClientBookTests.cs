using Cluster.Abstractions;
using Cluster.Grains.Tenants;

namespace Cluster.Grains.Tests.OAuth;

/// <summary>Issue 13: client secrets — 256 random bits, hashes only, checked in constant time, expiring, revocable, bounded.</summary>
public sealed class OAuthClientBookTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
    private const string TenantId = "0123456789abcdef0123456789abcdef";

    [Fact]
    public void ASecretIsValidUntilItExpiresAndIsStoredOnlyAsItsHash()
    {
        var (client, secret) = OAuthClientBook.NewClient(TenantId, T0, TimeSpan.FromDays(365));
        Assert.True(OAuthClientIds.TryParseTenant(client.ClientId, out var tenant));
        Assert.Equal(TenantId, tenant);
        Assert.Equal(ClientSecrets.Prefix.Length + 43, secret.Secret.Length);
        Assert.Equal(T0 + TimeSpan.FromDays(365), secret.ExpiresAt);
        var stored = Assert.Single(client.Secrets);
        Assert.Equal(ClientSecrets.Hash(secret.Secret), stored.Hash);

        Assert.True(OAuthClientBook.Verify(client, ClientSecrets.Hash(secret.Secret), T0));
        Assert.True(OAuthClientBook.Verify(client, ClientSecrets.Hash(secret.Secret), secret.ExpiresAt - TimeSpan.FromTicks(1)));
        Assert.False(OAuthClientBook.Verify(client, ClientSecrets.Hash(secret.Secret), secret.ExpiresAt));
        Assert.False(OAuthClientBook.Verify(client, ClientSecrets.Hash(secret.Secret + "x"), T0));
        Assert.False(OAuthClientBook.Verify(client, [1, 2, 3], T0));
        Assert.False(OAuthClientBook.Verify(null, ClientSecrets.Hash(secret.Secret), T0));

        // Expired secrets disappear from what is stored and shown.
        Assert.Empty(Assert.Single(OAuthClientBook.Live([client], secret.ExpiresAt)).Secrets);
        Assert.Empty(OAuthClientBook.Info(client, secret.ExpiresAt).Secrets);
    }

    [Fact]
    public void TwoLiveSecretsBothVerifyAndEachSecretIsDistinct()
    {
        var (client, first) = OAuthClientBook.NewClient(TenantId, T0, TimeSpan.FromDays(1));
        var second = OAuthClientBook.AddSecret(client, T0 + TimeSpan.FromHours(1), TimeSpan.FromDays(365));
        Assert.NotEqual(first.Secret, second.Secret);
        Assert.NotEqual(first.SecretId, second.SecretId);
        var now = T0 + TimeSpan.FromHours(2);
        Assert.True(OAuthClientBook.Verify(client, ClientSecrets.Hash(first.Secret), now));
        Assert.True(OAuthClientBook.Verify(client, ClientSecrets.Hash(second.Secret), now));

        // After the first one's expiry, only the second.
        var later = T0 + TimeSpan.FromDays(2);
        Assert.False(OAuthClientBook.Verify(client, ClientSecrets.Hash(first.Secret), later));
        Assert.True(OAuthClientBook.Verify(client, ClientSecrets.Hash(second.Secret), later));
    }

    [Theory]
    [InlineData("scimc_0123456789abcdef0123456789abcdef.0123456789abcdef01234567", true)]
    [InlineData("scimc_t-1_x.0123456789abcdef01234567", true)]
    [InlineData("scimc_0123456789abcdef0123456789abcdef.0123456789ABCDEF01234567", false)]
    [InlineData("scimc_0123456789abcdef0123456789abcdef.0123456789abcdef0123456", false)]
    [InlineData("scimc_.0123456789abcdef01234567", false)]
    [InlineData("scimc_bad!tenant.0123456789abcdef01234567", false)]
    [InlineData("scimc_a.b.0123456789abcdef01234567", false)]
    [InlineData("0123456789abcdef0123456789abcdef.0123456789abcdef01234567", false)]
    [InlineData("", false)]
    public void AClientIdNamesItsTenantOrNothing(string clientId, bool valid) => Assert.Equal(valid, OAuthClientIds.TryParseTenant(clientId, out _));
}
