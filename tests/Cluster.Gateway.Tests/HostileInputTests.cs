using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>
/// Invariant 10 (design.md): a rejected request is a SCIM 4xx that leaves every resource exactly as it was and
/// creates nothing. Each case checks the error, then the stored user (full JSON, including meta) and the user count.
/// </summary>
public sealed class HostileInputTests : IClassFixture<GatewayFactory>
{
    private const string Json = ScimTestClient.ScimMediaType;

    private readonly GatewayFactory _gateway;

    public HostileInputTests(GatewayFactory gateway) => _gateway = gateway;

    public static TheoryData<string, string, int, string?> BadCreates => new()
    {
        { """{"userName":""", Json, 400, "invalidSyntax" },
        { """{"userName":"x",}""", Json, 400, "invalidSyntax" },
        { """[{"userName":"array.user@contoso.com"}]""", Json, 400, "invalidSyntax" },
        { "\"array.user@contoso.com\"", Json, 400, "invalidSyntax" },
        { "null", Json, 400, "invalidSyntax" },
        { "", Json, 400, "invalidSyntax" },
        { """{"userName":"x","foo":1}""", Json, 400, "invalidSyntax" },
        { """{"userName":"x","name":{"givenName":"a","middle":"b"}}""", Json, 400, "invalidSyntax" },
        { """{"externalId":"no-user-name"}""", Json, 400, "invalidValue" },
        { """{"userName":""}""", Json, 400, "invalidValue" },
        { """{"userName":null}""", Json, 400, "invalidValue" },
        { """{"userName":42}""", Json, 400, "invalidValue" },
        { """{"userName":"x","active":"maybe"}""", Json, 400, "invalidValue" },
        { """{"userName":"x","emails":"not-an-object"}""", Json, 400, "invalidValue" },
        { """{"userName":"x","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"shoeSize":"9"}}""", Json, 400, "invalidSyntax" },
        { """{"userName":"x"}""", "text/plain", 415, null },
        { """{"userName":"x"}""", "application/xml", 415, null },
        { Nested(200), Json, 400, "invalidSyntax" },
        { Nested(40), Json, 400, "invalidValue" },

        // Duplicate member names (found by the property tests: System.Text.Json accepted them and a later lookup threw → 500).
        { """{"userName":"x","userName":"y"}""", Json, 400, "invalidSyntax" },
        { """{"userName":"x","name":{"givenName":"a","givenName":"b"}}""", Json, 400, "invalidSyntax" },
    };

    public static TheoryData<string, int, string?> BadPatches => new()
    {
        { """{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[""", 400, "invalidSyntax" },
        { """[{"op":"Replace","path":"displayName","value":"x"}]""", 400, "invalidSyntax" },
        { "", 400, "invalidSyntax" },
        { """{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}""", 400, "invalidSyntax" },
        { """{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[]}""", 400, "invalidSyntax" },
        { """{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"Operations":[{"op":"Replace","path":"displayName","value":"x"}]}""", 400, "invalidSyntax" },
        { EntraPayloads.Patch("""{"op":"Merge","path":"displayName","value":"x"}"""), 400, "invalidSyntax" },
        { EntraPayloads.Patch("""{"path":"displayName","value":"x"}"""), 400, "invalidSyntax" },
        { EntraPayloads.Patch("""{"op":"Replace","path":"displayName"}"""), 400, "invalidSyntax" },
        { EntraPayloads.Patch("""{"op":"Replace","path":"foo","value":"x"}"""), 400, "invalidPath" },
        { EntraPayloads.Patch("""{"op":"Replace","path":"emails[type eq","value":"x"}"""), 400, "invalidPath" },
        { EntraPayloads.Patch("""{"op":"Replace","path":"name.middle","value":"x"}"""), 400, "invalidPath" },
        { EntraPayloads.Patch("""{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:shoeSize","value":"9"}"""), 400, "invalidPath" },
        { EntraPayloads.Patch("""{"op":"Replace","path":42,"value":"x"}"""), 400, "invalidPath" },
        { EntraPayloads.Patch("""{"op":"Remove"}"""), 400, "noTarget" },
        { EntraPayloads.Patch("""{"op":"Replace","path":"id","value":"0123456789abcdef0123456789abcdef"}"""), 400, "mutability" },
        { EntraPayloads.Patch("""{"op":"Replace","value":{"id":"0123456789abcdef0123456789abcdef"}}"""), 400, null },
        { EntraPayloads.Patch("""{"op":"Remove","path":"userName"}"""), 400, "mutability" },
        { EntraPayloads.Patch("""{"op":"Replace","path":"active","value":"maybe"}"""), 400, "invalidValue" },
        { EntraPayloads.Patch("""{"op":"Replace","value":"not-an-object"}"""), 400, "invalidValue" },
        { EntraPayloads.Patch("""{"op":"Replace","value":{"foo":"x"}}"""), 400, "invalidPath" },
        { EntraPayloads.Patch("""{"op":"Replace","op":"Add","path":"displayName","value":"x"}"""), 400, "invalidSyntax" },
        { EntraPayloads.Patch("""{"op":"Replace","value":{"displayName":"x","displayName":"y"}}"""), 400, "invalidSyntax" },
        { """{"Operations":[{"op":"Replace","path":"displayName","value":"x"}],"Operations":[]}""", 400, "invalidSyntax" },

        { EntraPayloads.Patch("{\"op\":\"Replace\",\"path\":\"name\",\"value\":" + string.Concat(Enumerable.Repeat("{\"givenName\":", 200)) + "\"x\"" + new string('}', 200) + "}"), 400, "invalidSyntax" },
        { EntraPayloads.Patch([.. Enumerable.Repeat("""{"op":"Replace","path":"displayName","value":"x"}""", 1001)]), 400, "invalidValue" },

        // Atomicity: the valid first operation must not be applied when the second fails.
        { EntraPayloads.Patch("""{"op":"Replace","path":"displayName","value":"Half Done"}""", """{"op":"Replace","path":"foo","value":"x"}"""), 400, "invalidPath" },
        { EntraPayloads.Patch("""{"op":"Replace","path":"userName","value":"half.renamed@contoso.com"}""", """{"op":"Replace","path":"active","value":"maybe"}"""), 400, "invalidValue" },
        { EntraPayloads.Patch("""{"op":"Replace","path":"emails[type eq \"work\"].value","value":"half@contoso.com"}""", """{"op":"Remove"}"""), 400, "noTarget" },
    };

