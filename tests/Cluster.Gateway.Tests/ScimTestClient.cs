using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>Requests the way Entra makes them, and assertions on SCIM responses.</summary>
internal static class ScimTestClient
{
    public const string ScimMediaType = "application/scim+json";

    /// <summary>A body with <c>Content-Type: application/scim+json</c>.</summary>
    public static StringContent Body(string json, string mediaType = ScimMediaType) => new(json, Encoding.UTF8, mediaType);

    /// <summary>
    /// <c>Users?filter=…</c> encoded as Entra encodes it: spaces as <c>+</c>, quotes as <c>%22</c> (entra-scim.md §1.3).
    /// </summary>
    public static string UsersFilter(string filter) => "Users?filter=" + Uri.EscapeDataString(filter).Replace("%20", "+", StringComparison.Ordinal);

    public static async Task<JsonObject> ReadJsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonNode.Parse(text) as JsonObject ?? throw new InvalidOperationException($"Not a JSON object: {text}");
    }

    /// <summary>Asserts status and <c>application/scim+json</c>, and returns the body.</summary>
    public static async Task<JsonObject> ExpectScimAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal(ScimMediaType, response.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(text) as JsonObject ?? throw new InvalidOperationException($"Not a JSON object: {text}");
    }

    /// <summary>Asserts an RFC 7644 §3.12 error envelope: schemas, <c>status</c> as a string, and <c>scimType</c>.</summary>
    public static async Task<JsonObject> ExpectScimErrorAsync(this HttpResponseMessage response, HttpStatusCode status, string? scimType = null)
    {
        var body = await response.ExpectScimAsync(status);
        Assert.Equal(EntraPayloads.ErrorSchema, Assert.Single(body["schemas"]!.AsArray())!.GetValue<string>());
        var statusNode = body["status"]!.AsValue();
        Assert.Equal(System.Text.Json.JsonValueKind.String, statusNode.GetValueKind());
        Assert.Equal(((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture), statusNode.GetValue<string>());
        if (scimType is not null)
        {
            Assert.Equal(scimType, body["scimType"]?.GetValue<string>());
        }

        // RFC 7644 §3.12 defines the keywords for 400, and §3.3 'uniqueness' for a 409 (Bulk's circular references are a
        // 409 invalidValue). A 412 carries 'preconditionFailed' (ETagTests check it with their own helper); no other status
        // here carries one.
        if (status is not (HttpStatusCode.BadRequest or HttpStatusCode.Conflict or HttpStatusCode.PreconditionFailed))
        {
            Assert.Null(body["scimType"]);
        }

        if (body["detail"] is { } detail)
        {
            Assert.False(string.IsNullOrWhiteSpace(detail.GetValue<string>()));
        }

        return body;
    }

    /// <summary>POSTs Entra's create body and returns the created user (asserting 201).</summary>
    public static async Task<JsonObject> PostUserAsync(this HttpClient scim, string body)
    {
        using var response = await scim.PostAsync("Users", Body(body));
        return await response.ExpectScimAsync(HttpStatusCode.Created);
    }

    public static Task<JsonObject> CreateUserAsync(this HttpClient scim, string userName, string? externalId = null, string? email = null) =>
        scim.PostUserAsync(EntraPayloads.CreateUser(userName, externalId ?? userName + "-ext", email ?? userName + "@example.com"));

    public static async Task<JsonObject> GetUserAsync(this HttpClient scim, string id)
    {
        using var response = await scim.GetAsync($"Users/{id}");
        return await response.ExpectScimAsync(HttpStatusCode.OK);
    }

    public static Task<HttpResponseMessage> PatchUserAsync(this HttpClient scim, string id, string body) =>
        scim.PatchAsync($"Users/{id}", Body(body));

    /// <summary>Runs a filter query and returns the ListResponse (asserting 200).</summary>
    public static async Task<JsonObject> FilterAsync(this HttpClient scim, string filter)
    {
        using var response = await scim.GetAsync(UsersFilter(filter));
        return await response.ExpectScimAsync(HttpStatusCode.OK);
    }

    /// <summary>The ids in a ListResponse.</summary>
    public static string[] Ids(this JsonObject listResponse) =>
        [.. listResponse["Resources"]!.AsArray().Select(r => r!["id"]!.GetValue<string>())];

    /// <summary>Asserts the exact shape of an empty ListResponse (Test Connection, rule 1).</summary>
    public static void AssertEmptyList(JsonObject body)
    {
        var expected = JsonNode.Parse($$"""
            {"schemas":["{{EntraPayloads.ListResponseSchema}}"],"totalResults":0,"Resources":[],"startIndex":1,"itemsPerPage":0}
            """);
        Assert.True(JsonNode.DeepEquals(expected, body), $"Not an empty ListResponse: {body.ToJsonString()}");
    }

    public static string Str(this JsonNode? node) => node?.GetValue<string>() ?? throw new InvalidOperationException("Missing string value.");
}
