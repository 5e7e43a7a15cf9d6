using System.Buffers.Text;
using System.Security.Cryptography;

namespace Cluster.Abstractions;

/// <summary>
/// A customer tenant: its profile and its SCIM bearer tokens. Tokens are stored only as SHA-256 hashes;
/// the secret is returned once, when issued. Several tokens may be valid at once, for rotation.
/// Key: <see cref="GrainKeys.Tenant"/>.
/// </summary>
[Alias("scim.ITenantGrain")]
public partial interface ITenantGrain : IGrainWithStringKey
{
    /// <summary>Creates the tenant and issues its first token. Returns null when the tenant already exists.</summary>
    [Alias("Create")]
    Task<IssuedToken?> CreateAsync(string name);

    /// <summary>The tenant's profile and token metadata (never secrets), or null when it does not exist.</summary>
    [Alias("GetInfo"), ReadOnly]
    Task<TenantInfo?> GetInfoAsync();

    /// <summary>Issues a new token; existing tokens stay valid. Null when the tenant does not exist.</summary>
    [Alias("IssueToken")]
    Task<IssuedToken?> IssueTokenAsync();

    /// <summary>Revokes a token. False when the tenant or token does not exist.</summary>
    [Alias("RevokeToken")]
    Task<bool> RevokeTokenAsync(string tokenId);

    /// <summary>
    /// Renames (<paramref name="name"/>) and suspends or resumes (<paramref name="suspended"/>) the tenant; null leaves a field
    /// as it is. A suspended tenant's SCIM calls are refused (403) and change nothing; resuming restores everything. Null
    /// when the tenant does not exist.
    /// </summary>
    [Alias("Update")]
    Task<TenantInfo?> UpdateAsync(string? name, bool? suspended);

    /// <summary>What a gateway needs to check bearer tokens in memory: the hashes of the valid tokens.</summary>
    [Alias("GetCredentials"), ReadOnly]
    Task<TenantCredentials> GetCredentialsAsync();

    /// <summary>
    /// Creates an OAuth client (issue 13) with its first secret, valid for <paramref name="secretLifetime"/>. The secret is
    /// returned once and stored as its SHA-256.
    /// </summary>
    [Alias("CreateOAuthClient")]
    Task<OAuthClientResult> CreateOAuthClientAsync(TimeSpan secretLifetime);

    /// <summary>Adds a secret to a client, for rotation: its other secrets stay valid; at most <see cref="ClientSecrets.MaxActive"/> active.</summary>
    [Alias("AddClientSecret")]
    Task<OAuthClientResult> AddClientSecretAsync(string clientId, TimeSpan secretLifetime);

    /// <summary>Revokes (removes) one secret: it yields no new access token from this call on. False when there is no such secret.</summary>
    [Alias("RevokeClientSecret")]
    Task<bool> RevokeClientSecretAsync(string clientId, string secretId);

    /// <summary>
    /// Revokes a client: it yields no new access token, and the access tokens it holds fail on every gateway within
    /// <c>Gateway:TokenCacheSeconds</c>. False when there is no such client.
    /// </summary>
    [Alias("RevokeOAuthClient")]
    Task<bool> RevokeOAuthClientAsync(string clientId);

    /// <summary>The tenant's OAuth clients and their active secrets' metadata (no secrets); null when the tenant does not exist.</summary>
    [Alias("GetOAuthClients"), ReadOnly]
    Task<IReadOnlyList<OAuthClientInfo>?> GetOAuthClientsAsync();

    /// <summary>Checks a presented client secret (as its SHA-256) in constant time against the client's active secrets.</summary>
    [Alias("VerifyClientSecret"), ReadOnly]
    Task<ClientCheck> VerifyClientSecretAsync(string clientId, byte[] secretHash);
}

/// <summary>A token as issued: the secret is shown once and never stored.</summary>
[GenerateSerializer, Immutable, Alias("scim.IssuedToken")]
public sealed record IssuedToken(
    [property: Id(0)] string Id,
    [property: Id(1)] string Secret,
    [property: Id(2)] DateTimeOffset CreatedAt);

/// <summary>Token metadata without the secret.</summary>
[GenerateSerializer, Immutable, Alias("scim.TokenInfo")]
public sealed record TokenInfo(
    [property: Id(0)] string Id,
    [property: Id(1)] DateTimeOffset CreatedAt);

/// <summary>A tenant's profile.</summary>
[GenerateSerializer, Immutable, Alias("scim.TenantInfo")]
public sealed record TenantInfo(
    [property: Id(0)] string TenantId,
    [property: Id(1)] string Name,
    [property: Id(2)] DateTimeOffset CreatedAt,
    [property: Id(3)] IReadOnlyList<TokenInfo> Tokens,
    [property: Id(4)] bool Suspended = false);

