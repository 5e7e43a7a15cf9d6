using System.Net;
using System.Text.Json.Nodes;

namespace Cluster.Gateway.Tests;

/// <summary>Assertions on OAuth responses (RFC 6749 §5.1, §5.2).</summary>
internal static class OAuthAssertions
{
    /// <summary>Asserts an RFC 6749 §5.2 error: status, <c>error</c>, a description, JSON, <c>Cache-Control: no-store</c>; returns the body.</summary>
    public static async Task<JsonObject> ExpectOAuthErrorAsync(this HttpResponseMessage response, HttpStatusCode status, string error)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString() ?? "", StringComparison.Ordinal);
        var body = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(error, body["error"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(body["error_description"]!.GetValue<string>()));
        Assert.Equal(["error", "error_description"], body.Select(p => p.Key).Order(StringComparer.Ordinal));

        // RFC 6749 §5.2: error_description is printable ASCII without '"' or '\'.
        Assert.All(body["error_description"]!.GetValue<string>(), c => Assert.True(c is >= ' ' and <= '~' && c != '"' && c != '\\', $"character {(int)c}"));
        if (status == HttpStatusCode.Unauthorized)
        {
            Assert.Equal("Basic", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        }

        return body;
    }

    /// <summary>Asserts a token response (RFC 6749 §5.1) and returns the access token.</summary>
    public static async Task<string> ExpectTokenAsync(this HttpResponseMessage response, int expiresIn = 3600)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"Expected 200, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString() ?? "", StringComparison.Ordinal);
        var body = JsonNode.Parse(text)!.AsObject();
        Assert.Equal("Bearer", body["token_type"]!.GetValue<string>());
        Assert.Equal(expiresIn, body["expires_in"]!.GetValue<int>());
        return body["access_token"]!.GetValue<string>();
    }
}
