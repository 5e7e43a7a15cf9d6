using System.Security.Cryptography;
using System.Text;

namespace Cluster.Abstractions;

/// <summary>
/// OAuth 2.0 client ids (issue 13): the one place that builds them and reads their tenant back. A client id is
/// <c>scimc_{tenantId}.{96 random bits as 24 hex}</c>, so the token endpoint knows which tenant grain to ask without a
/// registry. Client ids are not secret (they are shown in Entra and in logs); what a client id names is only ever checked
/// against the tenant it names, so a made-up one costs at most that tenant's in-memory check (docs/architecture.md,
/// "OAuth 2.0 client credentials").
/// </summary>
public static class OAuthClientIds
{
    /// <summary>Prefix of every client id.</summary>
    public const string Prefix = "scimc_";

    private const int RandomHexChars = 24;

    /// <summary>A new client id of <paramref name="tenantId"/>.</summary>
    public static string New(string tenantId) =>
        Prefix + GrainKeys.Tenant(tenantId) + "." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(RandomHexChars / 2));

    /// <summary>The tenant a well-formed client id names; false for anything else.</summary>
    public static bool TryParseTenant(string? clientId, out string tenantId)
    {
        tenantId = "";
        if (clientId is null || clientId.Length > Prefix.Length + 64 + 1 + RandomHexChars || !clientId.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = clientId.AsSpan(Prefix.Length);
        var dot = rest.LastIndexOf('.');
        if (dot <= 0 || rest.Length - dot - 1 != RandomHexChars)
        {
            return false;
        }

        foreach (var c in rest[(dot + 1)..])
        {
            if (!char.IsAsciiHexDigitLower(c))
            {
                return false;
            }
        }

        var tenant = rest[..dot].ToString();
        if (!GrainKeys.IsValidId(tenant))
        {
            return false;
        }

        tenantId = tenant;
        return true;
    }
}

/// <summary>Client secrets: <c>scimcs_</c> + 256 random bits; stored and compared only as their SHA-256.</summary>
public static class ClientSecrets
{
    /// <summary>Prefix of every client secret, so a leaked one is easy to recognise in scanners.</summary>
    public const string Prefix = "scimcs_";

    /// <summary>Most secrets a client holds at once (rotation needs two).</summary>
    public const int MaxActive = 5;

    /// <summary>Lifetime of a secret when the admin names none: one year.</summary>
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromDays(365);

    /// <summary>Longest lifetime an admin may choose (Entra's guidance: 1–3 years).</summary>
    public const int MaxLifetimeDays = 3 * 365;

    /// <summary>The SHA-256 of a presented secret: what the gateway sends to the tenant grain instead of the secret.</summary>
    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}

/// <summary>Names shared by the silos that sign access tokens and the gateways that validate them.</summary>
public static class AccessTokenClaims
{
    /// <summary>The tenant the token is bound to.</summary>
    public const string Tenant = "tenant_id";

    /// <summary>The client the token was issued to (RFC 9068 §2.2; also <c>sub</c>).</summary>
    public const string ClientId = "client_id";

    /// <summary>The JWT <c>typ</c> of an access token (RFC 9068 §2.1).</summary>
    public const string TokenType = "at+jwt";

    /// <summary>The only signing algorithm: ECDSA P-256 with SHA-256.</summary>
    public const string Algorithm = "ES256";

    /// <summary>The longest access-token lifetime any gateway may configure (<c>OAuth:AccessTokenMinutes</c> ≤ 360): signing keys stay published at least this long after they stop signing.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromMinutes(360);
}

/// <summary>A client secret as issued: shown once and never stored.</summary>
[GenerateSerializer, Immutable, Alias("scim.IssuedClientSecret")]
public sealed record IssuedClientSecret(
    [property: Id(0)] string ClientId,
    [property: Id(1)] string SecretId,
    [property: Id(2)] string Secret,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] DateTimeOffset ExpiresAt);

/// <summary>How a request to create a client or add a secret ended.</summary>
[GenerateSerializer, Alias("scim.OAuthClientOutcome")]
public enum OAuthClientOutcome
{
    /// <summary>Created; <see cref="OAuthClientResult.Secret"/> holds the secret.</summary>
    Issued = 0,

    /// <summary>No such tenant (or client).</summary>
    NotFound = 1,

    /// <summary>The tenant has its most clients, or the client its most active secrets.</summary>
    TooMany = 2,
}

/// <summary>The answer to creating a client or adding a secret.</summary>
[GenerateSerializer, Immutable, Alias("scim.OAuthClientResult")]
public sealed record OAuthClientResult(
    [property: Id(0)] OAuthClientOutcome Outcome,
    [property: Id(1)] IssuedClientSecret? Secret = null);