    public static TheoryData<string, string> BadQueries => new()
    {
        { "Users?filter=" + Uri.EscapeDataString("userName eq"), "invalidFilter" },
        { "Users?filter=" + Uri.EscapeDataString("foo eq \"x\""), "invalidFilter" },
        { "Users?filter=" + Uri.EscapeDataString("userName xx \"a\""), "invalidFilter" },
        { "Users?filter=" + Uri.EscapeDataString("userName eq \"abc"), "invalidFilter" },
        { "Users?filter=" + Uri.EscapeDataString("userName eq \"a\" and"), "invalidFilter" },
        { "Users?filter=" + Uri.EscapeDataString("(userName eq \"a\""), "invalidFilter" },
        { "Users?filter=" + Uri.EscapeDataString("emails[type eq \"work\".value eq \"a\""), "invalidFilter" },
        { "Users?count=abc", "invalidValue" },
        { "Users?count=1.5", "invalidValue" },
        { "Users?startIndex=first", "invalidValue" },
        { "Users?filter=userName+eq+%22x%22&count=ten", "invalidValue" },
        { "Users?filter=", "invalidFilter" }, // listed every user as if there were no filter
        { "Users?filter=%20", "invalidFilter" },
        { "Groups?filter=&excludedAttributes=members", "invalidFilter" },
        { "Users?count=12e3", "invalidValue" },
        { "Users?filter=" + Uri.EscapeDataString(string.Join(" or ", Enumerable.Range(0, 101).Select(i => $"title eq \"t{i}\""))), "invalidFilter" }, // minutes of CPU per request
    };

    [Theory]
    [MemberData(nameof(BadCreates))]
    public async Task BadCreateIsRejectedAndCreatesNothing(string body, string contentType, int status, string? scimType)
    {
        var (scim, before) = await ArrangeAsync();
        using (scim)
        {
            using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
            using var response = await scim.PostAsync("Users", content);

            await response.ExpectScimErrorAsync((HttpStatusCode)status, scimType);
            Assert.Null(response.Headers.Location);
            await AssertUnchangedAsync(scim, before);
            ScimTestClient.AssertEmptyList(await scim.FilterAsync("userName eq \"x\""));
            ScimTestClient.AssertEmptyList(await scim.FilterAsync("userName eq \"array.user@contoso.com\""));
        }
    }

