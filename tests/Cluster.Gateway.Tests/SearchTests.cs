using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Cluster.Gateway.Tests;

/// <summary>
/// <c>POST /Users/.search</c>, <c>/Groups/.search</c> and the root <c>/.search</c> (RFC 7644 §3.4.3): the same answers as
/// the GET query they encode, users and groups ordered and paged together at the root, and a SCIM error for every bad
/// SearchRequest.
/// </summary>
[Collection(SeededDirectoryCollection.Name)]
public sealed class SearchTests(SeededDirectory directory)
{
    private const string SearchRequest = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

    private HttpClient Scim => directory.Scim;

    [Fact]
    public async Task UsersSearchAnswersLikeTheGetQuery()
    {
        var filter = "active eq true and title pr";
        var get = await GetAsync("Users?filter=" + Uri.EscapeDataString(filter) + "&sortBy=name.familyName&sortOrder=descending&startIndex=11&count=25&attributes=userName,name.familyName");
        var search = await SearchAsync("Users/.search", new JsonObject
        {
            ["schemas"] = new JsonArray(SearchRequest),
            ["filter"] = filter,
            ["sortBy"] = "name.familyName",
            ["sortOrder"] = "descending",
            ["startIndex"] = 11,
            ["count"] = 25,
            ["attributes"] = new JsonArray("userName", "name.familyName"),
        });
        Assert.True(JsonNode.DeepEquals(get, search), $"GET: {get.ToJsonString()}\nPOST: {search.ToJsonString()}");
        Assert.Equal(25, search["itemsPerPage"]!.GetValue<int>());
        Assert.Equal(11, search["startIndex"]!.GetValue<int>());
        var resource = search["Resources"]![0]!.AsObject();
        Assert.Equal(["id", "name", "schemas", "userName"], resource.Select(p => p.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task GroupsSearchWithExcludedAttributesAndNoSort()
    {
        var search = await SearchAsync("Groups/.search", new JsonObject
        {
            ["schemas"] = new JsonArray(SearchRequest),
            ["excludedAttributes"] = new JsonArray("members"),
            ["count"] = 200,
        });
        Assert.Equal(SeededDirectory.GroupCount, search["totalResults"]!.GetValue<int>());
        Assert.Equal(directory.Groups.Select(g => g.Id).Order(StringComparer.Ordinal), search.Ids());

        var byName = await SearchAsync("Groups/.search", new JsonObject
        {
            ["schemas"] = new JsonArray(SearchRequest),
            ["filter"] = "displayName eq \"GROUP 053\"",
            ["sortBy"] = "displayName",
        });
        var group = Assert.Single(byName["Resources"]!.AsArray())!;
        Assert.Equal("group 053", group["displayName"].Str(), ignoreCase: true);
    }

    [Fact]
    public async Task RootSearchPagesAcrossUsersAndGroups()
    {
        // Unsorted: both kinds together in id order, every resource exactly once.
        var all = directory.Users.Concat(directory.Groups).ToList();
        var total = all.Count;
        var ids = new List<string>();
        for (var start = 1; start <= total; start += 97)
        {
            var page = await SearchAsync(".search", new JsonObject { ["schemas"] = new JsonArray(SearchRequest), ["startIndex"] = start, ["count"] = 97 });
            Assert.Equal(total, page["totalResults"]!.GetValue<int>());
            Assert.Equal(Math.Min(97, total - start + 1), page["itemsPerPage"]!.GetValue<int>());
            ids.AddRange(page.Ids());
        }

        Assert.Equal(all.Select(r => r.Id).Order(StringComparer.Ordinal), ids);

        // Sorted by an attribute both kinds have: one order across kinds; resources render with their own type.
        var expected = SortingAndPagingTests.Expected(all, r => r.Text("displayName"), StringComparer.OrdinalIgnoreCase, descending: true);
        var sorted = new List<string>();
        for (var start = 1; start <= total; start += 150)
        {
            var page = await SearchAsync(".search", new JsonObject
            {
                ["schemas"] = new JsonArray(SearchRequest),
                ["sortBy"] = "displayName",
                ["sortOrder"] = "Descending",
                ["startIndex"] = start,
                ["count"] = 150,
                ["excludedAttributes"] = "members",
            });
            foreach (var resource in page["Resources"]!.AsArray())
            {
                var type = resource!["meta"]!["resourceType"].Str();
                Assert.Contains($"/{type}s/{resource["id"].Str()}", resource["meta"]!["location"].Str(), StringComparison.Ordinal);
            }

            sorted.AddRange(page.Ids());
        }

        Assert.Equal(expected, sorted);
    }

    [Fact]
    public async Task RootSearchEvaluatesEachKindOnItsOwnAttributes()
    {
        // title: users only. Groups have no title, so they match nothing rather than failing the request.
        var titled = await SearchAsync(".search", new JsonObject { ["schemas"] = new JsonArray(SearchRequest), ["filter"] = "title pr", ["count"] = 0 });
        Assert.Equal(directory.Users.Count(u => u.Text("title") is not null), titled["totalResults"]!.GetValue<int>());

        // An or across kinds: users with a title, plus the groups named "group 0…".
        var either = await SearchAsync(".search", new JsonObject
        {
            ["schemas"] = new JsonArray(SearchRequest),
            ["filter"] = "title sw \"engineer 1\" or displayName sw \"group 0\"",
            ["sortBy"] = "meta.created",
            ["count"] = 200,
        });
        var expected = SortingAndPagingTests.Expected(
            directory.Users.Where(u => u.Text("title")?.StartsWith("engineer 1", StringComparison.OrdinalIgnoreCase) == true)
                .Concat(directory.Groups.Where(g => g.Text("displayName")!.StartsWith("group 0", StringComparison.OrdinalIgnoreCase))),
            r => (DateTimeOffset?)r.Created,
            Comparer<DateTimeOffset?>.Default,
            descending: false);
        Assert.Equal(expected, either.Ids());

        // members: groups only; sortBy userName: users only, so groups (no value) come last.
        var sortedByUserName = await SearchAsync(".search", new JsonObject
        {
            ["schemas"] = new JsonArray(SearchRequest),
            ["filter"] = $"externalId eq \"{SeededDirectory.Batch(3)}\" or externalId eq \"g-007\" or members pr",
            ["sortBy"] = "userName",
        });
        var users = SortingAndPagingTests.Expected(directory.Users.Where(u => u.Body["externalId"].Str() == SeededDirectory.Batch(3)), u => u.Text("userName"), StringComparer.OrdinalIgnoreCase, descending: false);
        Assert.Equal([.. users, directory.Groups[7].Id], sortedByUserName.Ids());

        // An index probe on a users-only attribute never reads groups.
        var one = directory.Users[42];
        var byUserName = await SearchAsync(".search", new JsonObject { ["schemas"] = new JsonArray(SearchRequest), ["filter"] = $"userName eq \"{one.Text("userName")}\"" });
        Assert.Equal([one.Id], byUserName.Ids());

        var byId = await SearchAsync(".search", new JsonObject { ["schemas"] = new JsonArray(SearchRequest), ["filter"] = $"id eq \"{directory.Groups[3].Id}\"" });
        Assert.Equal([directory.Groups[3].Id], byId.Ids());
    }

    [Theory]
    [InlineData(".search", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"nickNamez eq \"x\""}""", "invalidFilter")]
    [InlineData(".search", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"active gt true or displayName pr"}""", "invalidFilter")]
    [InlineData(".search", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"sortBy":"nickNamez"}""", "invalidValue")]
    [InlineData("Users/.search", """{"filter":"userName eq \"x\""}""", "invalidSyntax")]
    [InlineData("Users/.search", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}""", "invalidSyntax")]
    [InlineData("Users/.search", """{"schemas":"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}""", "invalidSyntax")]
    [InlineData("Users/.search", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"sortby":"userName","sortBy":"title"}""", "invalidSyntax")]
    [InlineData("Users/.search", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filters":"userName pr"}""", "invalidSyntax")]
    [InlineData("Users/.search", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName eq"}""", "invalidFilter")]
    [InlineData("Users/.search", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"groups eq \"x\" and"}""", "invalidFilter")]
    [InlineData("Users/.search", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"sortOrder":"sideways"}""", "invalidValue")]
    [InlineData("Users/.search", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"count":"ten"}""", "invalidValue")]
    [InlineData("Users/.search", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"startIndex":1.5}""", "invalidValue")]
    [InlineData("Users/.search", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":["userName pr"]}""", "invalidValue")]
    [InlineData("Users/.search", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"attributes":[1]}""", "invalidValue")]
    [InlineData("Groups/.search", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"sortBy":"userName"}""", "invalidValue")]
    [InlineData("Groups/.search", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"title pr"}""", "invalidFilter")]
    [InlineData("Groups/.search", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],""", "invalidSyntax")]
    [InlineData("Groups/.search", """["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]""", "invalidSyntax")]
    [InlineData(".search", "", "invalidSyntax")]
    public async Task BadSearchRequestsAre400(string path, string body, string scimType)
    {
        using var response = await Scim.PostAsync(path, ScimTestClient.Body(body));
        await response.ExpectScimErrorAsync(HttpStatusCode.BadRequest, scimType);
    }

    [Fact]
    public async Task SchemaUrnAndMemberNamesAreCaseInsensitiveAndNullMeansAbsent()
    {
        var search = await SearchAsync("Users/.search", JsonNode.Parse("""
            {"SCHEMAS":["URN:IETF:PARAMS:SCIM:API:MESSAGES:2.0:SEARCHREQUEST"],"Count":3,"SortBy":"userName","filter":null,"attributes":"userName"}
            """)!.AsObject());
        Assert.Equal(SeededDirectory.UserCount, search["totalResults"]!.GetValue<int>());
        Assert.Equal(
            SortingAndPagingTests.Expected(directory.Users, u => u.Text("userName"), StringComparer.OrdinalIgnoreCase, descending: false).Take(3),
            search.Ids());
    }

    [Theory]
    [InlineData(".search")]
    [InlineData("Users/.search")]
    [InlineData("Groups/.search")]
    public async Task SearchNeedsTheTenantsToken(string path)
    {
        using var client = directory.Gateway.CreateClient();
        client.BaseAddress = Scim.BaseAddress;
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "scim_not-a-token");
        using var response = await client.PostAsync(path, ScimTestClient.Body($$"""{"schemas":["{{SearchRequest}}"]}"""));
        await response.ExpectScimErrorAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task GetOnASearchPathIsNotASearch()
    {
        using var response = await Scim.GetAsync("Users/.search");
        await response.ExpectScimErrorAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task SearchesAreNamedAsSearchesInMetrics()
    {
        foreach (var path in new[] { ".search", "Users/.search", "Groups/.search" })
        {
            await SearchAsync(path, new JsonObject { ["schemas"] = new JsonArray(SearchRequest), ["count"] = 1 });
        }

        using var client = directory.Gateway.CreateClient();
        var metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("operation=\"search\"", metrics, StringComparison.Ordinal);
        Assert.Contains("operation=\"users.search\"", metrics, StringComparison.Ordinal);
        Assert.Contains("operation=\"groups.search\"", metrics, StringComparison.Ordinal);
    }

    private async Task<JsonObject> GetAsync(string query)
    {
        using var response = await Scim.GetAsync(query);
        return await response.ExpectScimAsync(HttpStatusCode.OK);
    }

    private async Task<JsonObject> SearchAsync(string path, JsonObject body)
    {
        using var response = await Scim.PostAsync(path, ScimTestClient.Body(body.ToJsonString()));
        return await response.ExpectScimAsync(HttpStatusCode.OK);
    }
}
