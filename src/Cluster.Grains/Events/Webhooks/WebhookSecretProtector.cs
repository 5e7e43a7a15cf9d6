using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Cluster.Grains.Events.Webhooks;

/// <summary>
/// Encrypts webhook secrets for storage (design invariant 2: secrets are never stored in clear) with AES-256-GCM
/// under <see cref="EventsOptions.SecretKey"/>. The stored form describes itself:
/// <c>v1.&lt;key id&gt;.&lt;base64url(nonce ‖ tag ‖ ciphertext)&gt;</c>, where the key id is 8 hex characters derived
/// from the key (HMAC-SHA256 of a fixed label; it reveals nothing about the key). The version and key id let a later
/// release add key rotation (decrypt under the old key, re-encrypt under the new one) without guessing. The version,
/// key id and a caller-chosen <em>context</em> (the tenant id) are authenticated as associated data, so a stored
/// value copied to another tenant, or edited in any byte, fails to decrypt. Thread-safe.
/// </summary>
public sealed class WebhookSecretProtector
{
    /// <summary>The format version written by <see cref="Protect"/>.</summary>
    public const string Version = "v1";

    private const int NonceSize = 12;
    private const int TagSize = 16;

    private readonly byte[] _key;

    /// <summary>A protector under <see cref="EventsOptions.SecretKey"/> (validated at start-up by <c>AddScimEvents</c>).</summary>
    public WebhookSecretProtector(IOptions<EventsOptions> options)
        : this(EventsOptions.TryDecodeSecretKey(options.Value.SecretKey, out var key)
            ? key
            : throw new InvalidOperationException("Events:SecretKey is missing or is not the base64 of 32 bytes."))
    {
    }

    /// <summary>A protector under a 32-byte AES-256 key.</summary>
    public WebhookSecretProtector(ReadOnlySpan<byte> key)
    {
        if (key.Length != EventsOptions.KeySizeBytes)
        {
            throw new ArgumentException($"The key must be {EventsOptions.KeySizeBytes} bytes.", nameof(key));
        }

        _key = key.ToArray();
        KeyId = Convert.ToHexStringLower(HMACSHA256.HashData(_key, "scim-webhook-secret-key-id"u8)[..4]);
    }

    /// <summary>The key's id as written into protected values (8 hex characters).</summary>
    public string KeyId { get; }

    /// <summary>Encrypts <paramref name="secret"/>, bound to <paramref name="context"/> (pass the tenant id).</summary>
    public string Protect(string secret, string context)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        ArgumentNullException.ThrowIfNull(context);
        var plaintext = Encoding.UTF8.GetBytes(secret);
        try
        {
            var payload = new byte[NonceSize + TagSize + plaintext.Length];
            var nonce = payload.AsSpan(0, NonceSize);
            RandomNumberGenerator.Fill(nonce);
            using var aes = new AesGcm(_key, TagSize);
            aes.Encrypt(nonce, plaintext, payload.AsSpan(NonceSize + TagSize), payload.AsSpan(NonceSize, TagSize), AssociatedData(KeyId, context));
            return $"{Version}.{KeyId}.{Base64Url.EncodeToString(payload)}";
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>
    /// Decrypts what <see cref="Protect"/> returned for the same <paramref name="context"/>. Throws
    /// <see cref="CryptographicException"/> when the value is malformed, of an unknown version, encrypted under another
    /// key, bound to another context or altered in any way. Exception messages never contain the secret.
    /// </summary>
    public string Unprotect(string protectedSecret, string context)
    {
        ArgumentNullException.ThrowIfNull(protectedSecret);
        ArgumentNullException.ThrowIfNull(context);
        var parts = protectedSecret.Split('.');
        if (parts.Length != 3 || parts[0] != Version)
        {
            throw new CryptographicException("The stored webhook secret is not in a known format.");
        }

        if (parts[1] != KeyId)
        {
            throw new CryptographicException(
                $"The stored webhook secret was encrypted under key id {parts[1]}, not under this silo's Events:SecretKey (key id {KeyId}).");
        }

        byte[] payload;
        try
        {
            payload = Base64Url.DecodeFromChars(parts[2]);
        }
        catch (FormatException)
        {
            throw new CryptographicException("The stored webhook secret is not in a known format.");
        }

        if (payload.Length <= NonceSize + TagSize)
        {
            throw new CryptographicException("The stored webhook secret is not in a known format.");
        }

        var plaintext = new byte[payload.Length - NonceSize - TagSize];
        try
        {
            using var aes = new AesGcm(_key, TagSize);
            aes.Decrypt(payload.AsSpan(0, NonceSize), payload.AsSpan(NonceSize + TagSize), payload.AsSpan(NonceSize, TagSize), plaintext, AssociatedData(parts[1], context));
            return Encoding.UTF8.GetString(plaintext);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    private static byte[] AssociatedData(string keyId, string context) => Encoding.UTF8.GetBytes($"{Version}.{keyId}.{context}");
}
