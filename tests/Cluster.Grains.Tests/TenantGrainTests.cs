using System.Security.Cryptography;
using System.Text;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests;

/// <summary>Invariant 2 at the grain: tokens are ≥ 256 random bits, shown once, stored only as SHA-256 hashes.</summary>
[Collection(ClusterFixture.Collection)]
public sealed class TenantGrainTests(ClusterFixture fixture)
{
    private ITenantGrain NewTenant() => fixture.Client.GetGrain<ITenantGrain>(GrainKeys.Tenant(GrainKeys.NewTenantId()));

    [Fact]
    public async Task ASummaryWaitingForASlowEventLogHoldsUpNoCredentialCheck()
    {
        // The summary (admin API, tenant listing, portal status) asks the tenant's event log for its counts. That wait must
        // not be a turn of the tenant: every gateway re-reads the tenant's credentials every few seconds, and until
        // 2026-12-08 those reads, and with them the tenant's SCIM requests, queued behind a slow event log activation.
        var tenantId = GrainKeys.NewTenantId();
        var tenant = fixture.Client.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenantId));
        Assert.NotNull(await tenant.CreateAsync("Contoso"));
        var held = StorageProbe.HoldNextRead(GrainKeys.EventLog(tenantId));
        try
        {
            var summary = tenant.GetSummaryAsync();
            await held.Started.WaitAsync(TimeSpan.FromSeconds(30));

            var credentials = tenant.GetCredentialsAsync();
            Assert.Same(credentials, await Task.WhenAny(credentials, Task.Delay(TimeSpan.FromSeconds(30))));
            Assert.True((await credentials).Exists);
            Assert.False(summary.IsCompleted);

            held.Release();
            Assert.Equal("Contoso", (await summary)!.Name);
        }
        finally
        {
            held.Release();
        }
    }

    [Fact]
    public async Task SecretsArePrefixedBase64UrlOf256RandomBits()
    {
        var tenant = NewTenant();
        var tokens = new List<IssuedToken> { (await tenant.CreateAsync("Contoso"))! };
        for (var i = 0; i < 4; i++)
        {
            tokens.Add((await tenant.IssueTokenAsync())!);
        }

        foreach (var token in tokens)
        {
            Assert.StartsWith("scim_", token.Secret, StringComparison.Ordinal);
            var body = token.Secret["scim_".Length..];
            Assert.Equal(43, body.Length);
            Assert.Matches("^[A-Za-z0-9_-]{43}$", body);
            Assert.Equal(32, System.Buffers.Text.Base64Url.DecodeFromChars(body).Length);
            Assert.DoesNotContain(token.Id, token.Secret, StringComparison.Ordinal);
        }

        Assert.Equal(tokens.Count, tokens.Select(t => t.Secret).Distinct().Count());
        Assert.Equal(tokens.Count, tokens.Select(t => t.Id).Distinct().Count());
    }

    [Fact]
    public async Task OnlySha256HashesOfSecretsAreKept()
    {
        var tenant = NewTenant();
        var first = (await tenant.CreateAsync("Contoso"))!;
        var second = (await tenant.IssueTokenAsync())!;

        var credentials = await tenant.GetCredentialsAsync();

        Assert.True(credentials.Exists);
        Assert.Equal(2, credentials.TokenHashes.Count);
        Assert.All(credentials.TokenHashes, h => Assert.Equal(32, h.Length));
        var expected = new[] { first, second }.Select(t => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(t.Secret)))).Order();
        Assert.Equal(expected, credentials.TokenHashes.Select(Convert.ToHexString).Order());

        // Nothing the grain returns after issuing carries a secret.
        var info = (await tenant.GetInfoAsync())!;
        Assert.Equal("Contoso", info.Name);
        Assert.Equal(new[] { first.Id, second.Id }.Order(), info.Tokens.Select(t => t.Id).Order());
        foreach (var secret in new[] { first.Secret, second.Secret })
        {
            Assert.DoesNotContain(info.Tokens, t => t.ToString().Contains(secret, StringComparison.Ordinal) || t.Id.Contains(secret[5..15], StringComparison.Ordinal));
            Assert.DoesNotContain(credentials.TokenHashes, h => Encoding.UTF8.GetString(h).Contains(secret, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task SeveralTokensAreValidAndRevokeRemovesExactlyOne()
    {
        var tenant = NewTenant();
        var first = (await tenant.CreateAsync("Contoso"))!;
        var second = (await tenant.IssueTokenAsync())!;
        var third = (await tenant.IssueTokenAsync())!;

        Assert.True(await tenant.RevokeTokenAsync(second.Id));

        var hashes = (await tenant.GetCredentialsAsync()).TokenHashes.Select(Convert.ToHexString).ToHashSet();
        Assert.Equal(2, hashes.Count);
        Assert.Contains(Hash(first), hashes);
        Assert.Contains(Hash(third), hashes);
        Assert.DoesNotContain(Hash(second), hashes);
        Assert.Equal(new[] { first.Id, third.Id }.Order(), (await tenant.GetInfoAsync())!.Tokens.Select(t => t.Id).Order());

        // The gateway's validator (a fresh one: no cache) accepts exactly the remaining tokens.
        var tenantId = tenant.GetPrimaryKeyString();
        var validator = GatewayAuth.Validator(fixture.Client);
        Assert.True(await validator.AcceptsAsync(tenantId, first.Secret));
        Assert.True(await validator.AcceptsAsync(tenantId, third.Secret));
        Assert.False(await validator.AcceptsAsync(tenantId, second.Secret));
        Assert.False(await validator.AcceptsAsync(GrainKeys.NewTenantId(), first.Secret));

        Assert.False(await tenant.RevokeTokenAsync(second.Id));
        Assert.False(await tenant.RevokeTokenAsync("no-such-token"));
        Assert.Equal(2, (await tenant.GetCredentialsAsync()).TokenHashes.Count);
    }

    [Fact]
    public async Task AtMostTenTokens()
    {
        var tenant = NewTenant();
        var tokens = new List<IssuedToken> { (await tenant.CreateAsync("Contoso"))! };
        for (var i = 1; i < 10; i++)
        {
            tokens.Add(Assert.IsType<IssuedToken>(await tenant.IssueTokenAsync()));
        }

        Assert.Null(await tenant.IssueTokenAsync());
        Assert.Equal(10, (await tenant.GetCredentialsAsync()).TokenHashes.Count);

        // Revoking one makes room for exactly one more.
        Assert.True(await tenant.RevokeTokenAsync(tokens[0].Id));
        Assert.NotNull(await tenant.IssueTokenAsync());
        Assert.Null(await tenant.IssueTokenAsync());
        Assert.Equal(10, (await tenant.GetInfoAsync())!.Tokens.Count);
    }

    [Fact]
    public async Task AMissingTenantHasNoCredentialsAndIssuesNothing()
    {
        var tenant = NewTenant();

        Assert.False((await tenant.GetCredentialsAsync()).Exists);
        Assert.Empty((await tenant.GetCredentialsAsync()).TokenHashes);
        Assert.Null(await tenant.GetInfoAsync());
        Assert.Null(await tenant.IssueTokenAsync());
        Assert.False(await tenant.RevokeTokenAsync("x"));

        Assert.NotNull(await tenant.CreateAsync("Contoso"));
        Assert.Null(await tenant.CreateAsync("Contoso again"));
        Assert.Single((await tenant.GetCredentialsAsync()).TokenHashes);
    }

    private static string Hash(IssuedToken token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token.Secret)));
}
