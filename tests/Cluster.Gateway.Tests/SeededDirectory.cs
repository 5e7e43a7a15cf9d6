using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>The test collection that shares one <see cref="SeededDirectory"/>: seeded once for all its classes.</summary>
[CollectionDefinition(Name)]
public sealed class SeededDirectoryCollection : ICollectionFixture<SeededDirectory>
{
    public const string Name = "SeededDirectory";
}

/// <summary>
/// A gateway and one tenant holding 300 users and 120 groups with varied values, created through HTTP in parallel, and
/// what the tests expect of them (the seeded values and the <c>meta</c> the server returned). Read-only for tests.
/// </summary>
public sealed class SeededDirectory : IAsyncLifetime
{
    public const int UserCount = 300;
    public const int GroupCount = 120;

    private static readonly string[] FamilyNames = ["smith", "Smith", "Jones", "müller", "Müller", "Zhang", "ÄBERG", "aberg", "O'Brien", "de la Cruz", "Brown", "brown"];

    public GatewayFactory Gateway { get; } = GatewayFactory.With(new Dictionary<string, string?>
    {
        // The seeding and the page walks are many requests in a short time; this suite does not test rate limits.
        ["RateLimits:Default:PermitsPerSecond"] = "100000",
        ["RateLimits:Default:Burst"] = "100000",
    });

    public TestTenant Tenant { get; private set; } = null!;

    public HttpClient Scim { get; private set; } = null!;

    public IReadOnlyList<Seeded> Users { get; private set; } = [];

    public IReadOnlyList<Seeded> Groups { get; private set; } = [];

    public async Task InitializeAsync()
    {
        Tenant = await Gateway.CreateTenantAsync();
        Scim = Gateway.ScimClient(Tenant);
        using var throttle = new SemaphoreSlim(8);
        var users = await Task.WhenAll(Enumerable.Range(0, UserCount).Select(i => CreateAsync(throttle, "Users", UserBody(i), i)));
        var groups = await Task.WhenAll(Enumerable.Range(0, GroupCount).Select(j => CreateAsync(throttle, "Groups", GroupBody(j), j)));
        Users = users;
        Groups = groups;
    }

    public async Task DisposeAsync()
    {
        Scim.Dispose();
        await Gateway.DisposeAsync();
    }

    /// <summary>The users whose <paramref name="predicate"/> holds.</summary>
    public IEnumerable<Seeded> UsersWhere(Func<JsonObject, bool> predicate) => Users.Where(u => predicate(u.Body));

    /// <summary>The seeded <c>externalId</c> of user <paramref name="i"/>: shared by every 30th user (an index answers it).</summary>
    public static string Batch(int i) => $"batch-{i % 30:00}";

    private async Task<Seeded> CreateAsync(SemaphoreSlim throttle, string endpoint, JsonObject body, int index)
    {
        await throttle.WaitAsync();
        try
        {
            using var response = await Scim.PostAsync(endpoint, ScimTestClient.Body(body.ToJsonString()));
            var created = await response.ExpectScimAsync(HttpStatusCode.Created);
            return new Seeded(index, created["id"].Str(), created);
        }
        finally
        {
            throttle.Release();
        }
    }

    // userName varies in case and order against the index; familyName, title, department and emails are missing for some.
    private static JsonObject UserBody(int i)
    {
        var scrambled = (i * 7919) % UserCount;
        var userName = (i % 3) switch
        {
            0 => $"User{scrambled:000}@contoso.com",
            1 => $"user{scrambled:000}@CONTOSO.com",
            _ => $"uSER{scrambled:000}@contoso.com",
        };
        var body = new JsonObject
        {
            ["schemas"] = new JsonArray(EntraPayloads.CoreUserSchema, EntraPayloads.EnterpriseUserSchema),
            ["userName"] = userName,
            ["externalId"] = Batch(i),
            ["active"] = i % 3 != 0,
            ["displayName"] = $"Person {scrambled:000}",
        };
        if (i % 10 != 0)
        {
            body["name"] = new JsonObject { ["givenName"] = $"Given{i}", ["familyName"] = FamilyNames[i % FamilyNames.Length] };
        }

        if (i % 4 != 0)
        {
            body["title"] = $"{(i % 2 == 0 ? "engineer" : "Engineer")} {(i * 31) % 97:00}";
        }

        if (i % 5 != 0)
        {
            body[EntraPayloads.EnterpriseUserSchema] = new JsonObject { ["department"] = $"Dept {(char)('A' + (i % 26))}" };
        }

        if (i % 6 != 0)
        {
            // Even users: the primary email is the second one; odd users: no primary, the first one counts.
            body["emails"] = i % 2 == 0
                ? new JsonArray(
                    new JsonObject { ["type"] = "home", ["value"] = $"zz-home-{i:000}@example.com" },
                    new JsonObject { ["type"] = "work", ["value"] = $"work-{scrambled:000}@contoso.com", ["primary"] = true })
                : new JsonArray(
                    new JsonObject { ["type"] = "work", ["value"] = $"work-{scrambled:000}@contoso.com" },
                    new JsonObject { ["type"] = "home", ["value"] = $"aa-home-{i:000}@example.com" });
        }

        return body;
    }

    private static JsonObject GroupBody(int j) => new()
    {
        ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:Group"),
        ["displayName"] = $"{(j % 2 == 0 ? "group" : "Group")} {(j * 53) % GroupCount:000}",
        ["externalId"] = $"g-{j:000}",
    };
}

/// <summary>A seeded resource: its seed index, id and the body the create answered.</summary>
public sealed record Seeded(int Index, string Id, JsonObject Body)
{
    public DateTimeOffset Created => DateTimeOffset.Parse(Body["meta"]!["created"].Str(), CultureInfo.InvariantCulture);

    public DateTimeOffset LastModified => DateTimeOffset.Parse(Body["meta"]!["lastModified"].Str(), CultureInfo.InvariantCulture);

    /// <summary>A string at a dotted path (<c>name.familyName</c>), or null.</summary>
    public string? Text(params string[] path)
    {
        JsonNode? node = Body;
        foreach (var step in path)
        {
            node = node is JsonObject o ? o[step] : null;
        }

        return node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
    }
}
