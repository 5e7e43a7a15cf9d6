using System.Net;
using System.Text.Json.Nodes;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary><c>POST /Bulk</c> (RFC 7644 §3.7) through the real pipeline: references, failOnErrors, per-operation errors, limits.</summary>
public sealed class BulkTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    private const string BulkRequest = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
    private const string Enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    [Fact]
    public async Task CreatesUsersAndAGroupWithBulkIdReferencesIncludingForwardOnes()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var alice = $"alice-{Guid.NewGuid():N}@contoso.com";
        var bob = $"bob-{Guid.NewGuid():N}@contoso.com";

        // The group comes first and references both users (forward references); bob's manager is alice (also forward).
        var response = await BulkAsync(scim, $$$"""
            {"schemas":["{{{BulkRequest}}}"],"Operations":[
              {"method":"POST","path":"/Groups","bulkId":"team","data":{"displayName":"Tour Guides","members":[{"type":"User","value":"bulkId:alice"},{"type":"User","value":"bulkId:bob"}]}},
              {"method":"POST","path":"/Users","bulkId":"bob","data":{"userName":"{{{bob}}}","{{{Enterprise}}}":{"manager":{"value":"bulkId:alice"}} }},
              {"method":"POST","path":"/Users","bulkId":"alice","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{{{alice}}}"}},
              {"method":"PATCH","path":"/Groups/bulkId:team","data":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"Tour Guides EU"}]}}
            ]}
            """);

        Assert.Equal("urn:ietf:params:scim:api:messages:2.0:BulkResponse", Assert.Single(response["schemas"]!.AsArray())!.Str());
        var ops = response["Operations"]!.AsArray().Select(o => o!.AsObject()).ToArray();
        Assert.Equal(4, ops.Length);
        Assert.Equal(["team", "bob", "alice"], ops.Take(3).Select(o => o["bulkId"].Str()));
        Assert.Equal(["201", "201", "201", "200"], ops.Select(o => o["status"].Str()));
        Assert.All(ops, o => Assert.Null(o["response"]));
        Assert.All(ops.Take(3), o => Assert.Equal("W/\"1\"", o["version"].Str()));
        Assert.Equal("PATCH", ops[3]["method"].Str());
        Assert.Equal("W/\"2\"", ops[3]["version"].Str());

        var groupId = IdOf(ops[0]);
        var bobId = IdOf(ops[1]);
        var aliceId = IdOf(ops[2]);
        Assert.StartsWith($"{tenant.ScimUrl}/Groups/", ops[0]["location"].Str(), StringComparison.Ordinal);
        Assert.Equal($"{tenant.ScimUrl}/Groups/{groupId}", ops[3]["location"].Str());

        var group = await GetAsync(scim, $"Groups/{groupId}");
        Assert.Equal("Tour Guides EU", group["displayName"].Str());
        Assert.Equal(new[] { aliceId, bobId }.Order(StringComparer.Ordinal), group["members"]!.AsArray().Select(m => m!["value"].Str()).Order(StringComparer.Ordinal));
        var bobUser = await GetAsync(scim, $"Users/{bobId}");
        Assert.Equal(aliceId, bobUser[Enterprise]!["manager"]!["value"].Str());
        Assert.Equal(groupId, Assert.Single(bobUser["groups"]!.AsArray())!["value"].Str());

        // Metrics name the request "bulk", not a create of some resource type.
        using var plain = gateway.CreateClient();
        Assert.Contains("operation=\"bulk\"", await plain.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailOnErrorsStopsAfterThatManyErrors()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var taken = $"taken-{Guid.NewGuid():N}@contoso.com";
        var later = $"later-{Guid.NewGuid():N}@contoso.com";
        await scim.CreateUserAsync(taken);

        var response = await BulkAsync(scim, $$$"""
            {"schemas":["{{{BulkRequest}}}"],"failOnErrors":1,"Operations":[
              {"method":"POST","path":"/Users","bulkId":"a","data":{"userName":"a-{{{Guid.NewGuid():N}}}"}},
              {"method":"POST","path":"/Users","bulkId":"dup","data":{"userName":"{{{taken}}}"}},
              {"method":"POST","path":"/Users","bulkId":"c","data":{"userName":"{{{later}}}"}}
            ]}
            """);

        var ops = response["Operations"]!.AsArray();
        Assert.Equal(2, ops.Count);
        Assert.Equal("201", ops[0]!["status"].Str());
        Assert.Equal("409", ops[1]!["status"].Str());
        Assert.Equal("uniqueness", ops[1]!["response"]!["scimType"].Str());
        Assert.Equal("409", ops[1]!["response"]!["status"].Str());
        Assert.Equal(0, (await scim.FilterAsync($"userName eq \"{later}\""))["totalResults"]!.GetValue<int>());
    }

    [Fact]
    public async Task EachFailingOperationGetsItsOwnErrorAndTheOthersRun()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var good = $"good-{Guid.NewGuid():N}@contoso.com";
        var missing = Guid.NewGuid().ToString("N");

        var response = await BulkAsync(scim, $$$"""
            {"schemas":["{{{BulkRequest}}}"],"Operations":[
              {"method":"POST","path":"/Users","bulkId":"bad","data":{"userName":"x-{{{Guid.NewGuid():N}}}","shoeSize":44}},
              {"method":"PUT","path":"/Users/{{{missing}}}","data":{"userName":"y@contoso.com"}},
              {"method":"GET","path":"/Users"},
              {"method":"POST","path":"/Users","data":{"userName":"no-bulk-id@contoso.com"}},
              {"method":"POST","path":"/Widgets","bulkId":"w","data":{}},
              {"method":"PATCH","path":"/Groups/{{{missing}}}","data":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"x"}]}]}},
              {"method":"DELETE","path":"/Users/{{{missing}}}"},
              {"method":"POST","path":"/Groups","bulkId":"g","data":{"displayName":"G","members":[{"value":"bulkId:bad"}]}},
              {"method":"POST","path":"/Users","bulkId":"ok","data":{"userName":"{{{good}}}"}}
            ]}
            """);

        var ops = response["Operations"]!.AsArray().Select(o => o!.AsObject()).ToArray();
        Assert.Equal(["400", "404", "400", "400", "400", "404", "404", "409", "201"], ops.Select(o => o["status"].Str()));
        Assert.Equal("invalidSyntax", ops[0]["response"]!["scimType"].Str());
        Assert.Equal("invalidSyntax", ops[2]["response"]!["scimType"].Str());
        Assert.Equal("invalidSyntax", ops[3]["response"]!["scimType"].Str());
        Assert.Equal("invalidPath", ops[4]["response"]!["scimType"].Str());
        Assert.Equal("invalidValue", ops[7]["response"]!["scimType"].Str());
        Assert.Contains("bad", ops[7]["response"]!["detail"].Str(), StringComparison.Ordinal);
        foreach (var failed in ops.Take(8))
        {
            Assert.Equal("urn:ietf:params:scim:api:messages:2.0:Error", Assert.Single(failed["response"]!["schemas"]!.AsArray())!.Str());
        }

        // location names the resource of every operation that has one (RFC 7644 §3.7.3), failed PUT, PATCH and DELETE too;
        // a failed POST created none, and an operation that is not valid names none.
        Assert.Equal(
            [null, $"{tenant.ScimUrl}/Users/{missing}", null, null, null, $"{tenant.ScimUrl}/Groups/{missing}", $"{tenant.ScimUrl}/Users/{missing}", null],
            ops.Take(8).Select(o => o["location"]?.GetValue<string>()));

        Assert.Equal(1, (await scim.FilterAsync($"userName eq \"{good}\""))["totalResults"]!.GetValue<int>());
        using var groups = await scim.GetAsync("Groups?count=0");
        Assert.Equal(0, (await groups.ExpectScimAsync(HttpStatusCode.OK))["totalResults"]!.GetValue<int>());
    }

    [Fact]
    public async Task CircularAndUndefinedReferencesFailWith409()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var response = await BulkAsync(scim, $$$"""
            {"schemas":["{{{BulkRequest}}}"],"Operations":[
              {"method":"POST","path":"/Users","bulkId":"x","data":{"userName":"x-{{{Guid.NewGuid():N}}}","{{{Enterprise}}}":{"manager":{"value":"bulkId:y"}} }},
              {"method":"POST","path":"/Users","bulkId":"y","data":{"userName":"y-{{{Guid.NewGuid():N}}}","{{{Enterprise}}}":{"manager":{"value":"bulkId:x"}} }},
              {"method":"POST","path":"/Users","bulkId":"self","data":{"userName":"s-{{{Guid.NewGuid():N}}}","{{{Enterprise}}}":{"manager":{"value":"bulkId:self"}} }},
              {"method":"DELETE","path":"/Users/bulkId:nobody"},
              {"method":"POST","path":"/Users","bulkId":"fine","data":{"userName":"f-{{{Guid.NewGuid():N}}}"}}
            ]}
            """);

        var ops = response["Operations"]!.AsArray().Select(o => o!.AsObject()).ToArray();
        Assert.Equal(["409", "409", "409", "409", "201"], ops.Select(o => o["status"].Str()));
        Assert.All(ops.Take(4), o => Assert.Equal("invalidValue", o["response"]!["scimType"].Str()));
        Assert.Contains("circular", ops[0]["response"]!["detail"].Str(), StringComparison.Ordinal);
        Assert.Contains("circular", ops[2]["response"]!["detail"].Str(), StringComparison.Ordinal);
        Assert.Contains("nobody", ops[3]["response"]!["detail"].Str(), StringComparison.Ordinal);
        using var users = await scim.GetAsync("Users?count=0");
        Assert.Equal(1, (await users.ExpectScimAsync(HttpStatusCode.OK))["totalResults"]!.GetValue<int>());
    }

    [Fact]
    public async Task AChainOfForwardReferencesDeeperThanTheBoundFailsItsOperationsNotTheRequest()
    {
        // u0's manager is u1, u1's is u2, … : each create pulls the next one forward, one frame each. Past 64 the operation
        // fails with 409; the request is answered, and the rest run in order.
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        static string Op(int i)
        {
            var manager = i < 69 ? $",\"{Enterprise}\":{{\"manager\":{{\"value\":\"bulkId:u{i + 1}\"}}}}" : "";
            return $"{{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"u{i}\",\"data\":{{\"userName\":\"chain{i}-{Guid.NewGuid():N}@contoso.com\"{manager}}}}}";
        }

        var ops = string.Join(",", Enumerable.Range(0, 70).Select(Op));
        var response = await BulkAsync(scim, $$$"""{"schemas":["{{{BulkRequest}}}"],"failOnErrors":100,"Operations":[{{{ops}}}]}""");

        var results = response["Operations"]!.AsArray().Select(o => o!.AsObject()).ToArray();
        Assert.Equal(70, results.Length);
        Assert.All(results, o => Assert.True(o["status"].Str() is "201" or "409", o.ToJsonString()));
        Assert.Contains(results, o => o["status"].Str() == "409" && o["response"]!["detail"].Str().Contains("nested more than 64", StringComparison.Ordinal));
        Assert.Contains(results, o => o["status"].Str() == "201");
    }

    [Fact]
    public async Task VersionActsAsIfMatch()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var user = (await scim.CreateUserAsync($"v-{Guid.NewGuid():N}"))["id"].Str();
        var response = await BulkAsync(scim, $$$"""
            {"schemas":["{{{BulkRequest}}}"],"Operations":[
              {"method":"PATCH","path":"/Users/{{{user}}}","version":" ","data":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"Unconditional"}]}},
              {"method":"PUT","path":"/Users/{{{user}}}","data":[]},
              {"method":"PATCH","path":"/Users/{{{user}}}","version":"W/\"1\"","data":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"First"}]}},
              {"method":"PATCH","path":"/Users/{{{user}}}","version":"W/\"1\"","data":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"Second"}]}},
              {"method":"DELETE","path":"/Users/{{{user}}}","version":"W/\"1\""},
              {"method":"DELETE","path":"/Users/{{{user}}}","version":"\"2\""}
            ]}
            """);

        // An empty version is not a precondition left out: refused, as one that is not a string (it would otherwise run the
        // write unconditionally). Both refusals name their resource (RFC 7644 §3.7.3) and change nothing: the next
        // operation's W/"1" still matches.
        var refused = response["Operations"]!.AsArray().Take(2).Select(o => o!.AsObject()).ToArray();
        Assert.Equal(["400", "400"], refused.Select(o => o["status"].Str()));
        Assert.Equal(["invalidSyntax", "invalidSyntax"], refused.Select(o => o["response"]!["scimType"].Str()));
        Assert.All(refused, o => Assert.Equal($"{tenant.ScimUrl}/Users/{user}", o["location"].Str()));

        var ops = response["Operations"]!.AsArray().Skip(2).Select(o => o!.AsObject()).ToArray();
        Assert.Equal(["200", "412", "412", "204"], ops.Select(o => o["status"].Str()));
        Assert.Equal("W/\"2\"", ops[0]["version"].Str());
        Assert.Equal($"{tenant.ScimUrl}/Users/{user}", ops[0]["location"].Str());
        Assert.Equal("412", ops[1]["response"]!["status"].Str());
        Assert.Equal($"{tenant.ScimUrl}/Users/{user}", ops[1]["location"].Str()); // RFC 7644 §3.7.3: failed non-POSTs too
        Assert.Equal($"{tenant.ScimUrl}/Users/{user}", ops[3]["location"].Str());
        using var gone = await scim.GetAsync($"Users/{user}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task TooManyOperationsOrTooLargeAPayloadIs413AndChangesNothing()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var many = string.Join(",", Enumerable.Range(0, 401).Select(i => $$$"""{"method":"POST","path":"/Users","bulkId":"u{{{i}}}","data":{"userName":"u{{{i}}}"}}"""));
        using (var tooMany = await scim.PostAsync("Bulk", ScimTestClient.Body($$$"""{"schemas":["{{{BulkRequest}}}"],"Operations":[{{{many}}}]}""")))
        {
            var error = await tooMany.ExpectScimErrorAsync(HttpStatusCode.RequestEntityTooLarge);
            Assert.Contains("maxOperations (400)", error["detail"].Str(), StringComparison.Ordinal);
        }

        var padding = new string('x', 1024 * 1024);
        using (var tooLarge = await scim.PostAsync("Bulk", ScimTestClient.Body($$$"""{"schemas":["{{{BulkRequest}}}"],"Operations":[{"method":"POST","path":"/Users","bulkId":"big","data":{"userName":"big","displayName":"{{{padding}}}"}}]}""")))
        {
            var error = await tooLarge.ExpectScimErrorAsync(HttpStatusCode.RequestEntityTooLarge);
            Assert.Contains("maxPayloadSize (1048576)", error["detail"].Str(), StringComparison.Ordinal);
        }

        using var users = await scim.GetAsync("Users?count=0");
        Assert.Equal(0, (await users.ExpectScimAsync(HttpStatusCode.OK))["totalResults"]!.GetValue<int>());
    }

    [Fact]
    public async Task HostileOperationsFailAloneAndChangeNothing()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var existing = (await scim.PostUserAsync($$"""{"userName":"{{Guid.NewGuid():N}}@contoso.com","displayName":"Before"}"""))["id"].Str();
        var name = $"ok-{Guid.NewGuid():N}@contoso.com";

        // A version that is not an ETag string must not run the write unconditionally; junk operations fail alone.
        var response = await BulkAsync(scim, $$$"""
            {"schemas":["{{{BulkRequest}}}"],"Operations":[
              null, [], 7, {"method":5,"path":"/Users"}, {"method":"POST","path":"/Users","bulkId":{},"data":{"userName":"x"}},
              {"method":"PATCH","path":"/Users/{{{existing}}}","version":3,"data":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"After"}]}},
              {"method":"PUT","path":"/Users/{{{existing}}}","data":[]},
              {"method":"POST","path":"/Users","bulkId":"ok","data":{"userName":"{{{name}}}"}}
            ]}
            """);

        var ops = response["Operations"]!.AsArray().Select(o => o!.AsObject()).ToArray();
        Assert.Equal(["400", "400", "400", "400", "400", "400", "400", "201"], ops.Select(o => o["status"].Str()));
        Assert.All(ops.Take(7), o => Assert.Equal("400", o["response"]!["status"].Str()));
        Assert.Equal("Before", (await GetAsync(scim, $"Users/{existing}"))["displayName"].Str());
    }

    [Fact]
    public async Task BulkOperationsCountAgainstTheTenantRateLimitAndABulkCarriesAtMostItsBurstPlusOne()
    {
        await using var limited = ThrottledGateway();
        var tenant = await limited.CreateTenantAsync();
        using var scim = limited.ScimClient(tenant);
        var other = await limited.CreateTenantAsync();
        using var otherScim = limited.ScimClient(other);
        string Bulk(string prefix, int count) => $$$"""{"schemas":["{{{BulkRequest}}}"],"Operations":[{{{string.Join(",", Enumerable.Range(0, count).Select(i =>
            $$$$"""{"method":"POST","path":"/Users","bulkId":"{{{{prefix}}}}{{{{i}}}}","data":{"userName":"{{{{prefix}}}}{{{{i}}}}-{{{{Guid.NewGuid():N}}}}@contoso.com"}}"""))}}}]}""";

        // A Bulk may carry the burst plus one (the HTTP request's own permit): more could never be paid for, and until
        // 2026-12-07 the extra ones were free, so a tenant throttled to one request a second ran a thousand operations.
        // (Another tenant: each request takes one of the tenant's three permits.)
        Assert.Equal(4, (await GetAsync(otherScim, "ServiceProviderConfig"))["bulk"]!["maxOperations"]!.GetValue<int>());
        using (var tooMany = await otherScim.PostAsync("Bulk", ScimTestClient.Body(Bulk("x", 5))))
        {
            var error = await tooMany.ExpectScimErrorAsync(HttpStatusCode.RequestEntityTooLarge);
            Assert.Contains("maxOperations (4)", error["detail"].Str(), StringComparison.Ordinal);
        }

        // The first request takes the burst for its operations; the second, one request later, is refused whole.
        var first = await BulkAsync(scim, Bulk("a", 4));
        Assert.All(first["Operations"]!.AsArray(), o => Assert.Equal("201", o!["status"].Str()));
        using (var second = await scim.PostAsync("Bulk", ScimTestClient.Body(Bulk("b", 4))))
        {
            await second.ExpectScimErrorAsync((HttpStatusCode)429);
            Assert.NotNull(second.Headers.RetryAfter);
        }

        using var users = await scim.GetAsync("Users?count=0");
        Assert.Equal(4, (await users.ExpectScimAsync(HttpStatusCode.OK))["totalResults"]!.GetValue<int>());
    }

    [Fact]
    public async Task ABulkOfOneOperationTakesOnlyItsRequestsPermit()
    {
        // Its operations' bucket is empty after a full Bulk; a Bulk with nothing beyond its first operation asks it for nothing
        // (until 2026-12-07 it asked for zero permits, which an empty bucket refuses: 429).
        await using var limited = ThrottledGateway();
        var tenant = await limited.CreateTenantAsync();
        using var scim = limited.ScimClient(tenant);
        string Create(string name) => $$$"""{"method":"POST","path":"/Users","bulkId":"{{{name}}}","data":{"userName":"{{{name}}}-{{{Guid.NewGuid():N}}}@contoso.com"}}""";

        var full = await BulkAsync(scim, $$$"""{"schemas":["{{{BulkRequest}}}"],"Operations":[{{{Create("a")}}},{{{Create("b")}}},{{{Create("c")}}},{{{Create("d")}}}]}""");
        Assert.All(full["Operations"]!.AsArray(), o => Assert.Equal("201", o!["status"].Str()));
        var one = await BulkAsync(scim, $$$"""{"schemas":["{{{BulkRequest}}}"],"Operations":[{{{Create("e")}}}]}""");
        Assert.Equal("201", Assert.Single(one["Operations"]!.AsArray())!["status"].Str());
    }

    [Fact]
    public async Task OperationsRunInRequestOrderExceptTheCreatesAForwardReferenceNeeds()
    {
        // The group references a user created after it: that create runs first, and only that one. The DELETE after them
        // runs last, as sent: the group is created with the member, then the member goes (until 2026-12-07 the DELETE ran
        // while the group waited, and the group's create then failed: its member was gone).
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var response = await BulkAsync(scim, $$$"""
            {"schemas":["{{{BulkRequest}}}"],"Operations":[
              {"method":"POST","path":"/Groups","bulkId":"g","data":{"displayName":"Ordered {{{Guid.NewGuid():N}}}","members":[{"value":"bulkId:u"}]}},
              {"method":"POST","path":"/Users","bulkId":"u","data":{"userName":"ordered-{{{Guid.NewGuid():N}}}@contoso.com"}},
              {"method":"DELETE","path":"/Users/bulkId:u"}
            ]}
            """);

        var ops = response["Operations"]!.AsArray().Select(o => o!.AsObject()).ToArray();
        Assert.Equal(["201", "201", "204"], ops.Select(o => o["status"].Str()));
        var group = await GetAsync(scim, $"Groups/{IdOf(ops[0])}");
        Assert.Empty(group["members"]?.AsArray() ?? []);
        using var gone = await scim.GetAsync($"Users/{IdOf(ops[1])}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task MemberNamesAndPathsMatchInAnyCaseAsInEveryOtherScimMessage()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var response = await BulkAsync(scim, $$$"""
            {"SCHEMAS":["{{{BulkRequest}}}"],"FailOnErrors":5,"operations":[
              {"Method":"POST","Path":"/users","BulkId":"a","Data":{"userName":"case.a@contoso.com"}},
              {"METHOD":"patch","PATH":"/Users/bulkId:a","DATA":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"Case A"}]}}]}
            """);

        var ops = response["Operations"]!.AsArray().Select(o => o!.AsObject()).ToArray();
        Assert.Equal(["201", "200"], ops.Select(o => o["status"].Str()));
        Assert.Equal("Case A", (await GetAsync(scim, $"Users/{IdOf(ops[0])}"))["displayName"].Str());
    }

    [Fact]
    public async Task ABadEnvelopeIs400()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        foreach (var body in new[]
        {
            """{"Operations":[]}""",
            $$$"""{"schemas":["{{{BulkRequest}}}"]}""",
            $$$"""{"schemas":["{{{BulkRequest}}}"],"failOnErrors":0,"Operations":[]}""",
            $$$"""{"schemas":["{{{BulkRequest}}}"],"Operations":[{"method":"POST","path":"/Users","bulkId":"a","data":{"userName":"a"}},{"method":"POST","path":"/Users","bulkId":"a","data":{"userName":"b"}}]}""",
        })
        {
            using var response = await scim.PostAsync("Bulk", ScimTestClient.Body(body));
            await response.ExpectScimErrorAsync(HttpStatusCode.BadRequest);
        }

        using var users = await scim.GetAsync("Users?count=0");
        Assert.Equal(0, (await users.ExpectScimAsync(HttpStatusCode.OK))["totalResults"]!.GetValue<int>());

        // Bulk is under the tenant prefix: no token, no bulk.
        using var anonymous = gateway.CreateClient();
        using var unauthorized = await anonymous.PostAsync($"{tenant.ScimUrl}/Bulk", ScimTestClient.Body($$$"""{"schemas":["{{{BulkRequest}}}"],"Operations":[]}"""));
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
    }

    [Fact]
    public async Task DiscoveryAdvertisesBulkAndItsLimits()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var config = await GetAsync(scim, "ServiceProviderConfig");
        Assert.True(config["bulk"]!["supported"]!.GetValue<bool>());
        Assert.Equal(400, config["bulk"]!["maxOperations"]!.GetValue<int>());
        Assert.Equal(1024 * 1024, config["bulk"]!["maxPayloadSize"]!.GetValue<int>());
        Assert.True(config["etag"]!["supported"]!.GetValue<bool>());
    }

    // A gateway whose tenants may send 3 requests at once, then one every 20 s.
    private static GatewayFactory ThrottledGateway() => GatewayFactory.With(new Dictionary<string, string?>
    {
        ["RateLimits:Default:PermitsPerSecond"] = "0.05",
        ["RateLimits:Default:Burst"] = "3",
    });

    private static string IdOf(JsonObject op) => op["location"].Str()[(op["location"].Str().LastIndexOf('/') + 1)..];

    private static async Task<JsonObject> BulkAsync(HttpClient scim, string body)
    {
        using var response = await scim.PostAsync("Bulk", ScimTestClient.Body(body));
        return await response.ExpectScimAsync(HttpStatusCode.OK);
    }

    private static async Task<JsonObject> GetAsync(HttpClient scim, string path)
    {
        using var response = await scim.GetAsync(path);
        return await response.ExpectScimAsync(HttpStatusCode.OK);
    }
}
