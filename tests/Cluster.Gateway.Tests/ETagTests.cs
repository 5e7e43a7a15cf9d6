using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>Versioning preconditions (RFC 7644 §3.14, RFC 7232): If-Match on writes, If-None-Match on reads, through the real pipeline.</summary>
public sealed class ETagTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    private const string PatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

    [Fact]
    public async Task UserIfMatchGuardsPutPatchAndDelete()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var (id, etag) = await CreateAsync(scim, "Users", $$"""{"userName":"{{Guid.NewGuid():N}}@contoso.com","displayName":"One"}""");
        Assert.Equal("W/\"1\"", etag);

        // Mismatch: 412 with the SCIM error body, and nothing changes.
        using (var put = await SendAsync(scim, HttpMethod.Put, $"Users/{id}", """{"userName":"changed@contoso.com","displayName":"Two"}""", ifMatch: "W/\"9\""))
        {
            await AssertPreconditionFailedAsync(put);
        }

        using (var patch = await SendAsync(scim, HttpMethod.Patch, $"Users/{id}", Patch("""{"op":"replace","path":"displayName","value":"Two"}"""), ifMatch: "W/\"2\", W/\"3\""))
        {
            await AssertPreconditionFailedAsync(patch);
        }

        using (var delete = await SendAsync(scim, HttpMethod.Delete, $"Users/{id}", null, ifMatch: "\"5\""))
        {
            await AssertPreconditionFailedAsync(delete);
        }

        var (unchanged, unchangedTag) = await GetAsync(scim, $"Users/{id}");
        Assert.Equal("One", unchanged["displayName"]!.GetValue<string>());
        Assert.Equal("W/\"1\"", unchangedTag);
        Assert.Equal("W/\"1\"", unchanged["meta"]!["version"]!.GetValue<string>());

        // Match: the strong form of our weak tag names the same version.
        using (var put = await SendAsync(scim, HttpMethod.Put, $"Users/{id}", $$"""{"userName":"{{Guid.NewGuid():N}}@contoso.com","displayName":"Two"}""", ifMatch: "\"1\""))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            Assert.Equal("W/\"2\"", put.Headers.ETag!.ToString());
        }

        // A list of tags matches when any does.
        using (var patch = await SendAsync(scim, HttpMethod.Patch, $"Users/{id}", Patch("""{"op":"replace","path":"displayName","value":"Three"}"""), ifMatch: "W/\"7\", W/\"2\""))
        {
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
            Assert.Equal("W/\"3\"", patch.Headers.ETag!.ToString());
        }

        // The old tag no longer matches; * matches any existing resource.
        using (var stale = await SendAsync(scim, HttpMethod.Delete, $"Users/{id}", null, ifMatch: "W/\"2\""))
        {
            await AssertPreconditionFailedAsync(stale);
        }

        using (var delete = await SendAsync(scim, HttpMethod.Delete, $"Users/{id}", null, ifMatch: "*"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        using var gone = await scim.GetAsync($"Users/{id}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task GroupIfMatchGuardsPutPatchAndDelete()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var (user, _) = await CreateAsync(scim, "Users", $$"""{"userName":"{{Guid.NewGuid():N}}@contoso.com"}""");
        var (id, etag) = await CreateAsync(scim, "Groups", """{"displayName":"Readers"}""");
        Assert.Equal("W/\"1\"", etag);

        using (var put = await SendAsync(scim, HttpMethod.Put, $"Groups/{id}", $$"""{"displayName":"Writers","members":[{"value":"{{user}}"}]}""", ifMatch: "W/\"4\""))
        {
            await AssertPreconditionFailedAsync(put);
        }

        using (var patch = await SendAsync(scim, HttpMethod.Patch, $"Groups/{id}", Patch(AddMember(user)), ifMatch: "W/\"2\""))
        {
            await AssertPreconditionFailedAsync(patch);
        }

        using (var delete = await SendAsync(scim, HttpMethod.Delete, $"Groups/{id}", null, ifMatch: "W/\"3\""))
        {
            await AssertPreconditionFailedAsync(delete);
        }

        var (unchanged, unchangedTag) = await GetAsync(scim, $"Groups/{id}");
        Assert.Equal("Readers", unchanged["displayName"]!.GetValue<string>());
        Assert.Empty(unchanged["members"]!.AsArray());
        Assert.Equal("W/\"1\"", unchangedTag);

        // A members-only PATCH under the matching tag: 204 with the new version's tag, and the group has that version.
        using (var patch = await SendAsync(scim, HttpMethod.Patch, $"Groups/{id}", Patch(AddMember(user)), ifMatch: "W/\"1\""))
        {
            Assert.Equal(HttpStatusCode.NoContent, patch.StatusCode);
            Assert.Equal("W/\"2\"", patch.Headers.ETag!.ToString());
        }

        var (withMember, memberTag) = await GetAsync(scim, $"Groups/{id}");
        Assert.Equal(user, Assert.Single(withMember["members"]!.AsArray())!["value"]!.GetValue<string>());
        Assert.Equal("W/\"2\"", memberTag);
        Assert.Equal(memberTag, withMember["meta"]!["version"]!.GetValue<string>());
        var (excluded, excludedTag) = await GetAsync(scim, $"Groups/{id}?excludedAttributes=members");
        Assert.Equal(memberTag, excludedTag);
        Assert.Equal(memberTag, excluded["meta"]!["version"]!.GetValue<string>());

        // The tag from before the membership change is stale now.
        using (var put = await SendAsync(scim, HttpMethod.Put, $"Groups/{id}", """{"displayName":"Writers"}""", ifMatch: "W/\"1\""))
        {
            await AssertPreconditionFailedAsync(put);
        }

        Assert.Single((await GetAsync(scim, $"Groups/{id}")).Body["members"]!.AsArray());

        using (var put = await SendAsync(scim, HttpMethod.Put, $"Groups/{id}", """{"displayName":"Writers"}""", ifMatch: "W/\"8\", \"2\""))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            Assert.Equal("W/\"3\"", put.Headers.ETag!.ToString());
        }

        var (replaced, _) = await GetAsync(scim, $"Groups/{id}");
        Assert.Equal("Writers", replaced["displayName"]!.GetValue<string>());
        Assert.Empty(replaced["members"]!.AsArray());

        using (var delete = await SendAsync(scim, HttpMethod.Delete, $"Groups/{id}", null, ifMatch: "*"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }
    }

    [Fact]
    public async Task AStaleTagIs412EvenWhenTheWriteWouldChangeNothing()
    {
        // The precondition is checked before the request is looked at: otherwise 200 ("already so") against 412 would tell
        // whether a guessed writeOnly value equals the stored one. The 412 carries the current tag.
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var (id, _) = await CreateAsync(scim, "Users", $$$"""{"userName":"{{{Guid.NewGuid():N}}}@contoso.com","displayName":"One","{{{TestExtension.UserUrn}}}":{"site":"Berlin","pin":"4711"}}""");
        var patch = Patch("""{"op":"replace","path":"displayName","value":"Two"}""");
        using (var first = await SendAsync(scim, HttpMethod.Patch, $"Users/{id}", patch, ifMatch: "W/\"1\""))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        foreach (var body in new[]
        {
            patch,
            Patch($$"""{"op":"replace","path":"{{TestExtension.UserUrn}}:pin","value":"4711"}"""),
            Patch($$"""{"op":"replace","path":"{{TestExtension.UserUrn}}:pin","value":"0000"}"""),
        })
        {
            using var stale = await SendAsync(scim, HttpMethod.Patch, $"Users/{id}", body, ifMatch: "W/\"1\"");
            await AssertPreconditionFailedAsync(stale);
            Assert.Equal("W/\"2\"", stale.Headers.ETag!.ToString());
        }
    }

    [Fact]
    public async Task IfNoneMatchAnswers304UntilTheResourceChanges()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var (user, userTag) = await CreateAsync(scim, "Users", $$"""{"userName":"{{Guid.NewGuid():N}}@contoso.com"}""");
        var (group, groupTag) = await CreateAsync(scim, "Groups", """{"displayName":"Watchers"}""");

        foreach (var (path, tag) in new[] { ($"Users/{user}", userTag), ($"Groups/{group}", groupTag), ($"Groups/{group}?excludedAttributes=members", groupTag) })
        {
            foreach (var condition in new[] { tag, tag.Replace("W/", "", StringComparison.Ordinal), "W/\"17\", " + tag, "*" })
            {
                using var notModified = await SendAsync(scim, HttpMethod.Get, path, null, ifNoneMatch: condition);
                Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
                Assert.Equal(tag, notModified.Headers.ETag!.ToString());
                Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
            }

            using var other = await SendAsync(scim, HttpMethod.Get, path, null, ifNoneMatch: "W/\"17\"");
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }

        // A change: the old tag gets 200 with the new representation and tag.
        using (var patch = await SendAsync(scim, HttpMethod.Patch, $"Users/{user}", Patch("""{"op":"replace","path":"displayName","value":"Changed"}""")))
        {
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        }

        using (var changed = await SendAsync(scim, HttpMethod.Get, $"Users/{user}", null, ifNoneMatch: userTag))
        {
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
            Assert.Equal("W/\"2\"", changed.Headers.ETag!.ToString());
            Assert.Equal("Changed", (await changed.Content.ReadFromJsonAsync<JsonObject>())!["displayName"]!.GetValue<string>());
        }

        // A members-only change of the group changes its tag too.
        using (var patch = await SendAsync(scim, HttpMethod.Patch, $"Groups/{group}", Patch(AddMember(user))))
        {
            Assert.Equal(HttpStatusCode.NoContent, patch.StatusCode);
        }

        using (var changed = await SendAsync(scim, HttpMethod.Get, $"Groups/{group}?excludedAttributes=members", null, ifNoneMatch: groupTag))
        {
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
            Assert.NotEqual(groupTag, changed.Headers.ETag!.ToString());
        }

        // If-None-Match on a missing resource: 404 as always.
        using var missing = await SendAsync(scim, HttpMethod.Get, $"Users/{Guid.NewGuid():N}", null, ifNoneMatch: "*");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Theory]
    [InlineData("Users")]
    [InlineData("Groups")]
    public async Task ConcurrentWritersWithTheSameIfMatchExactlyOneWins(string kind)
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var body = kind == "Users" ? $$"""{"userName":"{{Guid.NewGuid():N}}@contoso.com"}""" : """{"displayName":"Contested"}""";
        var (id, etag) = await CreateAsync(scim, kind, body);

        // Different changes, all conditional on the same version: the check runs in the grain with the write.
        const int writers = 12;
        var responses = await Task.WhenAll(Enumerable.Range(0, writers).Select(i => SendAsync(
            scim, HttpMethod.Patch, $"{kind}/{id}", Patch($$"""{"op":"replace","path":"{{(kind == "Users" ? "displayName" : "externalId")}}","value":"writer-{{i}}"}"""), ifMatch: etag)));
        var statuses = responses.Select(r => r.StatusCode).ToArray();
        var winners = statuses.Count(s => s is HttpStatusCode.OK or HttpStatusCode.NoContent);
        Assert.Equal(1, winners);
        Assert.Equal(writers - 1, statuses.Count(s => s == HttpStatusCode.PreconditionFailed));
        foreach (var response in responses)
        {
            response.Dispose();
        }

        var (_, after) = await GetAsync(scim, $"{kind}/{id}");
        Assert.Equal("W/\"2\"", after);
    }

    private static string AddMember(string user) => $$"""{"op":"add","path":"members","value":[{"value":"{{user}}"}]}""";

    private static string Patch(params string[] ops) => $$"""{"schemas":["{{PatchOp}}"],"Operations":[{{string.Join(",", ops)}}]}""";

    private static async Task<(string Id, string ETag)> CreateAsync(HttpClient scim, string kind, string body)
    {
        using var response = await SendAsync(scim, HttpMethod.Post, kind, body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return ((await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>(), response.Headers.ETag!.ToString());
    }

    private static async Task<(JsonObject Body, string ETag)> GetAsync(HttpClient scim, string path)
    {
        using var response = await scim.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode}");
        return ((await response.Content.ReadFromJsonAsync<JsonObject>())!, response.Headers.ETag!.ToString());
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient scim, HttpMethod method, string path, string? body, string? ifMatch = null, string? ifNoneMatch = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/scim+json");
        }

        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }

        return scim.SendAsync(request);
    }

    private static async Task AssertPreconditionFailedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.PreconditionFailed, response.StatusCode);
        Assert.Equal("application/scim+json", response.Content.Headers.ContentType!.MediaType);
        var error = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("urn:ietf:params:scim:api:messages:2.0:Error", error["schemas"]![0]!.GetValue<string>());
        Assert.Equal("412", error["status"]!.GetValue<string>());
        Assert.Equal("preconditionFailed", error["scimType"]!.GetValue<string>());
        Assert.Contains("changed", error["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
