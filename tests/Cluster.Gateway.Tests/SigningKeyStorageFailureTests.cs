using System.Diagnostics;
using System.Net;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Cluster.Gateway.Tests;

/// <summary>
/// A signing-key rotation whose storage write fails does not stop token issuance: the key that signs goes on signing,
/// and the rotation is done once storage works. Runs alone: it fails the writes of the one signing-key set, whose key
/// every gateway of this process shares.
/// </summary>
[Collection(nameof(SigningKeyStorageFailureTests))]
public sealed class SigningKeyStorageFailureTests
{
    [Fact]
    public async Task ARotationWhoseWriteFailsLeavesTheCurrentKeySigningAndIsDoneOnceStorageWorks()
    {
        // A rotation period of about 8.6 s: the next key is due to be published about 6.5 s after the first signs.
        // Tokens are asked for several times a second, beyond a client's usual limit.
        await using var gateway = GatewayFactory.With(new Dictionary<string, string?>
        {
            ["OAuth:SigningKeyRotationDays"] = "0.0001",
            ["RateLimits:OAuthClient:PermitsPerSecond"] = "0",
        }).WithStorageProbe();
        var tenant = await gateway.CreateTenantAsync();
        var client = await gateway.CreateOAuthClientAsync(tenant);
        var firstKeyAt = Stopwatch.StartNew();
        var first = await gateway.AccessTokenAsync(client);
        var firstKey = KeyIdOf(first);
        var writes = StorageProbe.WritesOf(GrainKeys.SigningKeySet);

        StorageProbe.FailNextWrites(GrainKeys.SigningKeySet, int.MaxValue);
        try
        {
            // Past the moment the rotation was due and past the time the first key would have stopped signing: every
            // token request is served, by the key that signs (it was a 500 once the issuer asked for a key again).
            while (firstKeyAt.Elapsed < TimeSpan.FromSeconds(11))
            {
                Assert.Equal(firstKey, KeyIdOf(await gateway.AccessTokenAsync(client)));
                await Task.Delay(250);
            }

            Assert.True(StorageProbe.WritesOf(GrainKeys.SigningKeySet) > writes, "the rotation was never attempted");
        }
        finally
        {
            StorageProbe.FailNextWrites(GrainKeys.SigningKeySet, 0);
        }

        // Storage works again: the rotation is done at the next ask, and its key signs once its lead has passed.
        var deadline = Stopwatch.StartNew();
        string fresh;
        while (KeyIdOf(fresh = await gateway.AccessTokenAsync(client)) == firstKey)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), "no new signing key within 30 s of storage working again");
            await Task.Delay(250);
        }

        foreach (var token in new[] { first, fresh })
        {
            using var scim = gateway.ScimClient(tenant, token);
            using var response = await scim.GetAsync("Users");
            await response.ExpectScimAsync(HttpStatusCode.OK);
        }
    }

    private static string KeyIdOf(string token) => new JsonWebTokenHandler().ReadJsonWebToken(token).Kid;
}

/// <summary>The collection of <see cref="SigningKeyStorageFailureTests"/>: never run in parallel with other tests.</summary>
[CollectionDefinition(nameof(SigningKeyStorageFailureTests), DisableParallelization = true)]
public sealed class SigningKeyStorageFailureCollection;