/// <summary>A client secret's metadata (never the secret).</summary>
[GenerateSerializer, Immutable, Alias("scim.ClientSecretInfo")]
public sealed record ClientSecretInfo(
    [property: Id(0)] string SecretId,
    [property: Id(1)] DateTimeOffset CreatedAt,
    [property: Id(2)] DateTimeOffset ExpiresAt);

/// <summary>An OAuth client and its active secrets' metadata.</summary>
[GenerateSerializer, Immutable, Alias("scim.OAuthClientInfo")]
public sealed record OAuthClientInfo(
    [property: Id(0)] string ClientId,
    [property: Id(1)] DateTimeOffset CreatedAt,
    [property: Id(2)] IReadOnlyList<ClientSecretInfo> Secrets);

/// <summary>What the tenant grain says of a presented client secret.</summary>
[GenerateSerializer, Alias("scim.ClientCheck")]
public enum ClientCheck
{
    /// <summary>An active secret of an active client of a tenant that is not suspended.</summary>
    Valid = 0,

    /// <summary>No such tenant, client or active secret: <c>invalid_client</c>.</summary>
    Invalid = 1,

    /// <summary>A valid secret of a suspended tenant's client: <c>unauthorized_client</c>.</summary>
    Suspended = 2,
}

/// <summary>
/// The cluster's access-token signing keys (issue 13): ECDSA P-256 key pairs, private parts encrypted at rest, rotated on a
/// schedule. A new key is published a lead time before it signs, and stays published until every token it signed has
/// expired. One grain for the cluster: <see cref="GrainKeys.SigningKeySet"/>.
/// </summary>
[Alias("scim.ISigningKeySetGrain")]
public interface ISigningKeySetGrain : IGrainWithStringKey
{
    /// <summary>Every published key's public part (the JWKS): the one signing now, the next one, and retired ones whose tokens may still live.</summary>
    [Alias("GetPublicKeys")]
    Task<IReadOnlyList<PublicSigningKey>> GetPublicKeysAsync();

    /// <summary>The key that signs now, with its private part still encrypted (silos only).</summary>
    [Alias("GetSigningKey")]
    Task<SigningKeyMaterial> GetSigningKeyAsync();
}

/// <summary>The public part of a P-256 signing key: its coordinates, base64url, and when it starts (or started) signing.</summary>
[GenerateSerializer, Immutable, Alias("scim.PublicSigningKey")]
public sealed record PublicSigningKey(
    [property: Id(0)] string KeyId,
    [property: Id(1)] string X,
    [property: Id(2)] string Y,
    [property: Id(3)] DateTimeOffset SignsFrom);

/// <summary>The signing key: public part, the private scalar as stored (encrypted), and when the signer should ask again.</summary>
[GenerateSerializer, Immutable, Alias("scim.SigningKeyMaterial")]
public sealed record SigningKeyMaterial(
    [property: Id(0)] PublicSigningKey Key,
    [property: Id(1)] string ProtectedPrivateKey,
    [property: Id(2)] DateTimeOffset RefreshAt);

/// <summary>
/// Issues access tokens (a stateless worker on every silo, so signing scales with silos and private keys never leave them):
/// checks the client secret with the client's tenant grain, then signs a JWT with the current key.
/// </summary>
[Alias("scim.IAccessTokenIssuerGrain")]
public interface IAccessTokenIssuerGrain : IGrainWithIntegerKey
{
    [Alias("Issue")]
    Task<AccessTokenResult> IssueAsync(AccessTokenRequest request);
}

/// <summary>
/// A token request the gateway has parsed: the client id, the SHA-256 of the presented secret (the secret itself never
/// leaves the gateway), and the issuer, audience and lifetime the gateway validates with.
/// </summary>
[GenerateSerializer, Immutable, Alias("scim.AccessTokenRequest")]
public sealed record AccessTokenRequest(
    [property: Id(0)] string ClientId,
    [property: Id(1)] byte[] SecretHash,
    [property: Id(2)] string Issuer,
    [property: Id(3)] string Audience,
    [property: Id(4)] TimeSpan Lifetime);

/// <summary>An issued access token (when <see cref="Outcome"/> is <see cref="ClientCheck.Valid"/>) and its expiry.</summary>
[GenerateSerializer, Immutable, Alias("scim.AccessTokenResult")]
public sealed record AccessTokenResult(
    [property: Id(0)] ClientCheck Outcome,
    [property: Id(1)] string? AccessToken = null,
    [property: Id(2)] DateTimeOffset ExpiresAt = default);
