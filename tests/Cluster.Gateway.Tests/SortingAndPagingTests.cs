using System.Net;
using System.Text.Json.Nodes;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>
/// RFC 7644 §3.4.2.3 (sortBy, sortOrder) and §3.4.2.4 (startIndex, count) over 300 users and 120 groups: every page walk
/// sees each resource exactly once, in the order the RFC asks for (missing values last ascending, first descending;
/// strings case-insensitive; dateTimes chronological), with or without a filter.
/// </summary>
[Collection(SeededDirectoryCollection.Name)]
public sealed class SortingAndPagingTests(SeededDirectory directory)
{
    private HttpClient Scim => directory.Scim;

    [Theory]
    [InlineData(7)]
    [InlineData(50)]
    [InlineData(200)]
    public async Task WalkingPagesSortedByUserNameVisitsEveryUserOnceInOrder(int pageSize)
    {
        var expected = Expected(directory.Users, u => u.Text("userName"), StringComparer.OrdinalIgnoreCase, descending: false);
        Assert.Equal(expected, await WalkAsync("Users?sortBy=userName", pageSize, SeededDirectory.UserCount));
    }

    [Fact]
    public async Task WalkingUnsortedPagesVisitsEveryUserOnceInIdOrder()
    {
        var ids = await WalkAsync("Users", 13, SeededDirectory.UserCount);
        Assert.Equal(directory.Users.Select(u => u.Id).Order(StringComparer.Ordinal), ids);
    }

    [Fact]
    public async Task FamilyNameSortsCaseInsensitivelyWithMissingValuesLastThenFirst()
    {
        var ascending = await WalkAsync("Users?sortBy=name.familyName&sortOrder=ascending", 40, SeededDirectory.UserCount);
        Assert.Equal(Expected(directory.Users, u => u.Text("name", "familyName"), StringComparer.OrdinalIgnoreCase, descending: false), ascending);
        var byId = directory.Users.ToDictionary(u => u.Id);
        Assert.Equal("aberg", byId[ascending[0]].Text("name", "familyName"), ignoreCase: true);
        Assert.Null(byId[ascending[^1]].Text("name", "familyName"));
        Assert.Equal(SeededDirectory.UserCount / 10, ascending.Count(id => byId[id].Text("name", "familyName") is null));

        // sortOrder is case-insensitive; the URN-qualified path is the same attribute.
        var descending = await WalkAsync("Users?sortBy=urn:ietf:params:scim:schemas:core:2.0:User:name.familyName&sortOrder=DESCENDING", 40, SeededDirectory.UserCount);
        Assert.Equal(Expected(directory.Users, u => u.Text("name", "familyName"), StringComparer.OrdinalIgnoreCase, descending: true), descending);
        Assert.Null(byId[descending[0]].Text("name", "familyName"));
    }

    [Fact]
    public async Task SortWithAScanningFilter()
    {
        // active eq true has no index: the directory is scanned, and only (key, id) pairs are kept.
        var expected = Expected(directory.UsersWhere(u => u["active"]!.GetValue<bool>()), u => u.Text("title"), StringComparer.OrdinalIgnoreCase, descending: true);
        var ids = await WalkAsync("Users?filter=" + Uri.EscapeDataString("active eq true") + "&sortBy=title&sortOrder=descending", 30, expected.Count);
        Assert.Equal(expected, ids);
    }

    [Fact]
    public async Task SortWithAnIndexAnsweredFilter()
    {
        var batch = SeededDirectory.Batch(7);
        var expected = Expected(directory.UsersWhere(u => u["externalId"].Str() == batch), u => u.Text("userName"), StringComparer.OrdinalIgnoreCase, descending: true);
        Assert.Equal(SeededDirectory.UserCount / 30, expected.Count);
        var ids = await WalkAsync("Users?filter=" + Uri.EscapeDataString($"externalId eq \"{batch}\"") + "&sortBy=userName&sortOrder=descending", 4, expected.Count);
        Assert.Equal(expected, ids);

        var narrowed = await ListAsync("Users?filter=" + Uri.EscapeDataString($"externalId eq \"{batch}\" and active eq false") + "&sortBy=userName");
        Assert.Equal(
            Expected(directory.UsersWhere(u => u["externalId"].Str() == batch && !u["active"]!.GetValue<bool>()), u => u.Text("userName"), StringComparer.OrdinalIgnoreCase, descending: false),
            narrowed.Ids());
    }

