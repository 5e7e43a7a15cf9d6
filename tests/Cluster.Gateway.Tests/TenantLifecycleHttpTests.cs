using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>
/// Issue 13 through the pipeline: listing tenants by name with a cursor and a prefix, renaming, suspending and resuming
/// (PATCH), and offboarding (DELETE: 202, credentials refused on every gateway within the cache time, progress, then 404;
/// idempotent). Every bad input is a problem+json 4xx that changes nothing.
/// </summary>
public sealed class TenantLifecycleHttpTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    private static readonly TimeSpan RevocationDeadline = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task TenantsAreListedByNameInPagesThatFollowTheCursorAndAPrefixNarrowsThem()
    {
        var run = Guid.NewGuid().ToString("N")[..10];
        string[] names = [$"Lc{run} Delta", $"lc{run} alpha", $"LC{run} Charlie", $"Lc{run} bravo", $"Lc{run} Echo", $"Lc{run} Alpha"];
        var ids = new Dictionary<string, string>();
        foreach (var name in names)
        {
            ids[name] = (await gateway.CreateTenantAsync(name)).TenantId;
        }

        var listed = await ListAllAsync($"q=lc{run}", limit: 2);
        string[] expected = [$"lc{run} alpha", $"Lc{run} Alpha", $"Lc{run} bravo", $"LC{run} Charlie", $"Lc{run} Delta", $"Lc{run} Echo"];

        // Names compare canonically (case-folded); "alpha" twice is ordered by id.
        Assert.Equal(
            expected.Select(n => n.ToUpperInvariant()),
            listed.Select(t => t["name"].Str().ToUpperInvariant()));
        var alphas = listed.Take(2).Select(t => t["tenantId"].Str()).ToArray();
        Assert.Equal(alphas.Order(StringComparer.Ordinal), alphas);

        var first = listed.Single(t => t["tenantId"].Str() == ids[$"Lc{run} Delta"]);
        Assert.Equal(
            new HashSet<string> { "tenantId", "name", "createdAt", "suspended", "userCount", "groupCount", "lastRequestAt" },
            first.Select(p => p.Key).ToHashSet());
        Assert.False(first["suspended"]!.GetValue<bool>());
        Assert.Equal(0, first["userCount"]!.GetValue<long>());
        Assert.Null(first["lastRequestAt"]);

        Assert.Equal([$"LC{run} Charlie"], (await ListAllAsync($"q={Uri.EscapeDataString($"lc{run} CH")}", 200)).Select(t => t["name"].Str()));
        Assert.Empty(await ListAllAsync($"q=lc{run}x", 200));

        // Without q the listing holds them too, in the same order among the others.
        var all = await ListAllAsync("", 200);
        Assert.Equal(expected.Select(n => n.ToUpperInvariant()), all.Where(t => ids.ContainsValue(t["tenantId"].Str())).Select(t => t["name"].Str().ToUpperInvariant()));
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=201")]
    [InlineData("limit=abc")]
    [InlineData("limit=1.5")]
    [InlineData("limit=-1")]
    [InlineData("limit=1&limit=2")]
    [InlineData("after=x")]
    [InlineData("after=Q09OVE9TTw")]
    [InlineData("after=a&after=b")]
    [InlineData("q=bad%01name")]
    [InlineData("q=bad%E2%80%AEname")]
    [InlineData("q=a&q=b")]
    public async Task BadListingParametersAre400Problems(string query)
    {
        using var admin = gateway.AdminClient();
        using var response = await admin.GetAsync("/admin/tenants?" + query);
        await ExpectProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task ALongPrefixIs400AndTheLongestAllowedIsAccepted()
    {
        using var admin = gateway.AdminClient();
        using (var tooLong = await admin.GetAsync("/admin/tenants?q=" + new string('q', 201)))
        {
            await ExpectProblemAsync(tooLong, HttpStatusCode.BadRequest);
        }

        var name = "Long" + Guid.NewGuid().ToString("N") + new string('x', 164);
        var tenant = await gateway.CreateTenantAsync(name);
        Assert.Equal(200, name.Length);
        var found = await ListAllAsync("q=" + name.ToLowerInvariant(), 10);
        Assert.Equal([tenant.TenantId], found.Select(t => t["tenantId"].Str()));
        Assert.Empty(await ListAllAsync("q=" + name[..150] + "y", 10)); // differs past the 64 sorted characters
    }

    [Fact]
    public async Task PatchRenamesSuspendsAndResumesAndAnswersTheTenant()
    {
        var run = Guid.NewGuid().ToString("N")[..10];
        var tenant = await gateway.CreateTenantAsync($"Before {run}");
        using var admin = gateway.AdminClient();
        using var scim = gateway.ScimClient(tenant);
        var user = await scim.CreateUserAsync($"patched.{run}@contoso.com");

        var renamed = await PatchAsync(admin, tenant.TenantId, $$"""{"name":"  After {{run}}  "}""", HttpStatusCode.OK);
        Assert.Equal($"After {run}", renamed["name"].Str());
        Assert.Equal(tenant.ScimUrl, renamed["scimUrl"].Str());
        Assert.Equal(1, renamed["userCount"]!.GetValue<long>());
        Assert.Empty(await ListAllAsync($"q=before {run}", 10));
        Assert.Single(await ListAllAsync($"q=after {run}", 10));

        // Suspended: this gateway refuses at once (403, nothing changes); resumed: everything is as it was.
        Assert.True((await PatchAsync(admin, tenant.TenantId, """{"suspended":true}""", HttpStatusCode.OK))["suspended"]!.GetValue<bool>());
        using (var refused = await scim.PostAsync("Users", ScimTestClient.Body(EntraPayloads.MinimalUser($"blocked.{run}@contoso.com"))))
        {
            await refused.ExpectScimErrorAsync(HttpStatusCode.Forbidden);
        }

        var both = await PatchAsync(admin, tenant.TenantId, $$"""{"suspended":false,"name":"Again {{run}}"}""", HttpStatusCode.OK);
        Assert.Equal(($"Again {run}", false), (both["name"].Str(), both["suspended"]!.GetValue<bool>()));
        Assert.Equal(user["id"].Str(), (await scim.GetUserAsync(user["id"].Str()))["id"].Str());
        Assert.Equal(1, (await GetTenantAsync(admin, tenant.TenantId))["userCount"]!.GetValue<long>());
    }

    public static TheoryData<string, string?, int> BadPatches => new()
    {
        { "", "application/json", 400 },
        { "{}", "application/json", 400 },
        { "[]", "application/json", 400 },
        { "null", "application/json", 400 },
        { "not json", "application/json", 400 },
        { """{"name":""}""", "application/json", 400 },
        { """{"name":"   "}""", "application/json", 400 },
        { "{\"name\":\"" + new string('n', 201) + "\"}", "application/json", 400 },
        { """{"name":"bad\u0007name"}""", "application/json", 400 },
        { """{"name":"line\nbreak"}""", "application/json", 400 },
        { """{"name":null}""", "application/json", 400 },
        { """{"name":5}""", "application/json", 400 },
        { """{"name":["x"]}""", "application/json", 400 },
        { """{"suspended":"true"}""", "application/json", 400 },
        { """{"suspended":1}""", "application/json", 400 },
        { """{"suspended":null}""", "application/json", 400 },
        { """{"name":"Fine","suspended":"no"}""", "application/json", 400 },
        { """{"suspended":true,"id":"x"}""", "application/json", 400 },
        { """{"Name":"Fine"}""", "application/json", 400 },
        { """{"name":"A","name":"B"}""", "application/json", 400 },
        { """{"name":"\ud800"}""", "application/json", 400 },
        { """{"name":"Contoso\u200b"}""", "application/json", 400 },
        { """{"name":"\u202eosotnoC"}""", "application/json", 400 },
        { """{"name":"para\u2029graph"}""", "application/json", 400 },
        { """{"suspended":true}""", "text/plain", 415 },
        { "{\"name\":\"" + new string('n', 20_000) + "\"}", "application/json", 413 },
    };

    [Theory]
    [MemberData(nameof(BadPatches))]
    public async Task BadPatchesAreProblemsAndChangeNothing(string body, string? contentType, int status)
    {
        var tenant = await gateway.CreateTenantAsync("Unchanged");
        using var admin = gateway.AdminClient();
        var before = await GetTenantAsync(admin, tenant.TenantId);

        using var request = new HttpRequestMessage(HttpMethod.Patch, $"/admin/tenants/{tenant.TenantId}") { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = contentType is null ? null : new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        using var response = await admin.SendAsync(request);

        await ExpectProblemAsync(response, (HttpStatusCode)status);
        Assert.True(JsonNode.DeepEquals(before, await GetTenantAsync(admin, tenant.TenantId)));
        using var scim = gateway.ScimClient(tenant);
        using var stillServed = await scim.GetAsync("Users");
        Assert.Equal(HttpStatusCode.OK, stillServed.StatusCode);
    }

    [Theory]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    [InlineData("GET")]
    public async Task UnknownAndMalformedTenantIdsAre404Problems(string method)
    {
        using var admin = gateway.AdminClient();
        foreach (var id in new[] { "0123456789abcdef0123456789abcdef", "bad.id", new string('f', 65) })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), $"/admin/tenants/{id}")
            {
                Content = method == "PATCH" ? new StringContent("""{"suspended":true}""", Encoding.UTF8, "application/json") : null,
            };
            using var response = await admin.SendAsync(request);
            await ExpectProblemAsync(response, HttpStatusCode.NotFound);
        }
    }

    [Fact]
    public async Task DeleteStopsCredentialsOnEveryGatewayShowsProgressThenTheTenantIsGone()
    {
        var run = Guid.NewGuid().ToString("N")[..10];
        var tenant = await gateway.CreateTenantAsync($"Offboarded {run}");
        var other = await gateway.CreateTenantAsync($"Staying {run}");
        using var second = GatewayFactory.ConnectTo(gateway);
        using var admin = gateway.AdminClient();
        using var scim = gateway.ScimClient(tenant);
        using var scimOnSecond = second.ScimClient(tenant);
        var user = await scim.CreateUserAsync($"leaving.{run}@contoso.com");
        using (var group = await scim.PostAsync("Groups", ScimTestClient.Body($$"""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Leaving {{run}}","members":[{"value":"{{user["id"].Str()}}"}]}""")))
        {
            await group.ExpectScimAsync(HttpStatusCode.Created);
        }

        using (var warm = await scimOnSecond.GetAsync("Users"))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode); // the second gateway now trusts the token for a while
        }

        using var deleted = await admin.DeleteAsync($"/admin/tenants/{tenant.TenantId}");
        var clock = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
        var accepted = await deleted.ReadJsonAsync();
        Assert.Equal((tenant.TenantId, $"Offboarded {run}"), (accepted["tenantId"].Str(), accepted["name"].Str()));
        var startedAt = accepted["deleting"]!["startedAt"].Str();
        Assert.Equal("draining", accepted["deleting"]!["phase"].Str()); // revoked before the answer; requests in flight may finish

        // This gateway refuses at once, the other within its cache time; neither says more than a 401 does.
        using (var refused = await scim.GetAsync("Users"))
        {
            await refused.ExpectScimErrorAsync(HttpStatusCode.Unauthorized);
        }

        while (true)
        {
            // The deadline bounds when a request is sent, not when its answer (slow on a loaded machine) comes back.
            var sentAt = clock.Elapsed;
            using var response = await scimOnSecond.GetAsync("Users");
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                await response.ExpectScimErrorAsync(HttpStatusCode.Unauthorized);
                break;
            }

            Assert.True(sentAt < RevocationDeadline, $"The deleted tenant's token still worked in a request sent after {sentAt}.");
            await Task.Delay(50);
        }

        // Gone from the listing at once; the other endpoints treat it as unknown; DELETE again is the same deletion.
        Assert.Empty(await ListAllAsync($"q=offboarded {run}", 10));
        using (var tokens = await admin.PostAsync($"/admin/tenants/{tenant.TenantId}/tokens", null))
        {
            await ExpectProblemAsync(tokens, HttpStatusCode.NotFound);
        }

        using (var patch = await admin.PatchAsync($"/admin/tenants/{tenant.TenantId}", new StringContent("""{"suspended":false}""", Encoding.UTF8, "application/json")))
        {
            await ExpectProblemAsync(patch, HttpStatusCode.NotFound);
        }

        using (var again = await admin.DeleteAsync($"/admin/tenants/{tenant.TenantId}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
            Assert.Equal(startedAt, (await again.ReadJsonAsync())["deleting"]!["startedAt"].Str());
        }

        // GET shows the progress until the tenant is gone, then 404; a DELETE then is 404 too.
        var phases = new List<string>();
        while (true)
        {
            using var response = await admin.GetAsync($"/admin/tenants/{tenant.TenantId}");
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                await ExpectProblemAsync(response, HttpStatusCode.NotFound);
                break;
            }

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var deleting = (await response.ReadJsonAsync())["deleting"]!;
            phases.Add(deleting["phase"].Str());
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"Still deleting after {clock.Elapsed}: {string.Join(" → ", phases.Distinct())}");
            await Task.Delay(100);
        }

        // The progress shows the documented phases (a short one may pass between two reads unseen; a verification pass
        // that finds rows goes back to erasing).
        string[] known = [TenantDeletionPhases.Draining, TenantDeletionPhases.Stopping, TenantDeletionPhases.Erasing, TenantDeletionPhases.Verifying, TenantDeletionPhases.Finishing];
        Assert.NotEmpty(phases);
        Assert.All(phases, phase => Assert.Contains(phase, known));
        using (var gone = await admin.DeleteAsync($"/admin/tenants/{tenant.TenantId}"))
        {
            await ExpectProblemAsync(gone, HttpStatusCode.NotFound);
        }

        // The other tenant is untouched.
        using var otherScim = gateway.ScimClient(other);
        using var served = await otherScim.GetAsync("Users");
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Single(await ListAllAsync($"q=staying {run}", 10));
    }

    [Fact]
    public async Task ADeleteWhoseRevokingFailedStopsTheCredentialsAndARepeatedDeleteRevokesBeforeItsAnswer()
    {
        await using var probed = new GatewayFactory().WithStorageProbe();
        var tenant = await probed.CreateTenantAsync("Half deleted");
        var client = await probed.CreateOAuthClientAsync(tenant);
        using var admin = probed.AdminClient();
        using var scim = probed.ScimClient(tenant);
        using var http = probed.CreateClient();
        using (var warm = await scim.GetAsync("Users"))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        // The deletion is recorded, then clearing the tenant's row (its credentials) fails: the operator gets an error.
        StorageProbe.FailNextWrites(GrainKeys.Tenant(tenant.TenantId), "tenant");
        using (var failed = await admin.DeleteAsync($"/admin/tenants/{tenant.TenantId}"))
        {
            Assert.True((int)failed.StatusCode >= 500, $"{failed.StatusCode}");
        }

        // A recorded deletion already stops the credentials, though the row is still there.
        using (var refused = await scim.GetAsync("Users"))
        {
            await refused.ExpectScimErrorAsync(HttpStatusCode.Unauthorized);
        }

        using (var noToken = await http.RequestTokenAsync(client))
        {
            await noToken.ExpectOAuthErrorAsync(HttpStatusCode.Unauthorized, "invalid_client");
        }

        // Nor does it take new ones: a token or a client issued now would never work.
        using (var issued = await admin.PostAsync($"/admin/tenants/{tenant.TenantId}/tokens", null))
        {
            await ExpectProblemAsync(issued, HttpStatusCode.NotFound);
        }

        using (var newClient = await admin.PostAsync($"/admin/tenants/{tenant.TenantId}/oauth-clients", null))
        {
            await ExpectProblemAsync(newClient, HttpStatusCode.NotFound);
        }

        // The operator repeats the delete: accepted, and answered once the row is cleared (past "revoking").
        using (var again = await admin.DeleteAsync($"/admin/tenants/{tenant.TenantId}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
            Assert.NotEqual("revoking", (await again.ReadJsonAsync())["deleting"]!["phase"].Str());
        }

        Assert.Null(StorageProbe.LastWrittenState(GrainKeys.Tenant(tenant.TenantId), "tenant"));
        using (var stillRefused = await scim.GetAsync("Users"))
        {
            await stillRefused.ExpectScimErrorAsync(HttpStatusCode.Unauthorized);
        }
    }

    [Fact]
    public async Task GetShowsCountsAndWhenTheTenantLastMadeARequest()
    {
        var tenant = await gateway.CreateTenantAsync("Active");
        using var admin = gateway.AdminClient();
        Assert.Null((await GetTenantAsync(admin, tenant.TenantId))["lastRequestAt"]);

        using var scim = gateway.ScimClient(tenant);
        var users = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            users.Add((await scim.CreateUserAsync($"active{i}.{tenant.TenantId}@contoso.com"))["id"].Str());
        }

        using (var group = await scim.PostAsync("Groups", ScimTestClient.Body("""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Active"}""")))
        {
            await group.ExpectScimAsync(HttpStatusCode.Created);
        }

        using (var removed = await scim.DeleteAsync($"Users/{users[0]}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }

        JsonObject view;
        var deadline = Stopwatch.StartNew();
        do
        {
            view = await GetTenantAsync(admin, tenant.TenantId);
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), "lastRequestAt never appeared");
        }
        while (view["lastRequestAt"] is null && await Delay());

        Assert.Equal((2L, 1L), (view["userCount"]!.GetValue<long>(), view["groupCount"]!.GetValue<long>()));
        var last = DateTimeOffset.Parse(view["lastRequestAt"].Str(), CultureInfo.InvariantCulture);
        Assert.InRange(last, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.False(view["suspended"]!.GetValue<bool>());
    }

    [Fact]
    public async Task AnOAuthAccessTokenRequestIsALastRequestToo()
    {
        var tenant = await gateway.CreateTenantAsync("Active by OAuth");
        var client = await gateway.CreateOAuthClientAsync(tenant);
        using var admin = gateway.AdminClient();
        Assert.Null((await GetTenantAsync(admin, tenant.TenantId))["lastRequestAt"]);

        using (var scim = gateway.ScimClient(tenant, await gateway.AccessTokenAsync(client)))
        using (var users = await scim.GetAsync("Users"))
        {
            Assert.Equal(HttpStatusCode.OK, users.StatusCode);
        }

        JsonObject view;
        var deadline = Stopwatch.StartNew();
        do
        {
            view = await GetTenantAsync(admin, tenant.TenantId);
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), "lastRequestAt never appeared");
        }
        while (view["lastRequestAt"] is null && await Delay());

        Assert.InRange(DateTimeOffset.Parse(view["lastRequestAt"].Str(), CultureInfo.InvariantCulture), DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1));
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(50);
        return true;
    }

    private async Task<List<JsonObject>> ListAllAsync(string query, int limit)
    {
        using var admin = gateway.AdminClient();
        var all = new List<JsonObject>();
        string? cursor = null;
        for (var pages = 0; pages < 1000; pages++)
        {
            var url = $"/admin/tenants?limit={limit}" + (query.Length > 0 ? "&" + query : "") + (cursor is null ? "" : "&after=" + cursor);
            using var response = await admin.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = await response.ReadJsonAsync();
            var data = page["data"]!.AsArray().Select(t => t!.AsObject()).ToList();
            Assert.True(data.Count <= limit);
            all.AddRange(data.Select(d => (JsonObject)d.DeepClone()));
            if (page["nextCursor"] is null)
            {
                return all;
            }

            cursor = page["nextCursor"].Str();
        }

        throw new InvalidOperationException("The listing never ended.");
    }

    private static async Task<JsonObject> GetTenantAsync(HttpClient admin, string tenantId)
    {
        using var response = await admin.GetAsync($"/admin/tenants/{tenantId}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.ReadJsonAsync();
    }

    private static async Task<JsonObject> PatchAsync(HttpClient admin, string tenantId, string body, HttpStatusCode status)
    {
        using var response = await admin.PatchAsync($"/admin/tenants/{tenantId}", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"PATCH {body}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private static async Task ExpectProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(text)!.AsObject();
        Assert.Equal((int)status, problem["status"]!.GetValue<int>());
        Assert.False(string.IsNullOrWhiteSpace(problem["detail"]?.GetValue<string>() ?? problem["title"]?.GetValue<string>()));
    }
}
