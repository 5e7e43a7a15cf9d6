using System.Net;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>
/// Repeats are harmless (what Entra does after a timeout, and what the gateway's retry does after an unknown
/// outcome): the same PATCH again changes nothing, a second DELETE is 404.
/// </summary>
public sealed class RepeatTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    [Fact]
    public async Task RepeatedPatchesAreNoOpsAndARepeatedDeleteIs404()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var id = await ScimUsers.CreateAsync(scim, "repeat@contoso.com");

        string[] patches =
        [
            // disable (Entra's default dialect: string boolean)
            """{"op":"Replace","path":"active","value":"False"}""",
            // add a phone number (multi-valued add)
            """{"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+1 555 0100"}""",
            // add an email that is already there
            """{"op":"add","path":"emails","value":[{"type":"home","value":"home@contoso.com"}]}""",
            // remove a value that will be gone after the first time
            """{"op":"Remove","path":"emails[type eq \"home\"]"}""",
            // pathless replace with a dotted key
            """{"op":"Replace","value":{"name.givenName":"Jo","displayName":"Jo Repeat"}}""",
        ];

        foreach (var operation in patches)
        {
            using var first = await scim.PatchAsync($"Users/{id}", ScimUsers.Patch(operation));
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            var afterFirst = await ScimUsers.BodyAsync(first);

            using var again = await scim.PatchAsync($"Users/{id}", ScimUsers.Patch(operation));
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            var afterAgain = await ScimUsers.BodyAsync(again);

            // Same resource, same version (nothing was written the second time).
            Assert.Equal(first.Headers.ETag, again.Headers.ETag);
            Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(afterFirst, afterAgain), $"{operation}: {afterFirst} != {afterAgain}");
        }

        using (var current = await scim.GetAsync($"Users/{id}"))
        {
            var user = await ScimUsers.BodyAsync(current);
            Assert.False(user["active"]!.GetValue<bool>());
            Assert.Equal("Jo Repeat", user["displayName"]!.GetValue<string>());
            Assert.Single(user["phoneNumbers"]!.AsArray());
            Assert.Single(user["emails"]!.AsArray());
        }

        using (var deleted = await scim.DeleteAsync($"Users/{id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using (var again = await scim.DeleteAsync($"Users/{id}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
            Assert.Equal("404", (await ScimUsers.BodyAsync(again))["status"]!.GetValue<string>());
        }

        using (var patchGone = await scim.PatchAsync($"Users/{id}", ScimUsers.Patch(patches[0])))
        {
            Assert.Equal(HttpStatusCode.NotFound, patchGone.StatusCode);
        }

        using var search = await scim.GetAsync(ScimUsers.Filter("repeat@contoso.com"));
        Assert.Equal(0, (await ScimUsers.BodyAsync(search))["totalResults"]!.GetValue<int>());
    }
}
