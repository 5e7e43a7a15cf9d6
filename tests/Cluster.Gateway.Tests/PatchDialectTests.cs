using System.Net;
using System.Text.Json.Nodes;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>entra-scim.md §2.5 (both PATCH dialects), §3.4 (manager as a reference) and §4.3 (the flag).</summary>
public sealed class PatchDialectTests : IClassFixture<GatewayFactory>
{
    private readonly GatewayFactory _gateway;

    public PatchDialectTests(GatewayFactory gateway) => _gateway = gateway;

    [Fact]
    public async Task DefaultDialectUpdateReturnsTheFullUser()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var user = await scim.PostUserAsync(EntraPayloads.CreateUser("patch.default@contoso.com", "pd-ext", "old.mail@contoso.com", "Ada", "Lovelace"));
        var id = user["id"].Str();

        using var response = await scim.PatchUserAsync(id, EntraPayloads.PatchDefaultDialect("updatedEmail@microsoft.com", "updatedFamilyName", "Eqpj", "Babs"));
        var patched = await response.ExpectScimAsync(HttpStatusCode.OK);

        Assert.Equal(id, patched["id"].Str());
        Assert.Equal("patch.default@contoso.com", patched["userName"].Str());
        Assert.Equal("updatedEmail@microsoft.com", WorkEmail(patched));
        Assert.Single(patched["emails"]!.AsArray());
        Assert.Equal("updatedFamilyName", patched["name"]!["familyName"].Str());
        Assert.Equal("Ada", patched["name"]!["givenName"].Str());
        Assert.Equal("Babs", patched["nickName"].Str());
        Assert.Equal("Eqpj", patched[EntraPayloads.EnterpriseUserSchema]!["employeeNumber"].Str());
        Assert.Contains(EntraPayloads.EnterpriseUserSchema, patched["schemas"]!.AsArray().Select(s => s.Str()));
        Assert.NotNull(response.Headers.ETag);
        Assert.NotEqual(user["meta"]!["version"].Str(), patched["meta"]!["version"].Str());