/// <summary>
/// What a gateway needs to authenticate a tenant's requests in memory: the SHA-256 hashes of its valid tokens (empty when
/// the tenant does not exist), whether it is suspended (its credentials still authenticate; its SCIM calls get 403), and
/// the ids of its active OAuth clients (an access token is accepted only while its client is among them).
/// </summary>
[GenerateSerializer, Immutable, Alias("scim.TenantCredentials")]
public sealed record TenantCredentials(
    [property: Id(0)] bool Exists,
    [property: Id(1)] IReadOnlyList<byte[]> TokenHashes,
    [property: Id(2)] bool Suspended = false,
    [property: Id(10)] IReadOnlyList<string>? OAuthClientIds = null)
{
    /// <summary>True when <paramref name="clientId"/> is an active OAuth client of this tenant.</summary>
    public bool HasOAuthClient(string clientId) => OAuthClientIds is { } ids && ids.Contains(clientId, StringComparer.Ordinal);
}

/// <summary>The form of a setup link's secret: <c>psl_</c> and 32 random bytes in base64url (43 characters).</summary>
public static class SetupLinkSecrets
{
    /// <summary>Prefix of every link secret, so a leaked one is easy to recognise.</summary>
    public const string Prefix = "psl_";

    private const int RandomBytes = 32;

    /// <summary>A new secret.</summary>
    public static string New() => Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(RandomBytes));

    /// <summary>Whether <paramref name="secret"/> has the form <see cref="New"/> gives (a made-up string costs no lookup).</summary>
    public static bool IsWellFormed(string? secret) =>
        secret?.Length == Prefix.Length + Base64Url.GetEncodedLength(RandomBytes) && secret.StartsWith(Prefix, StringComparison.Ordinal)
        && Base64Url.IsValid(secret.AsSpan(Prefix.Length), out var bytes) && bytes == RandomBytes;
}

/// <summary>
/// A tenant's access to the customer portal (issue 14): its setup links. A link's secret is shown once, in the URL the
/// operator hands to the customer's admin, and stored only as its SHA-256 hash. Key: <see cref="GrainKeys.PortalAccess"/>.
/// </summary>
[Alias("scim.IPortalAccessGrain")]
public interface IPortalAccessGrain : IGrainWithStringKey
{
    /// <summary>A new setup link valid for <paramref name="lifetime"/>; null when the tenant has too many active links.</summary>
    [Alias("CreateLink")]
    Task<SetupLink?> CreateLinkAsync(TimeSpan lifetime);

    /// <summary>Revokes every setup link (sessions opened with them end within seconds). The number revoked.</summary>
    [Alias("RevokeLinks")]
    Task<int> RevokeLinksAsync();

    /// <summary>The id of the active link whose secret is <paramref name="secret"/>, or null (unknown, revoked or expired).</summary>
    [Alias("Redeem")]
    Task<string?> RedeemAsync(string secret);

    /// <summary>True while the link with this id is active (not revoked, not expired).</summary>
    [Alias("IsActive"), ReadOnly]
    Task<bool> IsActiveAsync(string linkId);

    /// <summary>Erases every link (tenant offboarding).</summary>
    [Alias("Erase")]
    Task EraseAsync();
}

/// <summary>A setup link as created: its secret is shown once and never stored.</summary>
[GenerateSerializer, Immutable, Alias("scim.SetupLink")]
public sealed record SetupLink(
    [property: Id(0)] string Id,
    [property: Id(1)] string Secret,
    [property: Id(2)] DateTimeOffset ExpiresAt);

/// <summary>
/// The gateways' shared ASP.NET Core Data Protection key ring (the keys that sign and encrypt portal session cookies and
/// antiforgery tokens), so that a session opened on one gateway is valid on every other and survives restarts. One grain for
/// the cluster: <see cref="GrainKeys.DataProtectionKeyRing"/>. The silo stores each key's XML encrypted under its at-rest key.
/// </summary>
[Alias("scim.IDataProtectionKeyRingGrain")]
public interface IDataProtectionKeyRingGrain : IGrainWithStringKey
{
    /// <summary>Every stored key element's XML, in the order stored.</summary>
    [Alias("GetElements"), ReadOnly]
    Task<IReadOnlyList<string>> GetElementsAsync();

    /// <summary>Stores a key element under its friendly name (a name already stored is kept as it is).</summary>
    [Alias("StoreElement")]
    Task StoreElementAsync(string name, string xml);
}