    [Theory]
    [MemberData(nameof(BadPatches))]
    public async Task BadPatchIsRejectedAndChangesNothing(string body, int status, string? scimType)
    {
        var (scim, before) = await ArrangeAsync();
        using (scim)
        {
            using var response = await scim.PatchUserAsync(before["id"].Str(), body);

            await response.ExpectScimErrorAsync((HttpStatusCode)status, scimType);
            Assert.Null(response.Headers.ETag);
            await AssertUnchangedAsync(scim, before);
            ScimTestClient.AssertEmptyList(await scim.FilterAsync("userName eq \"half.renamed@contoso.com\""));
        }
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task PatchWithWrongContentTypeIsRejectedAndChangesNothing(string contentType)
    {
        var (scim, before) = await ArrangeAsync();
        using (scim)
        {
            using var content = new StringContent(EntraPayloads.SetActive("Replace", "\"False\""), Encoding.UTF8, contentType);
            using var response = await scim.PatchAsync($"Users/{before["id"].Str()}", content);

            await response.ExpectScimErrorAsync(HttpStatusCode.UnsupportedMediaType);
            await AssertUnchangedAsync(scim, before);
        }
    }

    [Theory]
    [MemberData(nameof(BadQueries))]
    public async Task BadQueryIsRejected(string query, string scimType)
    {
        var (scim, before) = await ArrangeAsync();
        using (scim)
        {
            using var response = await scim.GetAsync(query);

            await response.ExpectScimErrorAsync(HttpStatusCode.BadRequest, scimType);
            await AssertUnchangedAsync(scim, before);
        }
    }

    [Fact]
    public async Task BodyOverTheLimitIs413AndChangesNothing()
    {
        using var small = GatewayFactory.With(new Dictionary<string, string?> { ["Gateway:MaxBodyBytes"] = "2048" });
        var tenant = await small.CreateTenantAsync();
        using var scim = small.ScimClient(tenant);
        var before = await scim.PostUserAsync(EntraPayloads.CreateUser("limit.user@contoso.com", "limit-ext", "limit.user@contoso.com"));
        var id = before["id"].Str();

        // Just under the limit is fine.
        var fits = $$"""{"userName":"fits@contoso.com","displayName":"{{new string('f', 1900)}}"}""";
        Assert.True(Encoding.UTF8.GetByteCount(fits) <= 2048);
        var fitting = await scim.PostUserAsync(fits);

        var tooBig = $$"""{"userName":"too.big@contoso.com","displayName":"{{new string('x', 3000)}}"}""";
        using (var response = await scim.PostAsync("Users", ScimTestClient.Body(tooBig)))
        {
            await response.ExpectScimErrorAsync(HttpStatusCode.RequestEntityTooLarge);
        }

        // Without Content-Length (chunked): the limit is enforced while reading.
        using (var response = await scim.PostAsync("Users", new UnknownLengthContent(tooBig)))
        {
            await response.ExpectScimErrorAsync(HttpStatusCode.RequestEntityTooLarge);
        }

        var bigPatch = EntraPayloads.Patch($$"""{"op":"Replace","path":"displayName","value":"{{new string('y', 3000)}}"}""");
        using (var response = await scim.PatchUserAsync(id, bigPatch))
        {
            await response.ExpectScimErrorAsync(HttpStatusCode.RequestEntityTooLarge);
        }

        using (var response = await scim.PatchAsync($"Users/{id}", new UnknownLengthContent(bigPatch)))
        {
            await response.ExpectScimErrorAsync(HttpStatusCode.RequestEntityTooLarge);
        }

        Assert.True(JsonNode.DeepEquals(before, await scim.GetUserAsync(id)));
        ScimTestClient.AssertEmptyList(await scim.FilterAsync("userName eq \"too.big@contoso.com\""));
        var all = await (await scim.GetAsync("Users")).ExpectScimAsync(HttpStatusCode.OK);
        Assert.Equal(2, all["totalResults"]!.GetValue<int>());
        Assert.Equal(fitting["id"].Str(), (await scim.FilterAsync("userName eq \"fits@contoso.com\"")).Ids().Single());
    }

    [Fact]
    public async Task AResourceLargerThanWhatOneResourceMayTakeIs413AndChangesNothing()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        using var admin = _gateway.AdminClient();
        var user = await scim.CreateUserAsync("grows@contoso.com");
        var id = user["id"].Str();

        // Far under the body limit (1 MiB), over what one resource may take: 3 bytes of UTF-8 per character.
        var huge = new string('‹', (Cluster.Scim.ScimResource.MaxStoredBytes / 3) + 1);
        var limit = Cluster.Scim.ScimResource.MaxStoredBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using (var response = await scim.PostAsync("Users", ScimTestClient.Body($$"""{"userName":"huge@contoso.com","title":"{{huge}}"}""")))
        {
            Assert.Contains(limit, (await response.ExpectScimErrorAsync(HttpStatusCode.RequestEntityTooLarge))["detail"].Str(), StringComparison.Ordinal);
        }

        using (var response = await scim.PatchUserAsync(id, EntraPayloads.Patch($$"""{"op":"Replace","path":"title","value":"{{huge}}"}""")))
        {
            await response.ExpectScimErrorAsync(HttpStatusCode.RequestEntityTooLarge);
        }

        using (var response = await scim.PostAsync("Groups", ScimTestClient.Body($$"""{"displayName":"{{huge}}"}""")))
        {
            await response.ExpectScimErrorAsync(HttpStatusCode.RequestEntityTooLarge);
        }

        // Just under it is stored, and read back whole.
        var fits = new string('‹', (Cluster.Scim.ScimResource.MaxStoredBytes - 1024) / 3);
        using (var response = await scim.PatchUserAsync(id, EntraPayloads.Patch($$"""{"op":"Replace","path":"title","value":"{{fits}}"}""")))
        {
            Assert.Equal(fits, (await response.ExpectScimAsync(HttpStatusCode.OK))["title"].Str());
        }

        ScimTestClient.AssertEmptyList(await scim.FilterAsync("userName eq \"huge@contoso.com\""));
        var groups = await (await scim.GetAsync("Groups")).ExpectScimAsync(HttpStatusCode.OK);
        Assert.Equal(0, groups["totalResults"]!.GetValue<int>());
        var feed = await admin.GetFromJsonAsync<JsonObject>($"/admin/tenants/{tenant.TenantId}/events");
        Assert.Equal(["user.created", "user.updated"], feed!["data"]!.AsArray().Select(e => e!["type"].Str()));
    }