    [Theory]
    [InlineData("meta.created", false)]
    [InlineData("meta.created", true)]
    [InlineData("meta.lastModified", true)]
    public async Task SortByDateTimeIsChronological(string sortBy, bool descending)
    {
        Func<Seeded, DateTimeOffset?> key = sortBy == "meta.created" ? u => u.Created : u => u.LastModified;
        var expected = Expected(directory.Users, key, Comparer<DateTimeOffset?>.Default, descending);
        var ids = await WalkAsync($"Users?sortBy={sortBy}&sortOrder={(descending ? "descending" : "ascending")}", 100, SeededDirectory.UserCount);
        Assert.Equal(expected, ids);
    }

    [Fact]
    public async Task SortByBooleanMultiValuedAndExtensionAttributes()
    {
        // Booleans: false before true.
        var active = await WalkAsync("Users?sortBy=active", 100, SeededDirectory.UserCount);
        Assert.Equal(Expected(directory.Users, u => (bool?)u.Body["active"]!.GetValue<bool>(), Comparer<bool?>.Default, descending: false), active);

        // Multi-valued: the primary email's value, else the first one's (RFC 7644 §3.4.2.3); "emails" means emails.value.
        string? Email(Seeded u)
        {
            if (u.Body["emails"] is not JsonArray emails)
            {
                return null;
            }

            var primary = emails.FirstOrDefault(e => e!["primary"]?.GetValue<bool>() == true) ?? emails[0];
            return primary!["value"].Str();
        }

        var expectedEmails = Expected(directory.Users, Email, StringComparer.OrdinalIgnoreCase, descending: false);
        Assert.Equal(expectedEmails, await WalkAsync("Users?sortBy=emails.value", 100, SeededDirectory.UserCount));
        Assert.Equal(expectedEmails, await WalkAsync("Users?sortBy=EMAILS", 100, SeededDirectory.UserCount));

        // Extension attribute, with and without its URN.
        var expectedDepartments = Expected(directory.Users, u => u.Text(EntraPayloads.EnterpriseUserSchema, "department"), StringComparer.OrdinalIgnoreCase, descending: true);
        Assert.Equal(expectedDepartments, await WalkAsync($"Users?sortBy={EntraPayloads.EnterpriseUserSchema}:department&sortOrder=descending", 100, SeededDirectory.UserCount));
        Assert.Equal(expectedDepartments, await WalkAsync("Users?sortBy=department&sortOrder=descending", 100, SeededDirectory.UserCount));
    }

    [Fact]
    public async Task CountZeroAndStartIndexBeyondTheEndWithSort()
    {
        var totals = await ListAsync("Users?sortBy=title&count=0");
        Assert.Equal(SeededDirectory.UserCount, totals["totalResults"]!.GetValue<int>());
        Assert.Equal(0, totals["itemsPerPage"]!.GetValue<int>());
        Assert.Empty(totals["Resources"]!.AsArray());

        var beyond = await ListAsync("Users?sortBy=title&startIndex=301&count=10");
        Assert.Equal(SeededDirectory.UserCount, beyond["totalResults"]!.GetValue<int>());
        Assert.Equal(301, beyond["startIndex"]!.GetValue<int>());
        Assert.Empty(beyond["Resources"]!.AsArray());

        var last = await ListAsync("Users?sortBy=userName&startIndex=298&count=10");
        Assert.Equal(3, last["itemsPerPage"]!.GetValue<int>());
        Assert.Equal(Expected(directory.Users, u => u.Text("userName"), StringComparer.OrdinalIgnoreCase, descending: false).TakeLast(3), last.Ids());
    }

