using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>The operator's admin API: tenants, the one-time secret, rotation and revocation (design.md invariant 2).</summary>
public sealed partial class AdminApiTests : IClassFixture<GatewayFactory>
{
    private readonly GatewayFactory _gateway;

    public AdminApiTests(GatewayFactory gateway) => _gateway = gateway;

    [Fact]
    public async Task CreateTenantReturnsTenantUrlAndOneTimeSecret()
    {
        using var admin = _gateway.AdminClient();

        using var response = await admin.PostAsJsonAsync("/admin/tenants", new { name = "Contoso Ltd" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.ReadJsonAsync();
        var tenantId = body["tenantId"].Str();
        Assert.Matches(TenantIdPattern(), tenantId);
        Assert.Equal("Contoso Ltd", body["name"].Str());
        Assert.Equal($"/admin/tenants/{tenantId}", response.Headers.Location?.ToString());

        var scimUrl = body["scimUrl"].Str();
        Assert.Equal($"http://localhost/scim/v2/tenants/{tenantId}", scimUrl);

        var secret = body["token"]!["secret"].Str();
        Assert.StartsWith("scim_", secret, StringComparison.Ordinal);
        Assert.True(secret.Length - "scim_".Length >= 43, $"Secret too short: {secret.Length} characters.");
        Assert.Matches(Base64UrlPattern(), secret["scim_".Length..]);
        Assert.False(string.IsNullOrWhiteSpace(body["token"]!["id"].Str()));
        Assert.DoesNotContain(body["token"]!["id"].Str(), secret, StringComparison.Ordinal);
        Assert.True(DateTimeOffset.TryParse(body["token"]!["createdAt"].Str(), CultureInfo.InvariantCulture, DateTimeStyles.None, out _));

        // An answer holding a secret is kept by no cache (RFC 6749 §5.1); neither is any other answer of an admin endpoint.
        Assert.True(response.Headers.CacheControl?.NoStore, $"Cache-Control: {response.Headers.CacheControl}");
        Assert.Contains("no-cache", response.Headers.Pragma.Select(p => p.Name));
        using (var issued = await admin.PostAsync($"/admin/tenants/{tenantId}/tokens", null))
        {
            Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
            Assert.True(issued.Headers.CacheControl?.NoStore);
        }

        using (var read = await admin.GetAsync($"/admin/tenants/{tenantId}"))
        {
            Assert.True(read.Headers.CacheControl?.NoStore);
        }

        // The Tenant URL and secret work as Entra uses them.
        using var scim = _gateway.ScimClient(new TestTenant(tenantId, scimUrl, body["token"]!["id"].Str(), secret));
        using var probe = await scim.GetAsync(ScimTestClient.UsersFilter($"userName eq \"{Guid.NewGuid()}\""));
        ScimTestClient.AssertEmptyList(await probe.ExpectScimAsync(HttpStatusCode.OK));

        // Two tenants never share ids or secrets.
        using var other = await admin.PostAsJsonAsync("/admin/tenants", new { name = "Contoso Ltd" });
        var otherBody = await other.ReadJsonAsync();
        Assert.NotEqual(tenantId, otherBody["tenantId"].Str());
        Assert.NotEqual(secret, otherBody["token"]!["secret"].Str());
    }

    [Fact]
    public async Task GetTenantShowsTokensAndUserCountButNoSecret()
    {
        var tenant = await _gateway.CreateTenantAsync("Fabrikam");
        using var admin = _gateway.AdminClient();
        using var scim = _gateway.ScimClient(tenant);
        await scim.CreateUserAsync("one@fabrikam.com");
        await scim.CreateUserAsync("two@fabrikam.com");
        var third = await scim.CreateUserAsync("three@fabrikam.com");
        using (var deleted = await scim.DeleteAsync($"Users/{third["id"].Str()}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using var response = await admin.GetAsync($"/admin/tenants/{tenant.TenantId}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(tenant.Token, text, StringComparison.Ordinal);
        Assert.DoesNotContain(tenant.Token["scim_".Length..], text, StringComparison.Ordinal);
        Assert.DoesNotContain("scim_", text, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("hash", text, StringComparison.OrdinalIgnoreCase);

        var body = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(tenant.TenantId, body["tenantId"].Str());
        Assert.Equal("Fabrikam", body["name"].Str());
        Assert.Equal(tenant.ScimUrl, body["scimUrl"].Str());
        Assert.True(DateTimeOffset.TryParse(body["createdAt"].Str(), CultureInfo.InvariantCulture, DateTimeStyles.None, out _));
        var token = Assert.Single(body["tokens"]!.AsArray())!.AsObject();
        Assert.Equal(tenant.TokenId, token["id"].Str());
        Assert.True(DateTimeOffset.TryParse(token["createdAt"].Str(), CultureInfo.InvariantCulture, DateTimeStyles.None, out _));
        Assert.Equal(new HashSet<string> { "id", "createdAt" }, token.Select(kv => kv.Key).ToHashSet());
        Assert.Equal(2, body["userCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task RotationKeepsBothTokensValidUntilTheOldOneIsRevoked()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var admin = _gateway.AdminClient();

        using var issued = await admin.PostAsync($"/admin/tenants/{tenant.TenantId}/tokens", null);
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        var second = await issued.ReadJsonAsync();
        var secondId = second["id"].Str();
        var secondSecret = second["secret"].Str();
        Assert.StartsWith("scim_", secondSecret, StringComparison.Ordinal);
        Assert.NotEqual(tenant.Token, secondSecret);
        Assert.NotEqual(tenant.TokenId, secondId);
        Assert.Equal($"/admin/tenants/{tenant.TenantId}/tokens/{secondId}", issued.Headers.Location?.ToString());

        using var oldClient = _gateway.ScimClient(tenant);
        using var newClient = _gateway.ScimClient(tenant, secondSecret);
        Assert.Equal(HttpStatusCode.OK, (await oldClient.GetAsync("Users")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await newClient.GetAsync("Users")).StatusCode);

        var view = await (await admin.GetAsync($"/admin/tenants/{tenant.TenantId}")).ReadJsonAsync();
        Assert.Equal(new HashSet<string> { tenant.TokenId, secondId }, view["tokens"]!.AsArray().Select(t => t!["id"].Str()).ToHashSet());

        using (var revoked = await admin.DeleteAsync($"/admin/tenants/{tenant.TenantId}/tokens/{tenant.TokenId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }

        // Revoked through this gateway: refused at once here.
        using (var refused = await oldClient.GetAsync("Users"))
        {
            await refused.ExpectScimErrorAsync(HttpStatusCode.Unauthorized);
        }

        using (var ok = await newClient.GetAsync("Users"))
        {
            await ok.ExpectScimAsync(HttpStatusCode.OK);
        }

        view = await (await admin.GetAsync($"/admin/tenants/{tenant.TenantId}")).ReadJsonAsync();
        Assert.Equal([secondId], view["tokens"]!.AsArray().Select(t => t!["id"].Str()));

        // Revoking it again, an unknown token, or a token of an unknown tenant: 404.
        foreach (var path in new[]
        {
            $"/admin/tenants/{tenant.TenantId}/tokens/{tenant.TokenId}",
            $"/admin/tenants/{tenant.TenantId}/tokens/000000000000",
            $"/admin/tenants/{Guid.NewGuid():N}/tokens/{secondId}",
            $"/admin/tenants/bad!id/tokens/{secondId}",
        })
        {
            using var notFound = await admin.DeleteAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        }

        using (var stillOk = await newClient.GetAsync("Users"))
        {
            await stillOk.ExpectScimAsync(HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task UnknownTenantIsNotFound()
    {
        using var admin = _gateway.AdminClient();

        // Every 404 is problem+json (found by the fuzzing harness: they were application/json).
        using var get = await admin.GetAsync($"/admin/tenants/{Guid.NewGuid():N}");
        using var malformed = await admin.GetAsync("/admin/tenants/bad!id");
        using var issue = await admin.PostAsync($"/admin/tenants/{Guid.NewGuid():N}/tokens", null);
        using var revoke = await admin.DeleteAsync($"/admin/tenants/{Guid.NewGuid():N}/tokens/F17FA42615E7");
        foreach (var response in new[] { get, malformed, issue, revoke })
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    public static TheoryData<string?> BadOperatorKeys => new()
    {
        { null },
        { "" },
        { "Bearer" },
        { "Bearer wrong-key-0123456789" },
        { "Bearer " + GatewayFactory.AdminKey + "x" },
        { "Bearer " + GatewayFactory.AdminKey[..^1] },
        { "Basic " + GatewayFactory.AdminKey },
    };

    [Theory]
    [MemberData(nameof(BadOperatorKeys))]
    public async Task MissingOrWrongOperatorKeyIs401(string? authorization)
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var client = _gateway.CreateClient();
        if (authorization is not null)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        }

        var requests = new Func<Task<HttpResponseMessage>>[]
        {
            () => client.PostAsJsonAsync("/admin/tenants", new { name = "Intruder" }),
            () => client.GetAsync($"/admin/tenants/{tenant.TenantId}"),
            () => client.PostAsync($"/admin/tenants/{tenant.TenantId}/tokens", null),
            () => client.DeleteAsync($"/admin/tenants/{tenant.TenantId}/tokens/{tenant.TokenId}"),
        };
        foreach (var send in requests)
        {
            using var response = await send();
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
            var text = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain(tenant.TenantId, text, StringComparison.Ordinal);
            Assert.DoesNotContain("scim_", text, StringComparison.Ordinal);
        }

        // Nothing happened: still one token, and it still works.
        using var admin = _gateway.AdminClient();
        var view = await (await admin.GetAsync($"/admin/tenants/{tenant.TenantId}")).ReadJsonAsync();
        Assert.Equal([tenant.TokenId], view["tokens"]!.AsArray().Select(t => t!["id"].Str()));
        using var scim = _gateway.ScimClient(tenant);
        Assert.Equal(HttpStatusCode.OK, (await scim.GetAsync("Users")).StatusCode);
    }

    [Fact]
    public async Task TenantTokenIsNotAnOperatorKey()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var client = _gateway.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tenant.Token);

        using var response = await client.GetAsync($"/admin/tenants/{tenant.TenantId}");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    public static TheoryData<string> BadCreateBodies => new()
    {
        """{"name":""}""",
        """{"name":"   "}""",
        """{"name":null}""",
        """{}""",
        "{\"name\":\"" + new string('n', 201) + "\"}",
        """{"name":"bad\u0007name"}""",
        """{"name":"line\nbreak"}""",
        """{"name":"zero\u200bwidth"}""",
        """{"name":"\u202eosotnoC"}""",
        """{"name":"\ufeffContoso"}""",
    };

    [Theory]
    [MemberData(nameof(BadCreateBodies))]
    public async Task BadTenantNameIs400(string body)
    {
        using var admin = _gateway.AdminClient();

        using var response = await admin.PostAsync("/admin/tenants", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.DoesNotContain("scim_", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645")] // Persian: a zero-width non-joiner between two letters
    [InlineData("Caf\u00E9 \U0001F469\u200D\U0001F4BB")] // an accent and an emoji sequence with a zero-width joiner
    public async Task NamesThatNeedJoinersAreAccepted(string name)
    {
        using var admin = _gateway.AdminClient();

        using var response = await admin.PostAsJsonAsync("/admin/tenants", new { name });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(name, (await response.ReadJsonAsync())["name"].Str());
    }

    [Fact]
    public async Task LongestAllowedTenantNameIsAccepted()
    {
        using var admin = _gateway.AdminClient();
        var name = new string('n', 200);

        using var response = await admin.PostAsJsonAsync("/admin/tenants", new { name });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(name, (await response.ReadJsonAsync())["name"].Str());
    }

    [Theory]
    [InlineData("{\"name\":")]
    [InlineData("{\"name\":\"x\",}")]
    [InlineData("not json")]
    [InlineData("[\"x\"]")]
    [InlineData("{\"name\":42}")]
    public async Task MalformedTenantJsonIs400(string body)
    {
        using var admin = _gateway.AdminClient();

        using var response = await admin.PostAsync("/admin/tenants", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex TenantIdPattern();

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex Base64UrlPattern();
}
