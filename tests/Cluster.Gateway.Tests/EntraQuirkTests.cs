using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>entra-scim.md §4.2 quirk catalogue (Q1–Q17) and the validator's request shapes (§7.1), user side.</summary>
public sealed class EntraQuirkTests : IClassFixture<GatewayFactory>
{
    private readonly GatewayFactory _gateway;

    public EntraQuirkTests(GatewayFactory gateway) => _gateway = gateway;

    [Fact]
    public async Task LegacyCreateWithNullsAndMalformedEnterpriseUrnIsAccepted()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);

        var created = await scim.PostUserAsync("""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
             "externalId":"jyoung","userName":"jyoung@contoso.com","active":true,
             "addresses":null,"displayName":"Joy Young","emails":[{"primary":true,"type":"work","value":"jyoung@contoso.com"}],
             "meta":{"resourceType":"User"},"name":{"familyName":"Young","givenName":"Joy"},
             "phoneNumbers":null,"title":null,"roles":[],
             "urn:ietf:params:scim:schemas:extension:enterprise:2.0User":{"department":null,"manager":null}}
            """);

        Assert.Equal("jyoung@contoso.com", created["userName"].Str());
        Assert.Equal("Joy Young", created["displayName"].Str());
        Assert.Null(created["addresses"]);
        Assert.Null(created["phoneNumbers"]);
        Assert.Null(created["title"]);
        Assert.Null(created["roles"]);
        Assert.DoesNotContain(created, kv => kv.Value is null);
        Assert.Equal([EntraPayloads.CoreUserSchema], created["schemas"]!.AsArray().Select(s => s.Str()));
    }

    [Fact]
    public async Task AnExtensionThisServiceDoesNotKnowIsRefusedWhenItCarriesValues()
    {
        // Passed over only when it has nothing to store (the legacy example above); with values it was answered 201 or 200
        // and the values were lost: an attribute mapped in Entra before the operator configured its extension.
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);

        using (var create = await scim.PostAsync("Users", ScimTestClient.Body("""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"cost@contoso.com","urn:ietf:params:scim:schemas:extension:CostCenter:2.0:User":{"costCode":"701"}}
            """)))
        {
            await create.ExpectScimErrorAsync(HttpStatusCode.BadRequest, "invalidSyntax");
        }

        ScimTestClient.AssertEmptyList(await scim.FilterAsync("userName eq \"cost@contoso.com\""));

        var user = await scim.PostUserAsync("""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"cost@contoso.com","urn:ietf:params:scim:schemas:extension:CostCenter:2.0:User":{"costCode":null}}
            """);
        using (var patch = await scim.PatchUserAsync(user["id"].Str(), """
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
             "Operations":[{"op":"replace","value":{"displayName":"Cost","urn:ietf:params:scim:schemas:extension:CostCenter:2.0:User":{"costCode":"8"}}}]}
            """))
        {
            await patch.ExpectScimErrorAsync(HttpStatusCode.BadRequest, "invalidPath");
        }

        Assert.Null((await scim.GetUserAsync(user["id"].Str()))["displayName"]);
    }

    [Fact]
    public async Task AttributeNamesAndOpKeysAreCaseInsensitiveAndStoredInSchemaSpelling()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var boss = (await scim.CreateUserAsync("big.boss@contoso.com"))["id"].Str();

        var created = await scim.PostUserAsync($$"""
            {"UserName":"CamelCase@contoso.com","Active":"True",
             "Emails":[{"Primary":"True","Type":"work","Value":"CamelCase@contoso.com"}],
             "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user":{"Department":"Sales","Manager":{"Value":"{{boss}}"} } }
            """);

        Assert.Equal("CamelCase@contoso.com", created["userName"].Str());
        Assert.Equal(JsonValueKind.True, created["active"]!.GetValueKind());
        var email = Assert.Single(created["emails"]!.AsArray())!.AsObject();
        Assert.Equal(JsonValueKind.True, email["primary"]!.GetValueKind());
        Assert.Equal("work", email["type"].Str());
        Assert.Equal("CamelCase@contoso.com", email["value"].Str());
        Assert.Equal("Sales", created[EntraPayloads.EnterpriseUserSchema]!["department"].Str());
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["value"] = boss }, created[EntraPayloads.EnterpriseUserSchema]!["manager"]));

        using var patch = await scim.PatchUserAsync(created["id"].Str(), """
            {"Schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
             "operations":[{"OP":"REPLACE","Path":"Name.GivenName","Value":"Camel"},{"Op":"Add","PATH":"Title","VALUE":"Chief"}]}
            """);
        var patched = await patch.ExpectScimAsync(HttpStatusCode.OK);
        Assert.Equal("Camel", patched["name"]!["givenName"].Str());
        Assert.Equal("Chief", patched["title"].Str());
    }

    [Fact]
    public async Task ValidatorAddAttributesCreatesEveryValueFilterElement()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var id = (await scim.PostUserAsync(EntraPayloads.MinimalUser("add.attrs@contoso.com")))["id"].Str();

        using var response = await scim.PatchUserAsync(id, EntraPayloads.Patch(
            """{"op":"add","path":"emails[type eq \"work\"].value","value":"add.attrs@contoso.com"}""",
            """{"op":"add","path":"emails[type eq \"work\"].primary","value":"True"}""",
            """{"op":"add","path":"addresses[type eq \"work\"].streetAddress","value":"1 Main St"}""",
            """{"op":"add","path":"addresses[type eq \"work\"].locality","value":"Redmond"}""",
            """{"op":"add","path":"addresses[type eq \"work\"].region","value":"WA"}""",
            """{"op":"add","path":"addresses[type eq \"work\"].postalCode","value":"98052"}""",
            """{"op":"add","path":"addresses[type eq \"work\"].country","value":"US"}""",
            """{"op":"add","path":"addresses[type eq \"work\"].formatted","value":"1 Main St, Redmond"}""",
            """{"op":"add","path":"phoneNumbers[type eq \"work\"].value","value":"+1 (425) 555-0100"}""",
            """{"op":"add","path":"phoneNumbers[type eq \"mobile\"].value","value":"425.555.0101"}""",
            """{"op":"add","path":"phoneNumbers[type eq \"fax\"].value","value":"4255550102"}""",
            """{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Eng"}"""));
        var user = await response.ExpectScimAsync(HttpStatusCode.OK);

        var email = Assert.Single(user["emails"]!.AsArray())!;
        Assert.Equal("add.attrs@contoso.com", email["value"].Str());
        Assert.Equal(JsonValueKind.True, email["primary"]!.GetValueKind());
        var address = Assert.Single(user["addresses"]!.AsArray())!;
        Assert.Equal("work", address["type"].Str());
        Assert.Equal("1 Main St", address["streetAddress"].Str());
        Assert.Equal("Redmond", address["locality"].Str());
        Assert.Equal("WA", address["region"].Str());
        Assert.Equal("98052", address["postalCode"].Str());
        Assert.Equal("US", address["country"].Str());
        Assert.Equal("1 Main St, Redmond", address["formatted"].Str());

        // Phone numbers stored exactly as sent (Q17: no normalisation).
        var phones = user["phoneNumbers"]!.AsArray().ToDictionary(p => p!["type"].Str(), p => p!["value"].Str());
        Assert.Equal(new Dictionary<string, string> { ["work"] = "+1 (425) 555-0100", ["mobile"] = "425.555.0101", ["fax"] = "4255550102" }, phones);
        Assert.Equal("Eng", user[EntraPayloads.EnterpriseUserSchema]!["department"].Str());
        Assert.True(JsonNode.DeepEquals(user, await scim.GetUserAsync(id)));
    }

    [Fact]
    public async Task MultipleOpsOnTheSameAttributeApplyInOrder()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var id = (await scim.CreateUserAsync("multi.ops@contoso.com"))["id"].Str();

        using var response = await scim.PatchUserAsync(id, EntraPayloads.Patch(
            """{"op":"replace","path":"displayName","value":"First"}""",
            """{"op":"replace","path":"displayName","value":"Second"}""",
            """{"op":"add","path":"title","value":"Temp"}""",
            """{"op":"remove","path":"title"}"""));
        var user = await response.ExpectScimAsync(HttpStatusCode.OK);

        Assert.Equal("Second", user["displayName"].Str());
        Assert.Null(user["title"]);
    }

    [Fact]
    public async Task RepeatedPatchIsIdempotentAndEtagFollowsVersion()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var id = (await scim.CreateUserAsync("idem@contoso.com"))["id"].Str();
        var body = EntraPayloads.PatchDefaultDialect("idem.new@contoso.com", "Fam", "42", "Nick");

        using var first = await scim.PatchUserAsync(id, body);
        var one = await first.ExpectScimAsync(HttpStatusCode.OK);
        using var second = await scim.PatchUserAsync(id, body);
        var two = await second.ExpectScimAsync(HttpStatusCode.OK);

        Assert.True(JsonNode.DeepEquals(one, two));
        Assert.Equal(first.Headers.ETag, second.Headers.ETag);
        Assert.Equal(one["meta"]!["version"].Str(), first.Headers.ETag!.ToString());
    }

    [Fact]
    public async Task ManagerRemovalByValueFilterPath()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var boss = (await scim.CreateUserAsync("filter.boss@contoso.com"))["id"].Str();
        var id = (await scim.CreateUserAsync("filter.report@contoso.com"))["id"].Str();
        using (var set = await scim.PatchUserAsync(id, EntraPayloads.AddManagerBareString(boss)))
        {
            await set.ExpectScimAsync(HttpStatusCode.OK);
        }

        using var removed = await scim.PatchUserAsync(id, EntraPayloads.Patch($$"""{"op":"remove","path":"manager[value eq \"{{boss}}\"]"}"""));

        var user = await removed.ExpectScimAsync(HttpStatusCode.OK);
        Assert.Null(user[EntraPayloads.EnterpriseUserSchema]);
        Assert.Null((await scim.GetUserAsync(id))[EntraPayloads.EnterpriseUserSchema]);
    }

    [Fact]
    public async Task LegacyManagerPreCheckQuery()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var boss = (await scim.CreateUserAsync("pre.boss@contoso.com"))["id"].Str();
        var id = (await scim.CreateUserAsync("pre.report@contoso.com"))["id"].Str();
        using (var set = await scim.PatchUserAsync(id, EntraPayloads.AddManagerBareString(boss)))
        {
            await set.ExpectScimAsync(HttpStatusCode.OK);
        }

        using var hit = await scim.GetAsync("Users?filter=" + Uri.EscapeDataString($"id eq \"{id}\" and manager eq \"{boss}\"") + "&attributes=id");
        var match = Assert.Single((await hit.ExpectScimAsync(HttpStatusCode.OK))["Resources"]!.AsArray())!.AsObject();
        Assert.Equal(id, match["id"].Str());
        Assert.Null(match["userName"]);

        using var miss = await scim.GetAsync("Users?filter=" + Uri.EscapeDataString($"id eq \"{id}\" and manager eq \"{id}\"") + "&attributes=id");
        ScimTestClient.AssertEmptyList(await miss.ExpectScimAsync(HttpStatusCode.OK));
    }

    [Fact]
    public async Task RolesPatchWithJsonStringValuesIsStoredAsSent()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var id = (await scim.CreateUserAsync("roles@contoso.com"))["id"].Str();
        const string RoleValue = """{"id":"06b07648-ecfe-589f-9d2f-6325724a46ee","value":"25","displayName":"Role1234"}""";

        using var response = await scim.PatchUserAsync(id, EntraPayloads.Patch(
            "{\"op\":\"Add\",\"path\":\"roles\",\"value\":[{\"value\":" + JsonSerializer.Serialize(RoleValue) + "}]}"));

        var user = await response.ExpectScimAsync(HttpStatusCode.OK);
        Assert.Equal(RoleValue, Assert.Single(user["roles"]!.AsArray())!["value"].Str());
    }

    [Theory]
    [InlineData("application/scim+json; charset=utf-8")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("APPLICATION/SCIM+JSON")]
    public async Task ContentTypeVariantsAreAccepted(string contentType)
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        using var content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(EntraPayloads.MinimalUser("ct@contoso.com")));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        using var response = await scim.PostAsync("Users", content);

        Assert.Equal("ct@contoso.com", (await response.ExpectScimAsync(HttpStatusCode.Created))["userName"].Str());
    }

    [Fact]
    public async Task NonAsciiValuesRoundTripExactly()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);

        var created = await scim.PostUserAsync("""
            {"userName":"zoë.ßtraße@contoso.com","displayName":"Zoë \"Z\" O'Brien <b>&amp;</b> 日本","name":{"givenName":"  Zoë  "}}
            """);

        Assert.Equal("Zoë \"Z\" O'Brien <b>&amp;</b> 日本", created["displayName"].Str());
        Assert.Equal("  Zoë  ", created["name"]!["givenName"].Str());
        Assert.Equal([created["id"].Str()], (await scim.FilterAsync("userName eq \"zoë.ßtraße@contoso.com\"")).Ids());
        Assert.Equal([created["id"].Str()], (await scim.FilterAsync("userName eq \"ZOË.ßTRAßE@CONTOSO.COM\"")).Ids());
    }

    [Fact]
    public async Task ConcurrentCreatesOfOneUserNameGiveExactlyOneCreated()
    {
        var tenant = await _gateway.CreateTenantAsync();
        var clients = Enumerable.Range(0, 20).Select(_ => _gateway.ScimClient(tenant)).ToArray();
        try
        {
            var responses = await Task.WhenAll(clients.Select((c, i) =>
                c.PostAsync("Users", ScimTestClient.Body(EntraPayloads.CreateUser(i % 2 == 0 ? "race@contoso.com" : "RACE@contoso.com", $"race-{i}", $"race{i}@contoso.com")))));

            Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
            Assert.Equal(19, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
            foreach (var conflict in responses.Where(r => r.StatusCode == HttpStatusCode.Conflict))
            {
                await conflict.ExpectScimErrorAsync(HttpStatusCode.Conflict, "uniqueness");
            }

            var winner = await responses.Single(r => r.StatusCode == HttpStatusCode.Created).ReadJsonAsync();
            Assert.Equal([winner["id"].Str()], (await clients[0].FilterAsync("userName eq \"race@contoso.com\"")).Ids());
            var all = await (await clients[0].GetAsync("Users")).ExpectScimAsync(HttpStatusCode.OK);
            Assert.Equal(1, all["totalResults"]!.GetValue<int>());

            // The losers' externalIds and emails were released: none of them finds anything.
            for (var i = 0; i < 20; i++)
            {
                if (winner["externalId"].Str() != $"race-{i}")
                {
                    ScimTestClient.AssertEmptyList(await clients[0].FilterAsync($"externalId eq \"race-{i}\""));
                }
            }

            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    [Fact]
    public async Task WritesOnOneGatewayAreReadOnAnother()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var second = GatewayFactory.ConnectTo(_gateway);
        using var first = _gateway.ScimClient(tenant);
        using var other = second.ScimClient(tenant);

        var created = await first.CreateUserAsync("cross@contoso.com", "cross-ext");
        var id = created["id"].Str();
        Assert.Equal([id], (await other.FilterAsync("userName eq \"cross@contoso.com\"")).Ids());
        Assert.Equal([id], (await other.FilterAsync("externalId eq \"cross-ext\"")).Ids());

        using (var rename = await other.PatchUserAsync(id, EntraPayloads.RenameUserName("crossed@contoso.com")))
        {
            await rename.ExpectScimAsync(HttpStatusCode.OK);
        }

        Assert.Equal([id], (await first.FilterAsync("userName eq \"crossed@contoso.com\"")).Ids());
        ScimTestClient.AssertEmptyList(await first.FilterAsync("userName eq \"cross@contoso.com\""));

        using (var duplicate = await other.PostAsync("Users", ScimTestClient.Body(EntraPayloads.MinimalUser("CROSSED@contoso.com"))))
        {
            await duplicate.ExpectScimErrorAsync(HttpStatusCode.Conflict, "uniqueness");
        }

        using (var delete = await first.DeleteAsync($"Users/{id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        using (var gone = await other.GetAsync($"Users/{id}"))
        {
            await gone.ExpectScimErrorAsync(HttpStatusCode.NotFound);
        }
    }
}
