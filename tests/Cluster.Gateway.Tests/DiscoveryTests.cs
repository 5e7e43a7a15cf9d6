using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>entra-scim.md §2.2: <c>/ServiceProviderConfig</c>, <c>/ResourceTypes</c>, <c>/Schemas</c> (RFC 7644 §4), with the test extensions (<see cref="TestExtension"/>).</summary>
public sealed class DiscoveryTests : IClassFixture<GatewayFactory>
{
    private readonly GatewayFactory _gateway;

    public DiscoveryTests(GatewayFactory gateway) => _gateway = gateway;

    [Fact]
    public async Task ServiceProviderConfigAdvertisesPatchAndFilter()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);

        using var response = await scim.GetAsync("ServiceProviderConfig");
        var body = await response.ExpectScimAsync(HttpStatusCode.OK);

        Assert.Equal(["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"], body["schemas"]!.AsArray().Select(s => s.Str()));
        Assert.True(body["patch"]!["supported"]!.GetValue<bool>());
        Assert.True(body["filter"]!["supported"]!.GetValue<bool>());
        Assert.True(body["filter"]!["maxResults"]!.GetValue<int>() > 0);
        Assert.True(body["bulk"]!["supported"]!.GetValue<bool>());
        Assert.False(body["changePassword"]!["supported"]!.GetValue<bool>());
        Assert.True(body["sort"]!["supported"]!.GetValue<bool>());
        Assert.Equal(JsonValueKind.True, body["etag"]!["supported"]!.GetValueKind());
        var scheme = Assert.Single(body["authenticationSchemes"]!.AsArray())!;
        Assert.Equal("oauthbearertoken", scheme["type"].Str());
        Assert.Equal($"{tenant.ScimUrl}/ServiceProviderConfig", body["meta"]!["location"].Str());
        AssertNoNulls(body);
    }

    [Theory]
    [InlineData("ServiceProviderConfig?filter=id+eq+%22x%22")]
    [InlineData("ResourceTypes?filter=name+eq+%22User%22")]
    [InlineData("ResourceTypes/User?filter=")]
    [InlineData("Schemas?filter=id+eq+%22urn:ietf:params:scim:schemas:core:2.0:User%22")]
    [InlineData("Schemas/urn:ietf:params:scim:schemas:core:2.0:User?filter=x")]
    public async Task ADiscoveryEndpointAnswersAFilterWith403(string path)
    {
        // RFC 7644 §4: a filter here SHOULD be a 403, so that no client takes what it asked for as applied (it was ignored).
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        using var response = await scim.GetAsync(path);
        await response.ExpectScimErrorAsync(HttpStatusCode.Forbidden, null);
    }

    [Fact]
    public async Task ResourceTypesListUserWithTheEnterpriseExtension()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);

        using var response = await scim.GetAsync("ResourceTypes");
        var body = await response.ExpectScimAsync(HttpStatusCode.OK);

        Assert.Equal([EntraPayloads.ListResponseSchema], body["schemas"]!.AsArray().Select(s => s.Str()));
        Assert.Equal(2, body["totalResults"]!.GetValue<int>());
        var types = body["Resources"]!.AsArray().Select(r => r!.AsObject()).ToDictionary(r => r["id"].Str());
        Assert.Equal(new HashSet<string> { "User", "Group" }, types.Keys.ToHashSet());
        var user = types["User"];
        Assert.Equal("User", user["id"].Str());
        Assert.Equal("User", user["name"].Str());
        Assert.Equal("/Users", user["endpoint"].Str());
        Assert.Equal(EntraPayloads.CoreUserSchema, user["schema"].Str());
        // The enterprise extension, then the operator-defined test extension (ExtensionSchemaTests covers those).
        var extensions = user["schemaExtensions"]!.AsArray();
        Assert.Equal([EntraPayloads.EnterpriseUserSchema, TestExtension.UserUrn], extensions.Select(e => e!["schema"].Str()));
        Assert.All(extensions, e => Assert.False(e!["required"]!.GetValue<bool>()));
        Assert.Equal($"{tenant.ScimUrl}/ResourceTypes/User", user["meta"]!["location"].Str());
        AssertNoNulls(body);

        using var single = await scim.GetAsync("ResourceTypes/User");
        Assert.True(JsonNode.DeepEquals(user, await single.ExpectScimAsync(HttpStatusCode.OK)));
        using var group = await scim.GetAsync("ResourceTypes/Group");
        var groupType = await group.ExpectScimAsync(HttpStatusCode.OK);
        Assert.Equal("/Groups", groupType["endpoint"].Str());
        Assert.Equal("urn:ietf:params:scim:schemas:core:2.0:Group", groupType["schema"].Str());
        Assert.Equal([TestExtension.GroupUrn], groupType["schemaExtensions"]!.AsArray().Select(e => e!["schema"].Str()));
        using var unknown = await scim.GetAsync("ResourceTypes/Nope");
        await unknown.ExpectScimErrorAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task SchemasDescribeUserEnterpriseUserAndGroup()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);

        using var response = await scim.GetAsync("Schemas");
        var body = await response.ExpectScimAsync(HttpStatusCode.OK);

        Assert.Equal([EntraPayloads.ListResponseSchema], body["schemas"]!.AsArray().Select(s => s.Str()));
        var schemas = body["Resources"]!.AsArray().Select(s => s!.AsObject()).ToDictionary(s => s["id"].Str());
        Assert.Equal(
            new HashSet<string> { EntraPayloads.CoreUserSchema, EntraPayloads.EnterpriseUserSchema, "urn:ietf:params:scim:schemas:core:2.0:Group", TestExtension.UserUrn, TestExtension.GroupUrn },
            schemas.Keys.ToHashSet());
        Assert.Equal(5, body["totalResults"]!.GetValue<int>());
        AssertNoNulls(body);

        foreach (var schema in schemas.Values)
        {
            Assert.Equal(["urn:ietf:params:scim:schemas:core:2.0:Schema"], schema["schemas"]!.AsArray().Select(s => s.Str()));
            Assert.Equal($"{tenant.ScimUrl}/Schemas/{schema["id"].Str()}", schema["meta"]!["location"].Str());
            foreach (var attribute in Flatten(schema["attributes"]!.AsArray()))
            {
                Assert.False(string.IsNullOrEmpty(attribute["name"]?.GetValue<string>()), attribute.ToJsonString());
                Assert.Contains(attribute["type"].Str(), new[] { "string", "boolean", "decimal", "integer", "dateTime", "reference", "complex", "binary" });
                Assert.Contains(attribute["mutability"].Str(), new[] { "readOnly", "readWrite", "immutable", "writeOnly" });
                Assert.Contains(attribute["returned"].Str(), new[] { "always", "never", "default", "request" });
                Assert.Contains(attribute["multiValued"]!.GetValueKind(), new[] { JsonValueKind.True, JsonValueKind.False });

                // RFC 7643 §7: a reference says what it refers to (photos.value: external URLs).
                if (attribute["type"].Str() == "reference")
                {
                    Assert.NotEmpty(attribute["referenceTypes"]?.AsArray() ?? []);
                }
            }
        }

        // Every attribute Entra maps by default (entra-scim.md §3.1) is discoverable.
        var user = schemas[EntraPayloads.CoreUserSchema]["attributes"]!.AsArray();
        var names = user.Select(a => a!["name"].Str()).ToHashSet();
        foreach (var name in new[] { "userName", "externalId", "name", "displayName", "nickName", "title", "preferredLanguage", "active", "emails", "phoneNumbers", "addresses", "roles" })
        {
            Assert.Contains(name, names);
        }

        // externalId, common to all resources, is listed in both core schemas (Entra's validator looks for it there), as it
        // behaves: read-write, compared case-insensitively.
        foreach (var core in new[] { EntraPayloads.CoreUserSchema, "urn:ietf:params:scim:schemas:core:2.0:Group" })
        {
            var externalId = schemas[core]["attributes"]!.AsArray().Single(a => a!["name"].Str() == "externalId")!;
            Assert.Equal(("string", "readWrite", false, false), (externalId["type"].Str(), externalId["mutability"].Str(), externalId["caseExact"]!.GetValue<bool>(), externalId["multiValued"]!.GetValue<bool>()));
        }

        Assert.DoesNotContain(schemas[EntraPayloads.EnterpriseUserSchema]["attributes"]!.AsArray(), a => a!["name"].Str() == "externalId");

        var userName = user.Single(a => a!["name"].Str() == "userName")!;
        Assert.True(userName["required"]!.GetValue<bool>());
        Assert.Equal("server", userName["uniqueness"].Str());
        Assert.False(userName["caseExact"]!.GetValue<bool>());

        var enterprise = schemas[EntraPayloads.EnterpriseUserSchema]["attributes"]!.AsArray().Select(a => a!["name"].Str()).ToHashSet();
        foreach (var name in new[] { "employeeNumber", "department", "manager", "costCenter", "organization", "division" })
        {
            Assert.Contains(name, enterprise);
        }
    }

    [Fact]
    public async Task SchemaByUrnIsServedAndUnknownIsNotFound()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var list = await (await scim.GetAsync("Schemas")).ExpectScimAsync(HttpStatusCode.OK);

        foreach (var urn in new[] { EntraPayloads.CoreUserSchema, EntraPayloads.EnterpriseUserSchema, "urn:ietf:params:scim:schemas:core:2.0:Group" })
        {
            using var response = await scim.GetAsync($"Schemas/{urn}");
            var schema = await response.ExpectScimAsync(HttpStatusCode.OK);
            Assert.Equal(urn, schema["id"].Str());
            Assert.True(JsonNode.DeepEquals(list["Resources"]!.AsArray().Single(s => s!["id"].Str() == urn), schema));
        }

        foreach (var unknown in new[] { "urn:ietf:params:scim:schemas:extension:example:2.0:User", "urn:example:nope", "nope" })
        {
            using var response = await scim.GetAsync($"Schemas/{unknown}");
            await response.ExpectScimErrorAsync(HttpStatusCode.NotFound);
        }
    }

    private static IEnumerable<JsonObject> Flatten(JsonArray attributes)
    {
        foreach (var attribute in attributes.Select(a => a!.AsObject()))
        {
            yield return attribute;
            if (attribute["subAttributes"] is JsonArray subs)
            {
                foreach (var sub in Flatten(subs))
                {
                    yield return sub;
                }
            }
        }
    }

    /// <summary>entra-scim.md §2.2: discovery documents omit nulls.</summary>
    private static void AssertNoNulls(JsonNode node, string path = "$")
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    Assert.True(value is not null, $"null at {path}.{key}");
                    AssertNoNulls(value!, $"{path}.{key}");
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    Assert.True(array[i] is not null, $"null at {path}[{i}]");
                    AssertNoNulls(array[i]!, $"{path}[{i}]");
                }

                break;
        }
    }
}
