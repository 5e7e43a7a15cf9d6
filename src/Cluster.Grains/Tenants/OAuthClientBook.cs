using System.Buffers.Text;
using System.Security.Cryptography;
using Cluster.Grains.State;

namespace Cluster.Grains.Tenants;

/// <summary>
/// A tenant's OAuth clients as values (issue 13): create a client, add, revoke and check secrets. Pure functions over the
/// stored records and a time, so the grain stays a thin commit loop and the rules are unit-tested without a cluster.
/// Expired secrets count as absent everywhere and are dropped by every write.
/// </summary>
public static class OAuthClientBook
{
    /// <summary>Most OAuth clients per tenant.</summary>
    public const int MaxClients = 10;

    /// <summary>The clients as they should be stored at <paramref name="now"/>: expired secrets dropped (new lists, the input is unchanged).</summary>
    public static List<OAuthClientRecord> Live(IReadOnlyList<OAuthClientRecord>? clients, DateTimeOffset now) =>
        [.. (clients ?? []).Select(c => new OAuthClientRecord { ClientId = c.ClientId, CreatedAt = c.CreatedAt, Secrets = [.. c.Secrets.Where(s => s.ExpiresAt > now)] })];

    /// <summary>A new client of <paramref name="tenantId"/> with its first secret.</summary>
    public static (OAuthClientRecord Client, IssuedClientSecret Secret) NewClient(string tenantId, DateTimeOffset now, TimeSpan lifetime)
    {
        var client = new OAuthClientRecord { ClientId = OAuthClientIds.New(tenantId), CreatedAt = now };
        var secret = AddSecret(client, now, lifetime);
        return (client, secret);
    }

    /// <summary>Adds a new secret (256 random bits) to <paramref name="client"/> and returns it, the only time it is seen.</summary>
    public static IssuedClientSecret AddSecret(OAuthClientRecord client, DateTimeOffset now, TimeSpan lifetime)
    {
        var secret = ClientSecrets.Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var record = new ClientSecretRecord
        {
            // Independent of the secret, so it can be shown and logged freely.
            Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)),
            Hash = ClientSecrets.Hash(secret),
            CreatedAt = now,
            ExpiresAt = now + lifetime,
        };
        client.Secrets.Add(record);
        return new IssuedClientSecret(client.ClientId, record.Id, secret, record.CreatedAt, record.ExpiresAt);
    }

    /// <summary>
    /// True when <paramref name="secretHash"/> is the hash of an active secret of <paramref name="client"/>: compared with
    /// every active secret's hash in constant time, without an early exit.
    /// </summary>
    public static bool Verify(OAuthClientRecord? client, ReadOnlySpan<byte> secretHash, DateTimeOffset now)
    {
        if (client is null || secretHash.Length != SHA256.HashSizeInBytes)
        {
            return false;
        }

        var valid = false;
        foreach (var secret in client.Secrets)
        {
            valid |= CryptographicOperations.FixedTimeEquals(secretHash, secret.Hash) & secret.ExpiresAt > now;
        }

        return valid;
    }

    /// <summary>The client's metadata at <paramref name="now"/> (active secrets only).</summary>
    public static OAuthClientInfo Info(OAuthClientRecord client, DateTimeOffset now) =>
        new(client.ClientId, client.CreatedAt, [.. client.Secrets.Where(s => s.ExpiresAt > now).Select(s => new ClientSecretInfo(s.Id, s.CreatedAt, s.ExpiresAt))]);
}
