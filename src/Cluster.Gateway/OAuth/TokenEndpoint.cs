using System.Text;
using System.Text.Json.Serialization;
using Cluster.Abstractions;
using Cluster.Gateway.Auth;
using Cluster.Gateway.Hosting;
using Cluster.Gateway.Http;
using Cluster.Gateway.Limits;
using Cluster.Gateway.RequestLog;
using Cluster.Gateway.Resilience;
using Cluster.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.OAuth;

/// <summary>
/// The OAuth surface (issue 13): <c>POST /oauth2/token</c>, the client credentials grant (RFC 6749 §4.4) with
/// <c>client_secret_basic</c> or <c>client_secret_post</c>, and <c>GET /.well-known/jwks.json</c>, the public keys access
/// tokens are signed with. Errors are RFC 6749 §5.2 bodies (<see cref="SurfaceErrors.OAuthError"/>), every answer
/// <c>Cache-Control: no-store</c>. What a token request costs: the checks of its form are in memory; the client id must name
/// an active client of its tenant in the gateway's credential cache (a tenant the gateway knows nothing about is looked up
/// under the client address's budget of failed lookups, like a bearer token); then a token bucket per client and address; only then
/// one grain call, which checks the secret with the tenant grain (a revoked secret fails at once) and signs the token.
/// </summary>
public static class TokenEndpoint
{
    public const string TokenPath = "/oauth2/token";
    public const string JwksPath = "/.well-known/jwks.json";

    /// <summary>Largest token request body: a few short parameters.</summary>
    public const int MaxBodyBytes = 8 * 1024;

    private const string ClientCredentials = "client_credentials";
    private const int MaxClientIdLength = 128;
    private const int MaxSecretLength = 256;

    private static readonly FormOptions Form = new() { ValueCountLimit = 32, KeyLengthLimit = 64, ValueLengthLimit = 4096, BufferBody = false };

    /// <summary>Maps the OAuth surface's endpoints.</summary>
    public static IEndpointRouteBuilder MapOAuth(this IEndpointRouteBuilder app)
    {
        var oauth = app.MapGroup(string.Empty).WithMetadata(new SurfaceMetadata(Surface.OAuth));
        oauth.MapPost(TokenPath, TokenAsync);
        oauth.MapGet(JwksPath, JwksAsync);
        return app;
    }

    /// <summary><c>{"access_token", "token_type", "expires_in"}</c> (RFC 6749 §5.1).</summary>
    public sealed record TokenResponse(
        [property: JsonPropertyName("access_token")] string AccessToken,
        [property: JsonPropertyName("token_type")] string TokenType,
        [property: JsonPropertyName("expires_in")] long ExpiresIn);

    private static async Task<IResult> TokenAsync(
        HttpContext context, TenantTokenValidator validator, OAuthClientLimiter limiter, IGrainFactory grains, GrainCallRetry retry,
        IOptions<OAuthOptions> oauth, IOptions<GatewayOptions> gateway, RequestLogCapture requestLog, ScimInstruments instruments, ILogger<TokenResponse> logger, RefusalLogBudget refusals)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var request = context.Request;
        if (!MediaTypeIsForm(request.ContentType))
        {
            return Error(400, "invalid_request", "The request body must be application/x-www-form-urlencoded.");
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = MaxBodyBytes;
        }

        IFormCollection form;
        using var bodyTimeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        bodyTimeout.CancelAfter(TimeSpan.FromSeconds(oauth.Value.BodyTimeoutSeconds));
        try
        {
            form = await new FormFeature(request, Form).ReadFormAsync(bodyTimeout.Token);
        }
        catch (InvalidDataException)
        {
            return Error(400, "invalid_request", "The request body is not a valid form.");
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            return Error(400, "invalid_request", $"The request body did not arrive within {oauth.Value.BodyTimeoutSeconds} seconds.");
        }

        // RFC 6749 §3.2: parameters must not repeat.
        if (form.Any(p => p.Value.Count > 1))
        {
            return Error(400, "invalid_request", "A parameter is repeated.");
        }

        var grantType = Single(form, "grant_type");
        if (string.IsNullOrEmpty(grantType))
        {
            return Error(400, "invalid_request", "grant_type is required.");
        }

        if (grantType != ClientCredentials)
        {
            return Error(400, "unsupported_grant_type", "Only the client_credentials grant is supported.");
        }

        if (form.ContainsKey("client_assertion") || form.ContainsKey("client_assertion_type"))
        {
            return InvalidClient("Client assertions are not supported: authenticate with client_secret_basic or client_secret_post.");
        }

        var (clientId, secret, problem) = ClientCredentialsOf(request, form);
        if (problem is not null)
        {
            return problem;
        }

        var tenantId = OAuthClientIds.TryParseTenant(clientId, out var owner) ? owner : "";
        var check = await validator.ValidateClientAsync(clientId, context.Connection.RemoteIpAddress);
        if (check.RetryAfter is { } wait)
        {
            instruments.LimitRejected(ScimInstruments.LimitReasons.FailedAuthentication, tenantId);
            return TooMany("Too many failed client authentications from this client address.", wait);
        }

        if (!check.IsValid)
        {
            GatewayLog.ClientRefused(logger, refusals, "unknown client");
            return InvalidClient("Client authentication failed.");
        }

        if (limiter.TryAcquire(clientId, context.Connection.RemoteIpAddress) is { } clientWait)
        {
            instruments.LimitRejected(ScimInstruments.LimitReasons.OAuthClient, tenantId);
            return TooMany("Too many token requests for this client.", clientWait);
        }

