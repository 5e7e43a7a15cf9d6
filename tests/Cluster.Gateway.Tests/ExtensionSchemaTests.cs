using System.Net;
using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Gateway.Tests;

/// <summary>
/// Operator-defined extension schemas (<c>Scim:Extensions</c>, here <see cref="TestExtension"/>) through the real pipeline:
/// validation, storage, projection, filters, mutability (readOnly, writeOnly, immutable), required, and discovery
/// generated from the same definitions (RFC 7643 §2.2, §7; RFC 7644 §3.3, §3.5.1, §3.5.2, §4).
/// </summary>
public sealed class ExtensionSchemaTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    private const string Acme = TestExtension.UserUrn;
    private const string AcmeGroup = TestExtension.GroupUrn;

    [Fact]
    public async Task ExtensionAttributesAreStoredAndReturned_WriteOnlyNeverReturned_ReadOnlyIgnored()
    {
        var (scim, tenant) = await TenantAsync();
        var created = await scim.PostUserAsync(User(Name(), $$"""
            "{{Acme}}": {"site": "Berlin", "badgeId": "B-1", "pin": "1234", "score": 99,
                         "office": {"building": "North", "floor": 3}, "tags": ["a", "b"]}
            """));
        var id = created["id"].Str();

        foreach (var user in new[] { created, await scim.GetUserAsync(id) })
        {
            Assert.Contains(Acme, user["schemas"]!.AsArray().Select(s => s.Str()));
            var acme = user[Acme]!.AsObject();
            Assert.Equal("Berlin", acme["site"].Str());
            Assert.Equal("B-1", acme["badgeId"].Str());
            Assert.Equal(3, acme["office"]!["floor"]!.GetValue<int>());
            Assert.Equal(["a", "b"], acme["tags"]!.AsArray().Select(t => t.Str()));
            Assert.False(acme.ContainsKey("pin"), "writeOnly is never returned");
            Assert.False(acme.ContainsKey("score"), "readOnly input is ignored");
        }

        // writeOnly is stored (docs/architecture.md; storage is checked in Grains.Tests, WriteOnlyValueIsStoredButNeverLeavesTheGrain)
        // but never leaves the grain: not even the gateway sees it, and no representation shows it, even when asked for.
        var fromGrain = JsonNode.Parse((await Grains().GetGrain<IUserGrain>(GrainKeys.User(tenant.TenantId, id)).GetAsync()).Resource!)!;
        Assert.Null(fromGrain[Acme]!["pin"]);
        Assert.Equal("Berlin", fromGrain[Acme]!["site"].Str());
        Assert.Null(fromGrain[Acme]!["score"]);
        foreach (var query in new[] { $"attributes={Acme}:pin", $"attributes={Acme}", "attributes=pin" })
        {
            var projected = await scim.GetJsonAsync($"Users/{id}?{query}");
            Assert.DoesNotContain("1234", projected.ToJsonString(), StringComparison.Ordinal);
        }

        // Flat URN-prefixed keys and URN-less names (as Entra sends custom extension attributes) are accepted too.
        var flat = await scim.PostUserAsync(User(Name(), $$"""
            "{{Acme}}:site": "Paris", "badgeId": "B-2"
            """));
        Assert.Equal("Paris", flat[Acme]!["site"].Str());
        Assert.Equal("B-2", flat[Acme]!["badgeId"].Str());
    }

    [Theory]
    [InlineData("\"site\": 5", "invalidValue")]
    [InlineData("\"site\": \"x\", \"tags\": [1]", "invalidValue")]
    [InlineData("\"site\": \"x\", \"office\": {\"floor\": \"third\"}", "invalidValue")]
    [InlineData("\"site\": \"x\", \"office\": {\"wing\": \"east\"}", "invalidSyntax")]
    [InlineData("\"site\": \"x\", \"shoeSize\": 42", "invalidSyntax")]
    [InlineData("\"badgeId\": \"B\"", "invalidValue")]
    [InlineData("\"site\": \"\"", "invalidValue")]
    public async Task BadExtensionValuesAre400AndStoreNothing(string acme, string scimType)
    {
        var (scim, _) = await TenantAsync();
        var name = Name();
        using var response = await scim.PostAsync("Users", ScimTestClient.Body(User(name, $"\"{Acme}\": {{{acme}}}")));
        await response.ExpectScimErrorAsync(HttpStatusCode.BadRequest, scimType);
        Assert.Equal(0, (await scim.FilterAsync($"userName eq \"{name}\""))["totalResults"]!.GetValue<int>());
    }

    [Fact]
    public async Task ImmutableIsSetOnceThenEveryChangeIs400MutabilityAndChangesNothing()
    {
        var (scim, _) = await TenantAsync();
        var name = Name();
        var id = (await scim.PostUserAsync(User(name, $$"""
            "{{Acme}}": {"site": "Berlin"}
            """)))["id"].Str();

        // Absent: a PATCH may set it.
        await ExpectOkAsync(await scim.PatchUserAsync(id, Patch($$"""{"op":"add","path":"{{Acme}}:badgeId","value":"B-1"}""")));
        var before = await scim.GetUserAsync(id);
        Assert.Equal("B-1", before[Acme]!["badgeId"].Str());

        // Set: changes by PATCH (path, URN-less path, pathless, remove) and by PUT (other value, omitted) are refused.
        foreach (var patch in new[]
        {
            $$"""{"op":"replace","path":"{{Acme}}:badgeId","value":"B-2"}""",
            """{"op":"Replace","path":"badgeId","value":"B-2"}""",
            $$$"""{"op":"replace","value":{"{{{Acme}}}:badgeId":"B-2"}}""",
            $$$$"""{"op":"replace","value":{"{{{{Acme}}}}":{"badgeId":"B-2","site":"Berlin"}}}""",
            $$"""{"op":"remove","path":"{{Acme}}:badgeId"}""",
            $$"""{"op":"remove","path":"{{Acme}}"}""",
        })
        {
            using var response = await scim.PatchUserAsync(id, Patch(patch));
            await response.ExpectScimErrorAsync(HttpStatusCode.BadRequest, "mutability");
        }

        foreach (var acme in new[] { """{"site": "Berlin", "badgeId": "B-2"}""", """{"site": "Berlin"}""" })
        {
            using var put = await scim.PutAsync($"Users/{id}", ScimTestClient.Body(User(name, $"\"{Acme}\": {acme}")));
            await put.ExpectScimErrorAsync(HttpStatusCode.BadRequest, "mutability");
        }

        using (var put = await scim.PutAsync($"Users/{id}", ScimTestClient.Body(User(name, ""))))
        {
            await put.ExpectScimErrorAsync(HttpStatusCode.BadRequest, "mutability");
        }

        var after = await scim.GetUserAsync(id);
        Assert.True(JsonNode.DeepEquals(before, after), "a refused change writes nothing");

        // Repeating the value is fine (PUT and PATCH); a value differing only in case (caseExact false) keeps the stored one.
        using (var put = await scim.PutAsync($"Users/{id}", ScimTestClient.Body(User(name, $$"""
            "{{Acme}}": {"site": "Munich", "badgeId": "b-1"}
            """))))
        {
            var replaced = await put.ExpectScimAsync(HttpStatusCode.OK);
            Assert.Equal("Munich", replaced[Acme]!["site"].Str());
            Assert.Equal("B-1", replaced[Acme]!["badgeId"].Str());
        }

        await ExpectOkAsync(await scim.PatchUserAsync(id, Patch($$"""{"op":"replace","path":"{{Acme}}:badgeId","value":"B-1"}""")));
        Assert.Equal("B-1", (await scim.GetUserAsync(id))[Acme]!["badgeId"].Str());
    }

    [Fact]
    public async Task ImmutableGroupExtensionAttribute()
    {
        var (scim, _) = await TenantAsync();
        var name = Name();
        using var created = await scim.PostAsync("Groups", ScimTestClient.Body($$$"""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"{{{name}}}","{{{AcmeGroup}}}":{"code":"C-1","costCode":"X"}}
            """));
        var id = (await created.ExpectScimAsync(HttpStatusCode.Created))["id"].Str();

        using var patch = await scim.PatchAsync($"Groups/{id}", ScimTestClient.Body(Patch($$"""{"op":"replace","path":"{{AcmeGroup}}:code","value":"C-2"}""")));
        await patch.ExpectScimErrorAsync(HttpStatusCode.BadRequest, "mutability");
        using var put = await scim.PutAsync($"Groups/{id}", ScimTestClient.Body($$$"""
            {"displayName":"{{{name}}}","{{{AcmeGroup}}}":{"costCode":"Y"}}
            """));
        await put.ExpectScimErrorAsync(HttpStatusCode.BadRequest, "mutability");

        using var same = await scim.PutAsync($"Groups/{id}", ScimTestClient.Body($$$"""
            {"displayName":"{{{name}}}","{{{AcmeGroup}}}":{"code":"C-1","costCode":"Y"}}
            """));
        var group = await same.ExpectScimAsync(HttpStatusCode.OK);
        Assert.Equal("C-1", group[AcmeGroup]!["code"].Str());
        Assert.Equal("Y", group[AcmeGroup]!["costCode"].Str());
    }

    [Fact]
    public async Task RequiredAttributesOnPostPutAndPatch()
    {
        var (scim, _) = await TenantAsync();

        // POST/PUT without a required attribute: 400 invalidValue (core userName / displayName; site when acme is present).
        using (var response = await scim.PostAsync("Users", ScimTestClient.Body("""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"active":true}""")))
        {
            await response.ExpectScimErrorAsync(HttpStatusCode.BadRequest, "invalidValue");
        }

        using (var response = await scim.PostAsync("Groups", ScimTestClient.Body("""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"]}""")))
        {
            await response.ExpectScimErrorAsync(HttpStatusCode.BadRequest, "invalidValue");
        }

        var name = Name();
        var id = (await scim.PostUserAsync(User(name, $$"""
            "{{Acme}}": {"site": "Berlin", "tags": ["x"]}
            """)))["id"].Str();
        var before = await scim.GetUserAsync(id);
        foreach (var body in new[] { """{"active":true}""", $$$"""{"userName":"{{{name}}}","{{{Acme}}}":{"tags":["y"]}}""" })
        {
            using var put = await scim.PutAsync($"Users/{id}", ScimTestClient.Body(body));
            await put.ExpectScimErrorAsync(HttpStatusCode.BadRequest, "invalidValue");
        }

        // PATCH that would leave a required attribute unassigned: 400 mutability (RFC 7644 §3.5.2 says so for PATCH).
        foreach (var patch in new[] { """{"op":"remove","path":"userName"}""", $$"""{"op":"remove","path":"{{Acme}}:site"}""", """{"op":"replace","path":"site","value":null}""" })
        {
            using var response = await scim.PatchUserAsync(id, Patch(patch));
            await response.ExpectScimErrorAsync(HttpStatusCode.BadRequest, "mutability");
        }

        // A PATCH that makes the extension present without its required attribute: invalidValue.
        var other = (await scim.CreateUserAsync(Name()))["id"].Str();
        using (var response = await scim.PatchUserAsync(other, Patch($$"""{"op":"add","path":"{{Acme}}:tags","value":["z"]}""")))
        {
            await response.ExpectScimErrorAsync(HttpStatusCode.BadRequest, "invalidValue");
        }

        Assert.True(JsonNode.DeepEquals(before, await scim.GetUserAsync(id)));

        // Removing the whole (optional) extension is allowed.
        await ExpectOkAsync(await scim.PatchUserAsync(id, Patch($$"""{"op":"remove","path":"{{Acme}}"}""")));
        Assert.Null((await scim.GetUserAsync(id))[Acme]);
    }

    [Fact]
    public async Task ReadOnlyExtensionAttributeCannotBePatched()
    {
        var (scim, _) = await TenantAsync();
        var id = (await scim.CreateUserAsync(Name()))["id"].Str();
        using var response = await scim.PatchUserAsync(id, Patch($$"""{"op":"replace","path":"{{Acme}}:score","value":5}"""));
        await response.ExpectScimErrorAsync(HttpStatusCode.BadRequest, "mutability");
    }

    [Fact]
    public async Task FiltersAndProjectionUseExtensionAttributes()
    {
        var (scim, _) = await TenantAsync();
        var berlin = (await scim.PostUserAsync(User(Name(), $$$""" "{{{Acme}}}": {"site": "Berlin", "pin": "1", "office": {"floor": 2}} """)))["id"].Str();
        var paris = (await scim.PostUserAsync(User(Name(), $$$""" "{{{Acme}}}": {"site": "Paris", "pin": "2", "office": {"floor": 5}} """)))["id"].Str();
        _ = await scim.CreateUserAsync(Name());

        Assert.Equal([berlin], (await scim.FilterAsync($"{Acme}:site eq \"berlin\"")).Ids());
        Assert.Equal([paris], (await scim.FilterAsync("site eq \"Paris\"")).Ids());
        Assert.Equal([paris], (await scim.FilterAsync($"{Acme}:office.floor gt 3")).Ids());
        Assert.Equal(new[] { berlin, paris }.Order(StringComparer.Ordinal), (await scim.FilterAsync($"{Acme}:site pr")).Ids().Order(StringComparer.Ordinal));

        // A write-only value cannot be probed by a filter.
        using (var response = await scim.GetAsync(ScimTestClient.UsersFilter($"{Acme}:pin eq \"1\"")))
        {
            await response.ExpectScimErrorAsync(HttpStatusCode.BadRequest, "invalidFilter");
        }

        // Nor by the order of a sorted list (nor the core password).
        foreach (var sortBy in new[] { $"{Acme}:pin", "pin", "password" })
        {
            using var response = await scim.GetAsync($"Users?sortBy={Uri.EscapeDataString(sortBy)}");
            await response.ExpectScimErrorAsync(HttpStatusCode.BadRequest, "invalidValue");
        }

        var projected = await scim.GetJsonAsync($"Users/{berlin}?attributes={Acme}:site");
        Assert.Equal(new HashSet<string> { "schemas", "id", Acme }, projected.Select(p => p.Key).ToHashSet());
        Assert.Equal("""{"site":"Berlin"}""", projected[Acme]!.ToJsonString());

        var excluded = await scim.GetJsonAsync($"Users/{berlin}?excludedAttributes={Acme}:office");
        Assert.Equal("""{"site":"Berlin"}""", excluded[Acme]!.ToJsonString());
        Assert.NotNull(excluded["userName"]);

        var list = await scim.GetJsonAsync(ScimTestClient.UsersFilter($"{Acme}:site eq \"Paris\"") + $"&attributes={Acme}:office.floor");
        Assert.Equal("""{"office":{"floor":5}}""", Assert.Single(list["Resources"]!.AsArray())![Acme]!.ToJsonString());
    }

    [Fact]
    public async Task DiscoveryListsTheTestExtensionWithItsAttributesAndMutability()
    {
        var (scim, tenant) = await TenantAsync();
        var types = (await scim.GetJsonAsync("ResourceTypes"))["Resources"]!.AsArray().ToDictionary(t => t!["id"].Str());
        var userExtension = types["User"]!["schemaExtensions"]!.AsArray().Single(e => e!["schema"].Str() == Acme)!;
        Assert.False(userExtension["required"]!.GetValue<bool>());
        Assert.Contains(AcmeGroup, types["Group"]!["schemaExtensions"]!.AsArray().Select(e => e!["schema"].Str()));

        var schema = await scim.GetJsonAsync($"Schemas/{Acme}");
        Assert.Equal(Acme, schema["id"].Str());
        Assert.Equal("AcmeUser", schema["name"].Str());
        Assert.Equal($"{tenant.ScimUrl}/Schemas/{Acme}", schema["meta"]!["location"].Str());
        var attributes = schema["attributes"]!.AsArray().ToDictionary(a => a!["name"].Str());
        Assert.Equal(["site", "badgeId", "pin", "score", "office", "tags"], attributes.Keys);
        Assert.Equal(("readWrite", "default", true), Describe(attributes["site"]!));
        Assert.Equal(("immutable", "default", false), Describe(attributes["badgeId"]!));
        Assert.Equal(("writeOnly", "never", false), Describe(attributes["pin"]!));
        Assert.Equal(("readOnly", "default", false), Describe(attributes["score"]!));
        Assert.Equal("integer", attributes["score"]!["type"].Str());
        Assert.Equal("complex", attributes["office"]!["type"].Str());
        Assert.Equal(["building", "floor"], attributes["office"]!["subAttributes"]!.AsArray().Select(s => s!["name"].Str()));
        Assert.True(attributes["tags"]!["multiValued"]!.GetValue<bool>());
        Assert.Equal("none", attributes["site"]!["uniqueness"].Str());

        var listed = (await scim.GetJsonAsync("Schemas"))["Resources"]!.AsArray().Single(s => s!["id"].Str() == Acme)!;
        Assert.True(JsonNode.DeepEquals(listed, schema));
    }

    /// <summary>
    /// Discovery is the truth about input: a resource built from nothing but <c>/ResourceTypes</c> and <c>/Schemas</c> — a
    /// value for every attribute a client may write, core and extensions — is accepted, every such attribute (unless
    /// returned never) comes back, and a name the schemas do not list is rejected.
    /// </summary>
    [Fact]
    public async Task EveryDiscoveredAttributeIsAcceptedAndNothingElse()
    {
        var (scim, _) = await TenantAsync();
        var schemas = (await scim.GetJsonAsync("Schemas"))["Resources"]!.AsArray().ToDictionary(s => s!["id"].Str(), s => s!.AsObject());
        var types = (await scim.GetJsonAsync("ResourceTypes"))["Resources"]!.AsArray().Select(t => t!.AsObject()).ToList();
        Assert.Equal(["Group", "User"], types.Select(t => t["name"].Str()).Order(StringComparer.Ordinal));
        var member = (await scim.CreateUserAsync(Name()))["id"].Str();

        foreach (var type in types)
        {
            var extensionUrns = type["schemaExtensions"]!.AsArray().Select(e => e!["schema"].Str()).ToList();
            var body = new JsonObject { ["schemas"] = new JsonArray([.. extensionUrns.Prepend(type["schema"].Str()).Select(u => (JsonNode)u)]) };
            var expected = new List<(string? Urn, string Name)>();
            foreach (var urn in extensionUrns.Prepend(type["schema"].Str()))
            {
                var isCore = urn == type["schema"].Str();
                var container = isCore ? body : new JsonObject();
                foreach (var attribute in schemas[urn]["attributes"]!.AsArray().Select(a => a!.AsObject()))
                {
                    if (attribute["mutability"].Str() == "readOnly")
                    {
                        continue;
                    }

                    var name = attribute["name"].Str();
                    container[name] = name switch
                    {
                        "members" => new JsonArray(new JsonObject { ["value"] = member }),
                        "userName" or "displayName" => Name(),
                        _ => SampleValue(attribute),
                    };
                    if (attribute["returned"].Str() != "never")
                    {
                        expected.Add((isCore ? null : urn, name));
                    }
                }

                if (!isCore)
                {
                    body[urn] = container;
                }
            }

            using var response = await scim.PostAsync(type["endpoint"].Str().TrimStart('/'), ScimTestClient.Body(body.ToJsonString()));
            var created = await response.ExpectScimAsync(HttpStatusCode.Created);
            var read = await scim.GetJsonAsync($"{type["endpoint"].Str().TrimStart('/')}/{created["id"].Str()}");
            foreach (var (urn, name) in expected)
            {
                Assert.True((urn is null ? read[name] : read[urn]?[name]) is not null, $"{type["name"].Str()}: '{urn}:{name}' was accepted but not returned: {read.ToJsonString()}");
            }

            // Not in the schemas: rejected, in the core and in every extension.
            foreach (var urn in extensionUrns.Prepend(null))
            {
                var unknown = (JsonObject)body.DeepClone();
                unknown[type["name"].Str() == "Group" ? "displayName" : "userName"] = Name();
                (urn is null ? unknown : unknown[urn]!.AsObject())["notInAnySchema"] = "x";

                using var rejected = await scim.PostAsync(type["endpoint"].Str().TrimStart('/'), ScimTestClient.Body(unknown.ToJsonString()));
                await rejected.ExpectScimErrorAsync(HttpStatusCode.BadRequest, "invalidSyntax");
            }
        }
    }

    /// <summary>
    /// A bad <c>Scim:Extensions</c> fails start-up, naming the entry and the rule (validation happens before anything is
    /// installed, so this gateway's failure leaves the process's schema set untouched).
    /// </summary>
    [Theory]
    [InlineData("Scim:Extensions:0:Attributes:1:Mutability", "sometimes", "unknown 'Mutability' 'sometimes'")]
    [InlineData("Scim:Extensions:0:Schema", "acme-user", "'Schema' must be a URN")]
    [InlineData("Scim:Extensions:1:Schema", TestExtension.UserUrn, "the schema URN is already defined")]
    [InlineData("Scim:Extensions:0:Attributes:0:Name", "userName", "clashes with the core User attribute")]
    public void InvalidExtensionConfigurationFailsStartUp(string key, string value, string message)
    {
        using var bad = GatewayFactory.With(new Dictionary<string, string?> { [key] = value });
        var error = Assert.Throws<InvalidOperationException>(() => bad.CreateClient());
        Assert.Contains("Invalid Scim:Extensions[", error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    private async Task<(HttpClient Scim, TestTenant Tenant)> TenantAsync()
    {
        var tenant = await gateway.CreateTenantAsync();
        return (gateway.ScimClient(tenant), tenant);
    }

    private IGrainFactory Grains() => gateway.Services.GetRequiredService<IGrainFactory>();

    private static string Name() => $"ext-{Guid.NewGuid():N}";

    private static string User(string userName, string extra) => $$"""
        {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{{userName}}","active":true{{(extra.Trim().Length > 0 ? "," + extra : "")}}}
        """;

    private static string Patch(string operation) =>
        $$"""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{{operation}}]}""";

    private static async Task ExpectOkAsync(HttpResponseMessage response)
    {
        using (response)
        {
            await response.ExpectScimAsync(HttpStatusCode.OK);
        }
    }

    private static (string Mutability, string Returned, bool Required) Describe(JsonNode attribute) =>
        (attribute["mutability"].Str(), attribute["returned"].Str(), attribute["required"]!.GetValue<bool>());

    /// <summary>A valid value for a discovered attribute, from its <c>type</c>, <c>multiValued</c>, <c>canonicalValues</c> and sub-attributes.</summary>
    private static JsonNode SampleValue(JsonObject attribute)
    {
        JsonNode Single()
        {
            if (attribute["canonicalValues"] is JsonArray { Count: > 0 } canonical)
            {
                return canonical[0]!.DeepClone();
            }

            return attribute["type"].Str() switch
            {
                "boolean" => JsonValue.Create(true),
                "integer" => JsonValue.Create(7),
                "decimal" => JsonValue.Create(1.5m),
                "dateTime" => JsonValue.Create("2024-01-02T03:04:05Z"),
                "reference" => JsonValue.Create("https://example.com/ref"),
                "binary" => JsonValue.Create("AAEC"),
                "complex" => new JsonObject([.. attribute["subAttributes"]!.AsArray()
                    .Select(s => s!.AsObject())
                    .Where(s => s["mutability"].Str() != "readOnly")
                    .Select(s => KeyValuePair.Create(s["name"].Str(), (JsonNode?)SampleValue(s)))]),
                _ => JsonValue.Create("sample"),
            };
        }

        return attribute["multiValued"]!.GetValue<bool>() ? new JsonArray(Single()) : Single();
    }
}

/// <summary>Small helpers for the extension tests.</summary>
internal static class ExtensionTestClient
{
    public static async Task<JsonObject> GetJsonAsync(this HttpClient scim, string path)
    {
        using var response = await scim.GetAsync(path);
        return await response.ExpectScimAsync(HttpStatusCode.OK);
    }
}
