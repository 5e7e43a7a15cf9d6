using System.Net;
using Cluster.TestInfrastructure;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Cluster.Gateway.Tests;

/// <summary>
/// Issue 13: signing keys rotate without invalidating live tokens. With a rotation period of about 17 s (a new key is
/// published about 4 s before it signs), a token signed by the old key keeps working next to tokens of the new one, on a
/// gateway that read the key set before the rotation too (it refreshes on the unknown key id), and the key set lists both.
/// </summary>
public sealed class SigningKeyRotationTests
{
    [Fact]
    public async Task TokensOfTheOldKeyStayValidAfterTheNewKeyStartsSigning()
    {
        await using var gateway = GatewayFactory.With(new Dictionary<string, string?> { ["OAuth:SigningKeyRotationDays"] = "0.0002" });
        var tenant = await gateway.CreateTenantAsync();
        var client = await gateway.CreateOAuthClientAsync(tenant);
        await using var other = GatewayFactory.ConnectTo(gateway);
        var old = await gateway.AccessTokenAsync(client);
        var oldKey = new JsonWebTokenHandler().ReadJsonWebToken(old).Kid;
        using var oldOnOther = other.ScimClient(tenant, old);
        using (var warm = await oldOnOther.GetAsync("Users"))
        {
            await warm.ExpectScimAsync(HttpStatusCode.OK);
        }

        string fresh;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await Task.Delay(1000);
            fresh = await gateway.AccessTokenAsync(client);
            if (new JsonWebTokenHandler().ReadJsonWebToken(fresh).Kid != oldKey)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "no new signing key within 60 s");
        }

        foreach (var factory in new IScimTestHost[] { gateway, other })
        {
            foreach (var token in new[] { old, fresh })
            {
                using var scim = factory.ScimClient(tenant, token);
                using var response = await scim.GetAsync("Users");
                await response.ExpectScimAsync(HttpStatusCode.OK);
            }
        }

        using var http = other.CreateClient();
        using var jwks = await http.GetAsync("/.well-known/jwks.json");
        var kids = (await jwks.ReadJsonAsync())["keys"]!.AsArray().Select(k => k!["kid"]!.GetValue<string>()).ToList();
        Assert.Contains(oldKey, kids);
        Assert.Contains(new JsonWebTokenHandler().ReadJsonWebToken(fresh).Kid, kids);
    }
}
