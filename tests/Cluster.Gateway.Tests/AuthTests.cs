using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>Invariants 1 and 2 (design.md): tokens bind to one tenant; every refusal is the same 401; revocation takes effect within seconds everywhere.</summary>
public sealed class AuthTests : IClassFixture<GatewayFactory>
{
    // entra-scim.md / design.md: "revocation takes effect within seconds on every gateway" — the brief's functional deadline.
    private static readonly TimeSpan RevocationDeadline = TimeSpan.FromSeconds(5);

    private readonly GatewayFactory _gateway;

    public AuthTests(GatewayFactory gateway) => _gateway = gateway;

    public static TheoryData<string, string> Requests => new()
    {
        { "GET", "Users?filter=userName+eq+%22x%22" },
        { "GET", "Users" },
        { "POST", "Users" },
        { "GET", "Users/0123456789abcdef0123456789abcdef" },
        { "PATCH", "Users/0123456789abcdef0123456789abcdef" },
        { "DELETE", "Users/0123456789abcdef0123456789abcdef" },
        { "GET", "ServiceProviderConfig" },
        { "GET", "Schemas" },
        { "GET", "ResourceTypes" },
        { "GET", "NoSuchEndpoint" },
        { "PUT", "Users" },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task MissingWrongOrForeignTokenIsTheSame401(string method, string path)
    {
        var tenantA = await _gateway.CreateTenantAsync("A");
        var tenantB = await _gateway.CreateTenantAsync("B");
        using var ownerA = _gateway.ScimClient(tenantA);
        await ownerA.CreateUserAsync("secret.user@a.example");

        var noHeader = _gateway.ScimClient(tenantA);
        noHeader.DefaultRequestHeaders.Authorization = null;
        var basic = _gateway.ScimClient(tenantA);
        basic.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("user:pass"u8.ToArray()));
        var emptyBearer = _gateway.ScimClient(tenantA);
        emptyBearer.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer ");
        var clients = new[]
        {
            noHeader,
            basic,
            emptyBearer,
            _gateway.ScimClient(tenantA, "scim_" + new string('A', 43)),
            _gateway.ScimClient(tenantA, tenantA.Token + "x"),
            _gateway.ScimClient(tenantA, tenantA.Token[..^1]),
            _gateway.ScimClient(tenantA, tenantB.Token),
            _gateway.ScimClient(tenantA with { ScimUrl = tenantA.ScimUrl.Replace(tenantA.TenantId, Guid.NewGuid().ToString("N"), StringComparison.Ordinal) }),
            _gateway.ScimClient(tenantA with { ScimUrl = tenantA.ScimUrl.Replace(tenantA.TenantId, "bad!tenant", StringComparison.Ordinal) }),
            _gateway.ScimClient(tenantA with { ScimUrl = tenantA.ScimUrl.Replace(tenantA.TenantId, new string('a', 65), StringComparison.Ordinal) }),
            _gateway.ScimClient(tenantA with { ScimUrl = tenantA.ScimUrl.Replace(tenantA.TenantId, tenantA.TenantId.ToUpperInvariant(), StringComparison.Ordinal) }),
        };

        string? firstBody = null;
        foreach (var client in clients)
        {
            using (client)
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (method is "POST" or "PATCH")
                {
                    request.Content = ScimTestClient.Body(method == "POST"
                        ? EntraPayloads.MinimalUser("intruder@evil.example")
                        : EntraPayloads.SetActive("Replace", "\"False\""));
                }

                using var response = await client.SendAsync(request);
                var body = await response.ExpectScimErrorAsync(HttpStatusCode.Unauthorized);
                Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
                Assert.Null(response.Headers.ETag);
                Assert.Null(response.Headers.Location);

                // Revealing nothing: every refusal is byte-for-byte the same, and names no tenant, user or token.
                var text = body.ToJsonString();
                firstBody ??= text;
                Assert.Equal(firstBody, text);
                Assert.DoesNotContain(tenantA.TenantId, text, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain(tenantB.TenantId, text, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain("secret.user", text, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain("scim_", text, StringComparison.Ordinal);
            }
        }

        // Nothing was created or changed in A.
        var list = await (await ownerA.GetAsync("Users")).ExpectScimAsync(HttpStatusCode.OK);
        Assert.Equal(1, list["totalResults"]!.GetValue<int>());
        Assert.Equal("secret.user@a.example", list["Resources"]![0]!["userName"].Str());
        Assert.True(list["Resources"]![0]!["active"]!.GetValue<bool>());
    }

    [Fact]
    public async Task AnotherTenantsUserIdIsNeverReadableOrWritable()
    {
        var tenantA = await _gateway.CreateTenantAsync("A");
        var tenantB = await _gateway.CreateTenantAsync("B");
        using var scimA = _gateway.ScimClient(tenantA);
        using var scimB = _gateway.ScimClient(tenantB);
        var userA = await scimA.PostUserAsync(EntraPayloads.CreateUser("shared.name@example.com", "ext-a", "shared.name@example.com"));
        var idA = userA["id"].Str();

        // Through B's URL with B's token: A's id does not exist.
        using (var get = await scimB.GetAsync($"Users/{idA}"))
        {
            var error = await get.ExpectScimErrorAsync(HttpStatusCode.NotFound);
            Assert.DoesNotContain("shared.name", error.ToJsonString(), StringComparison.OrdinalIgnoreCase);
        }

        using (var patch = await scimB.PatchUserAsync(idA, EntraPayloads.RenameUserName("hijacked@example.com")))
        {
            await patch.ExpectScimErrorAsync(HttpStatusCode.NotFound);
        }

        using (var delete = await scimB.DeleteAsync($"Users/{idA}"))
        {
            await delete.ExpectScimErrorAsync(HttpStatusCode.NotFound);
        }

        // Filters are tenant-scoped: B sees nothing of A, even by id.
        ScimTestClient.AssertEmptyList(await scimB.FilterAsync("userName eq \"shared.name@example.com\""));
        ScimTestClient.AssertEmptyList(await scimB.FilterAsync("externalId eq \"ext-a\""));
        ScimTestClient.AssertEmptyList(await scimB.FilterAsync($"id eq \"{idA}\""));
        var listB = await (await scimB.GetAsync("Users")).ExpectScimAsync(HttpStatusCode.OK);
        Assert.Equal(0, listB["totalResults"]!.GetValue<int>());

        // Uniqueness is per tenant: B may use the same userName.
        var userB = await scimB.PostUserAsync(EntraPayloads.CreateUser("shared.name@example.com", "ext-a", "shared.name@example.com"));
        Assert.NotEqual(idA, userB["id"].Str());

        // A's user is untouched.
        Assert.True(JsonNode.DeepEquals(userA, await scimA.GetUserAsync(idA)));
        Assert.Equal([idA], (await scimA.FilterAsync("userName eq \"shared.name@example.com\"")).Ids());
    }

    [Fact]
    public async Task RevokedTokenIsRefusedWithinSecondsOnEveryGatewayWhileTheNewOneWorks()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var second = GatewayFactory.ConnectTo(_gateway);
        using var admin = _gateway.AdminClient();

        // Rotation: issue a new token, both valid.
        using var issued = await admin.PostAsync($"/admin/tenants/{tenant.TenantId}/tokens", null);
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        var newToken = (await issued.ReadJsonAsync())["secret"].Str();

        using var oldOnFirst = _gateway.ScimClient(tenant);
        using var newOnFirst = _gateway.ScimClient(tenant, newToken);
        using var oldOnSecond = second.ScimClient(tenant);
        using var newOnSecond = second.ScimClient(tenant, newToken);
        foreach (var client in new[] { oldOnFirst, newOnFirst, oldOnSecond, newOnSecond })
        {
            using var probe = await client.GetAsync(ScimTestClient.UsersFilter($"userName eq \"{Guid.NewGuid()}\""));
            ScimTestClient.AssertEmptyList(await probe.ExpectScimAsync(HttpStatusCode.OK));
        }

        // Revoke the old one (through the first gateway; the second has it cached as valid).
        using (var revoked = await admin.DeleteAsync($"/admin/tenants/{tenant.TenantId}/tokens/{tenant.TokenId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }

        var clock = Stopwatch.StartNew();
        await Task.WhenAll(
            ExpectRefusedWithinDeadlineAsync(oldOnFirst, clock),
            ExpectRefusedWithinDeadlineAsync(oldOnSecond, clock));

        foreach (var client in new[] { newOnFirst, newOnSecond })
        {
            var created = await client.CreateUserAsync($"after.rotation.{Guid.NewGuid():N}@contoso.com");
            Assert.Equal(created["id"].Str(), (await client.GetUserAsync(created["id"].Str()))["id"].Str());
        }

        // And it stays refused.
        using var later = await oldOnSecond.GetAsync("Users");
        await later.ExpectScimErrorAsync(HttpStatusCode.Unauthorized);
    }

    private static async Task ExpectRefusedWithinDeadlineAsync(HttpClient client, Stopwatch clock)
    {
        while (true)
        {
            // The deadline bounds when a request is sent, not when its answer (slow on a loaded machine) comes back.
            var sentAt = clock.Elapsed;
            using var response = await client.GetAsync("Users");
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                await response.ExpectScimErrorAsync(HttpStatusCode.Unauthorized);
                return;
            }

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(sentAt < RevocationDeadline, $"A revoked token still worked in a request sent after {sentAt}.");
            await Task.Delay(50);
        }
    }
}