        Assert.True(JsonNode.DeepEquals(patched, await scim.GetUserAsync(id)));
        Assert.Equal([id], (await scim.FilterAsync("emails[type eq \"work\"].value eq \"updatedemail@microsoft.com\"")).Ids());
        ScimTestClient.AssertEmptyList(await scim.FilterAsync("emails[type eq \"work\"].value eq \"old.mail@contoso.com\""));
    }

    [Fact]
    public async Task DefaultDialectCompatibilityPageExampleAppliesEveryOperation()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var user = await scim.CreateUserAsync("compat@contoso.com", "compat-ext");
        var id = user["id"].Str();

        var body = EntraPayloads.Patch(
            """{"op":"Replace","path":"displayName","value":"Pvlo"}""",
            """{"op":"Replace","path":"emails[type eq \"work\"].value","value":"TestBcwqnm@test.microsoft.com"}""",
            """{"op":"Replace","path":"name.givenName","value":"Gtfd"}""",
            """{"op":"Replace","path":"name.familyName","value":"Pkqf"}""",
            """{"op":"Replace","path":"externalId","value":"Eqpj"}""",
            """{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"Eqpj"}""");
        using var response = await scim.PatchUserAsync(id, body);
        var patched = await response.ExpectScimAsync(HttpStatusCode.OK);

        Assert.Equal("Pvlo", patched["displayName"].Str());
        Assert.Equal("TestBcwqnm@test.microsoft.com", WorkEmail(patched));
        Assert.Equal("Gtfd", patched["name"]!["givenName"].Str());
        Assert.Equal("Pkqf", patched["name"]!["familyName"].Str());
        Assert.Equal("Eqpj", patched["externalId"].Str());
        Assert.Equal("Eqpj", patched[EntraPayloads.EnterpriseUserSchema]!["employeeNumber"].Str());
        Assert.Equal([id], (await scim.FilterAsync("externalId eq \"Eqpj\"")).Ids());
        ScimTestClient.AssertEmptyList(await scim.FilterAsync("externalId eq \"compat-ext\""));
    }

    [Fact]
    public async Task FlagDialectPathlessReplaceInterpretsDottedAndUrnKeys()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var user = await scim.PostUserAsync(EntraPayloads.CreateUser("patch.flag@contoso.com", "pf-ext", "old.flag@contoso.com", "Old", "Name"));
        var id = user["id"].Str();

        using var response = await scim.PatchUserAsync(id, EntraPayloads.PatchFlagDialect("TestMhvaes@test.microsoft.com", "Bjfe", "Kkom", "Unua", "Aklq"));
        var patched = await response.ExpectScimAsync(HttpStatusCode.OK);

        Assert.Equal("TestMhvaes@test.microsoft.com", WorkEmail(patched));
        Assert.Equal("Bjfe", patched["displayName"].Str());
        Assert.Equal("Kkom", patched["name"]!["givenName"].Str());
        Assert.Equal("Unua", patched["name"]!["familyName"].Str());
        Assert.Equal("Aklq", patched[EntraPayloads.EnterpriseUserSchema]!["employeeNumber"].Str());

        // No literal dotted or URN-prefixed keys stored.
        Assert.Equal(
            new HashSet<string> { "schemas", "id", "externalId", "userName", "active", "emails", "name", "displayName", EntraPayloads.EnterpriseUserSchema, "meta" },
            patched.Select(kv => kv.Key).ToHashSet());
        Assert.Equal(new HashSet<string> { "employeeNumber" }, patched[EntraPayloads.EnterpriseUserSchema]!.AsObject().Select(kv => kv.Key).ToHashSet());

        var fetched = await scim.GetUserAsync(id);
        Assert.True(JsonNode.DeepEquals(patched, fetched));

        // Single-valued add, flag form.
        using var add = await scim.PatchUserAsync(id, EntraPayloads.Patch("""{"op":"add","path":"nickName","value":"Babs"}"""));
        Assert.Equal("Babs", (await add.ExpectScimAsync(HttpStatusCode.OK))["nickName"].Str());

        // Pathless add with dotted keys (observed with the flag).
        using var pathlessAdd = await scim.PatchUserAsync(id, EntraPayloads.Patch(
            """{"op":"add","value":{"displayName":"Foo Bar","title":"Bar Foo","name.givenName":"Foo","name.familyName":"Bar","name.formatted":"Foo Bar"}}"""));
        var added = await pathlessAdd.ExpectScimAsync(HttpStatusCode.OK);
        Assert.Equal("Bar Foo", added["title"].Str());
        Assert.Equal("Foo Bar", added["name"]!["formatted"].Str());
        Assert.Equal("Foo", added["name"]!["givenName"].Str());
        Assert.True(JsonNode.DeepEquals(added, await scim.GetUserAsync(id)));
    }

    [Fact]
    public async Task ValueFilterPathCreatesAMissingWorkEmail()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var user = await scim.PostUserAsync(EntraPayloads.MinimalUser("no.email@contoso.com"));
        var id = user["id"].Str();

        using var response = await scim.PatchUserAsync(id, EntraPayloads.Patch(
            """{"op":"Add","path":"emails[type eq \"work\"].value","value":"fresh@contoso.com"}"""));
        var patched = await response.ExpectScimAsync(HttpStatusCode.OK);

        Assert.Equal("fresh@contoso.com", WorkEmail(patched));
        Assert.Equal([id], (await scim.FilterAsync("emails[type eq \"work\"].value eq \"fresh@contoso.com\"")).Ids());
    }

    [Fact]
    public async Task ManagerIsAcceptedInEveryShapeAndReturnedAsComplexValue()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var boss = (await scim.CreateUserAsync("boss@contoso.com"))["id"].Str();
        var boss2 = (await scim.CreateUserAsync("boss2@contoso.com"))["id"].Str();
        var employee = (await scim.CreateUserAsync("employee@contoso.com"))["id"].Str();

        // Set as a bare string (real Entra traffic).
        using (var set = await scim.PatchUserAsync(employee, EntraPayloads.AddManagerBareString(boss)))
        {
            AssertManager(await set.ExpectScimAsync(HttpStatusCode.OK), boss);
        }

        AssertManager(await scim.GetUserAsync(employee), boss);
        Assert.Equal([employee], (await scim.FilterAsync("userName eq \"employee@contoso.com\"")).Ids());

        // Replace with {"value": id} (validator).
        using (var replace = await scim.PatchUserAsync(employee, EntraPayloads.ReplaceManagerObject(boss2)))
        {
            AssertManager(await replace.ExpectScimAsync(HttpStatusCode.OK), boss2);
        }

        AssertManager(await scim.GetUserAsync(employee), boss2);

        // Clear with {"value": ""} (validator "Remove Manager").
        using (var clear = await scim.PatchUserAsync(employee, EntraPayloads.ClearManagerWithEmptyValue))
        {
            AssertNoManager(await clear.ExpectScimAsync(HttpStatusCode.OK));
        }

        AssertNoManager(await scim.GetUserAsync(employee));

        // Legacy docs: bare "manager" path with an array value carrying $ref.
        using (var legacy = await scim.PatchUserAsync(employee, EntraPayloads.AddManagerLegacyArray(tenant.ScimUrl, boss)))
        {
            AssertManager(await legacy.ExpectScimAsync(HttpStatusCode.OK), boss);
        }

        AssertManager(await scim.GetUserAsync(employee), boss);

        // Clear with Remove.
        using (var remove = await scim.PatchUserAsync(employee, EntraPayloads.RemoveManager))
        {
            AssertNoManager(await remove.ExpectScimAsync(HttpStatusCode.OK));
        }

        AssertNoManager(await scim.GetUserAsync(employee));
    }

    [Fact]
    public async Task ManagerOnCreateAsBareStringIsReturnedAsComplexValue()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var boss = (await scim.CreateUserAsync("ceo@contoso.com"))["id"].Str();

        var created = await scim.PostUserAsync($$"""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
             "userName":"report@contoso.com","active":true,
             "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D","manager":"{{boss}}"} }
            """);

        AssertManager(created, boss);
        Assert.Equal("R&D", created[EntraPayloads.EnterpriseUserSchema]!["department"].Str());
    }

    private static string WorkEmail(JsonObject user) =>
        user["emails"]!.AsArray().Single(e => e!["type"]?.GetValue<string>() == "work")!["value"].Str();

    private static void AssertManager(JsonObject user, string managerId)
    {
        Assert.Contains(EntraPayloads.EnterpriseUserSchema, user["schemas"]!.AsArray().Select(s => s.Str()));
        var manager = user[EntraPayloads.EnterpriseUserSchema]!["manager"];
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["value"] = managerId }, manager), $"manager: {manager?.ToJsonString()}");
    }

    private static void AssertNoManager(JsonObject user)
    {
        Assert.Null(user[EntraPayloads.EnterpriseUserSchema]?["manager"]);

        // No extension values left, so the extension is gone from schemas too.
        Assert.Null(user[EntraPayloads.EnterpriseUserSchema]);
        Assert.Equal([EntraPayloads.CoreUserSchema], user["schemas"]!.AsArray().Select(s => s.Str()));
    }
}