    [Fact]
    public async Task SortedPagesApplyTheProjection()
    {
        var page = await ListAsync("Users?sortBy=userName&count=5&attributes=userName");
        Assert.Equal(5, page["Resources"]!.AsArray().Count);
        foreach (var user in page["Resources"]!.AsArray())
        {
            Assert.Equal(["id", "schemas", "userName"], user!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        }
    }

    [Theory]
    [InlineData(5, false)]
    [InlineData(33, true)]
    public async Task WalkingGroupPagesSortedByDisplayName(int pageSize, bool descending)
    {
        var expected = Expected(directory.Groups, g => g.Text("displayName"), StringComparer.OrdinalIgnoreCase, descending);
        var ids = await WalkAsync($"Groups?excludedAttributes=members&sortBy=displayName&sortOrder={(descending ? "descending" : "ascending")}", pageSize, SeededDirectory.GroupCount);
        Assert.Equal(expected, ids);

        var filtered = await ListAsync("Groups?filter=" + Uri.EscapeDataString("displayName sw \"group 01\"") + "&sortBy=displayName");
        Assert.Equal(
            Expected(directory.Groups.Where(g => g.Text("displayName")!.StartsWith("group 01", StringComparison.OrdinalIgnoreCase)), g => g.Text("displayName"), StringComparer.OrdinalIgnoreCase, descending: false),
            filtered.Ids());
    }

    [Theory]
    [InlineData("Users?sortBy=nickNamez", "invalidValue")]
    [InlineData("Users?sortBy=name", "invalidValue")]
    [InlineData("Users?sortBy=urn:ietf:params:scim:schemas:core:2.0:Group:displayName", "invalidValue")]
    [InlineData("Users?sortBy=name..x", "invalidValue")]
    [InlineData("Users?sortBy=userName&sortOrder=sideways", "invalidValue")]
    [InlineData("Users?sortOrder=up", "invalidValue")]
    [InlineData("Groups?sortBy=userName", "invalidValue")]
    [InlineData("Groups?sortBy=displayName&filter=displayName+eq", "invalidFilter")]
    public async Task BadSortParametersAre400(string query, string scimType)
    {
        using var response = await Scim.GetAsync(query);
        await response.ExpectScimErrorAsync(HttpStatusCode.BadRequest, scimType);
    }

    [Fact]
    public async Task ServiceProviderConfigSaysSortIsSupported()
    {
        var config = await ListAsync("ServiceProviderConfig");
        Assert.True(config["sort"]!["supported"]!.GetValue<bool>());
    }

    /// <summary>
    /// The expected order: by key (<paramref name="comparer"/>), missing keys last (first when descending), ties by id.
    /// </summary>
    internal static List<string> Expected<TKey>(IEnumerable<Seeded> items, Func<Seeded, TKey?> key, IComparer<TKey> comparer, bool descending)
    {
        var list = items.Select(i => (Key: key(i), i.Id)).ToList();
        list.Sort((a, b) =>
        {
            var byKey = (a.Key, b.Key) switch
            {
                (null, null) => 0,
                (null, _) => 1,
                (_, null) => -1,
                _ => comparer.Compare(a.Key, b.Key),
            };
            return byKey != 0 ? (descending ? -byKey : byKey) : string.CompareOrdinal(a.Id, b.Id);
        });
        return [.. list.Select(x => x.Id)];
    }

    private async Task<JsonObject> ListAsync(string query)
    {
        using var response = await Scim.GetAsync(query);
        return await response.ExpectScimAsync(HttpStatusCode.OK);
    }

    /// <summary>Walks every page of <paramref name="query"/>, checking each page's paging fields, and returns the ids in order.</summary>
    private async Task<List<string>> WalkAsync(string query, int pageSize, int expectedTotal)
    {
        var ids = new List<string>();
        var separator = query.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        for (var start = 1; start <= expectedTotal; start += pageSize)
        {
            var page = await ListAsync($"{query}{separator}startIndex={start}&count={pageSize}");
            Assert.Equal(expectedTotal, page["totalResults"]!.GetValue<int>());
            Assert.Equal(start, page["startIndex"]!.GetValue<int>());
            Assert.Equal(Math.Min(pageSize, expectedTotal - start + 1), page["itemsPerPage"]!.GetValue<int>());
            ids.AddRange(page.Ids());
        }

        Assert.Equal(ids.Count, ids.Distinct().Count());
        return ids;
    }
}