    [Fact]
    public async Task AProjectionListThatIsRefusedIsRefusedBeforeTheWriteNotAfterIt()
    {
        // A write's response is rendered with attributes/excludedAttributes after the grain stored it: a list refused then
        // answered 400 for a write that had happened (and a retry 409).
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var names = "?attributes=" + string.Join(',', Enumerable.Range(0, Cluster.Scim.Projection.ScimProjection.MaxListLength + 1).Select(i => $"a{i}"));
        using (var response = await scim.PostAsync("Users" + names, ScimTestClient.Body("""{"userName":"projected@contoso.com"}""")))
        {
            await response.ExpectScimErrorAsync(HttpStatusCode.BadRequest, "invalidValue");
        }

        ScimTestClient.AssertEmptyList(await scim.FilterAsync("userName eq \"projected@contoso.com\""));
        var user = await scim.CreateUserAsync("projected@contoso.com");
        using (var response = await scim.PatchAsync($"Users/{user["id"].Str()}" + names, ScimTestClient.Body(EntraPayloads.Patch("""{"op":"Replace","path":"displayName","value":"Changed"}"""))))
        {
            await response.ExpectScimErrorAsync(HttpStatusCode.BadRequest, "invalidValue");
        }

        Assert.True(JsonNode.DeepEquals(user, await scim.GetUserAsync(user["id"].Str())));
    }

    private async Task<(HttpClient Scim, JsonObject User)> ArrangeAsync()
    {
        var tenant = await _gateway.CreateTenantAsync();
        var scim = _gateway.ScimClient(tenant);
        var boss = await scim.CreateUserAsync("boss@contoso.com");
        var user = await scim.PostUserAsync(EntraPayloads.CreateUserWithEnterprise("target@contoso.com", "target-ext", "target@contoso.com", "E-7", "Ops"));
        using var withManager = await scim.PatchUserAsync(user["id"].Str(), EntraPayloads.AddManagerBareString(boss["id"].Str()));
        return (scim, await withManager.ExpectScimAsync(HttpStatusCode.OK));
    }

    private static async Task AssertUnchangedAsync(HttpClient scim, JsonObject before)
    {
        var now = await scim.GetUserAsync(before["id"].Str());
        Assert.True(JsonNode.DeepEquals(before, now), $"User changed:\n{before.ToJsonString()}\n{now.ToJsonString()}");
        var all = await (await scim.GetAsync("Users")).ExpectScimAsync(HttpStatusCode.OK);
        Assert.Equal(2, all["totalResults"]!.GetValue<int>());
        Assert.Equal([before["id"].Str()], (await scim.FilterAsync("userName eq \"target@contoso.com\"")).Ids());
    }

    private static string Nested(int depth) =>
        "{\"userName\":\"deep@contoso.com\",\"name\":" + string.Concat(Enumerable.Repeat("{\"givenName\":", depth)) + "\"x\"" + new string('}', depth) + "}";

    /// <summary>A body sent without Content-Length.</summary>
    private sealed class UnknownLengthContent : HttpContent
    {
        private readonly byte[] _bytes;

        public UnknownLengthContent(string json)
        {
            _bytes = Encoding.UTF8.GetBytes(json);
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(ScimTestClient.ScimMediaType);
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(_bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