        var issued = await retry.ExecuteAsync(CallSafety.Read, () => grains.GetGrain<IAccessTokenIssuerGrain>(0).IssueAsync(new AccessTokenRequest(
            clientId, ClientSecrets.Hash(secret), oauth.Value.IssuerFor(request, gateway.Value), oauth.Value.Audience, oauth.Value.AccessTokenLifetime)));
        switch (issued.Outcome)
        {
            case ClientCheck.Valid:
                GatewayLog.AccessTokenIssued(logger, tenantId, clientId);
                SurfaceErrors.NotStored(context.Response);
                return Results.Json(new TokenResponse(issued.AccessToken!, "Bearer", (long)oauth.Value.AccessTokenLifetime.TotalSeconds));
            case ClientCheck.Suspended:
                GatewayLog.ClientRefused(logger, budget: null, "tenant suspended");
                return Error(400, "unauthorized_client", "This tenant is suspended: its provisioning is paused by the service's operator.");
            default:
                GatewayLog.ClientRefused(logger, refusals, "wrong secret");

                // Only an active client's: a made-up client id of an existing tenant (anyone who knows its Tenant URL can
                // make one) would tell the admin to mend a secret that does not exist.
                requestLog.TokenRefused(context, tenantId, clientId, System.Diagnostics.Stopwatch.GetElapsedTime(started));
                return InvalidClient("Client authentication failed.");
        }
    }

    private static async Task<IResult> JwksAsync(HttpContext context, SigningKeyCache keys)
    {
        var snapshot = await keys.GetAsync();
        context.Response.Headers.CacheControl = "public, max-age=60";
        return Results.Json(new
        {
            keys = snapshot.KeySet.Keys.Select(k => new { kty = k.Kty, crv = k.Crv, x = k.X, y = k.Y, kid = k.Kid, alg = k.Alg, use = k.Use }),
        });
    }

    // client_secret_basic (RFC 6749 §2.3.1: id and secret form-encoded, then Basic) or client_secret_post; never both.
    private static (string ClientId, string Secret, IResult? Problem) ClientCredentialsOf(HttpRequest request, IFormCollection form)
    {
        var postedId = Single(form, "client_id");
        var postedSecret = Single(form, "client_secret");
        var header = request.Headers.Authorization;
        if (header.Count > 1)
        {
            return ("", "", Error(400, "invalid_request", "Authorization is repeated."));
        }

        var authorization = header.ToString();
        if (authorization.Length > 0)
        {
            const string Basic = "Basic ";
            if (!authorization.StartsWith(Basic, StringComparison.OrdinalIgnoreCase) || !TryDecodeBasic(authorization[Basic.Length..].Trim(), out var id, out var secret))
            {
                return ("", "", InvalidClient("Client authentication failed: use HTTP Basic with the client id and secret (client_secret_basic), or client_secret_post."));
            }

            // A parameter sent empty is one not sent (RFC 6749 §3.2): some clients send client_id= and client_secret= with Basic.
            if (!string.IsNullOrEmpty(postedSecret) || (!string.IsNullOrEmpty(postedId) && postedId != id))
            {
                return ("", "", Error(400, "invalid_request", "Use one client authentication method: HTTP Basic or client_id and client_secret in the body, not both."));
            }

            return Checked(id, secret);
        }

        if (string.IsNullOrEmpty(postedId) || string.IsNullOrEmpty(postedSecret))
        {
            return ("", "", InvalidClient("Client authentication is required: client_secret_basic or client_secret_post."));
        }

        return Checked(postedId, postedSecret);
    }

    private static (string, string, IResult?) Checked(string clientId, string secret) =>
        clientId.Length is 0 or > MaxClientIdLength || secret.Length is 0 or > MaxSecretLength
            ? ("", "", InvalidClient("Client authentication failed."))
            : (clientId, secret, null);

    private static bool TryDecodeBasic(string encoded, out string clientId, out string secret)
    {
        (clientId, secret) = ("", "");
        if (encoded.Length is 0 or > 1024)
        {
            return false;
        }

        var bytes = new byte[encoded.Length];
        if (!Convert.TryFromBase64String(encoded, bytes, out var length))
        {
            return false;
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 0, length);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return false;
        }

        clientId = FormDecode(text[..colon]);
        secret = FormDecode(text[(colon + 1)..]);
        return true;
    }

    // application/x-www-form-urlencoded decoding (RFC 6749 Appendix B).
    private static string FormDecode(string value)
    {
        try
        {
            return Uri.UnescapeDataString(value.Replace('+', ' '));
        }
        catch (UriFormatException)
        {
            return "";
        }
    }

    private static string? Single(IFormCollection form, string name) => form.TryGetValue(name, out var value) && value.Count == 1 ? value[0] : null;

    private static bool MediaTypeIsForm(string? contentType) =>
        Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media)
        && media.MediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)
        && (!media.Charset.HasValue || media.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));

    private static SurfaceErrors.OAuthError Error(int status, string error, string description) => new(status, error, description);

    // RFC 6749 §5.2: 401, and WWW-Authenticate for the scheme the client may use.
    private static SurfaceErrors.OAuthError InvalidClient(string description) =>
        new(StatusCodes.Status401Unauthorized, "invalid_client", description, r => r.Headers.WWWAuthenticate = "Basic realm=\"oauth\"");

    private static SurfaceErrors.OAuthError TooMany(string reason, TimeSpan wait)
    {
        var seconds = ScimRateLimiting.RetryAfterSeconds(wait);
        return new(StatusCodes.Status429TooManyRequests, "temporarily_unavailable", $"{reason} Retry after {seconds} seconds.", r => r.Headers.RetryAfter = seconds);
    }
}
