using System.Net;
using System.Text;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>
/// A plain <c>GET /Users/{id}</c> sends the grain's text on with <c>meta.location</c> spliced in (no parse, no
/// projection): it must be byte for byte what the full rendering gives, which a GET with a projection parameter that
/// selects everything (an unknown excluded name is ignored) still goes through.
/// </summary>
public sealed class PlainGetTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    [Fact]
    public async Task PlainGetIsByteForByteTheRenderedUser()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var name = $"plain-{Guid.NewGuid():N}@contoso.com";
        var user = await scim.PostUserAsync(EntraPayloads.CreateUserWithEnterprise(name, "ext-" + Guid.NewGuid().ToString("N"), name, "E-1", "R&D }} <x>"));
        var id = user["id"].Str();

        // With groups (added by the grain, meta moved last) and a write-only extension value (left out by the grain).
        using (var group = await scim.PostAsync("Groups", ScimTestClient.Body($$"""{"displayName":"Plain {{Guid.NewGuid():N}}","members":[{"value":"{{id}}"}]}""")))
        {
            await group.ExpectScimAsync(HttpStatusCode.Created);
        }

        using (var patched = await scim.PatchUserAsync(id, $$$"""
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","value":{"{{{TestExtension.UserUrn}}}:site":"Berlin","{{{TestExtension.UserUrn}}}:pin":"4711"}}]}
            """))
        {
            await patched.ExpectScimAsync(HttpStatusCode.OK);
        }

        using var plain = await scim.GetAsync($"Users/{id}");
        using var rendered = await scim.GetAsync($"Users/{id}?excludedAttributes=noSuchAttribute");
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.Equal(HttpStatusCode.OK, rendered.StatusCode);
        var plainText = Encoding.UTF8.GetString(await plain.Content.ReadAsByteArrayAsync());
        Assert.Equal(Encoding.UTF8.GetString(await rendered.Content.ReadAsByteArrayAsync()), plainText);
        Assert.Equal(rendered.Headers.ETag, plain.Headers.ETag);
        Assert.Equal(rendered.Content.Headers.ContentType, plain.Content.Headers.ContentType);

        var body = await plain.ReadJsonAsync();
        Assert.Equal($"{tenant.ScimUrl}/Users/{id}", body["meta"]!["location"].Str());
        Assert.Single(body["groups"]!.AsArray());
        Assert.Equal("Berlin", body[TestExtension.UserUrn]!["site"].Str());
        Assert.DoesNotContain("4711", plainText, StringComparison.Ordinal);
    }
}
