using System.ComponentModel.DataAnnotations;
using Cluster.Gateway.Hosting;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.OAuth;

/// <summary>OAuth 2.0 client credentials on the gateway (issue 13). Section <c>OAuth</c>; validated at start-up.</summary>
public sealed class OAuthOptions
{
    public const string SectionName = "OAuth";

    /// <summary>Lifetime of an access token, in minutes: 60–360 (Microsoft's gallery validation checks that range). Default 60.</summary>
    [Range(60, 360)]
    public int AccessTokenMinutes { get; set; } = 60;

    /// <summary>
    /// <c>iss</c> of access tokens, an absolute http(s) URL. Empty: <c>Gateway:PublicBaseUrl</c>, else each request's
    /// scheme and host (then a token is accepted only through the host name it was issued through).
    /// </summary>
    public string Issuer { get; set; } = "";

    /// <summary><c>aud</c> of access tokens: a fixed audience (Entra does not inspect it). Default <c>scim</c>.</summary>
    [Required, MinLength(1), MaxLength(200)]
    public string Audience { get; set; } = "scim";

    /// <summary>
    /// Longest time the body of a token request may take to arrive, in seconds: 1–300. Default 5 (Entra's is a few hundred
    /// bytes, sent at once): a sender dribbling it holds one of the OAuth slots for at most this long, not for the ~40 s
    /// Kestrel's minimum data rate allows.
    /// </summary>
    [Range(1, 300)]
    public int BodyTimeoutSeconds { get; set; } = 5;

    /// <summary>The access-token lifetime as a time span.</summary>
    public TimeSpan AccessTokenLifetime => TimeSpan.FromMinutes(AccessTokenMinutes);

    /// <summary>The issuer for a request: <see cref="Issuer"/>, else <c>Gateway:PublicBaseUrl</c>, else the request's base URL.</summary>
    public string IssuerFor(HttpRequest request, GatewayOptions gateway) =>
        Issuer.Length > 0 ? Issuer.TrimEnd('/') : Querying.ScimUrls.PublicRoot(request, gateway);
}

/// <summary>Start-up checks of <see cref="OAuthOptions"/> beyond its attributes.</summary>
public sealed class OAuthOptionsValidator : IValidateOptions<OAuthOptions>
{
    public ValidateOptionsResult Validate(string? name, OAuthOptions options) =>
        options.Issuer.Length == 0 || (Uri.TryCreate(options.Issuer, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http" && uri.Query.Length == 0 && uri.Fragment.Length == 0)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("OAuth:Issuer must be empty or an absolute http(s) URL without query or fragment, e.g. https://scim.example.com.");
}
