using System.Buffers.Text;
using System.Security.Cryptography;

namespace Cluster.Grains.Events.Webhooks;

/// <summary>
/// Webhook signing secrets. A generated one is <c>whsec_</c> + 256 random bits (base64url, 49 characters in all);
/// it is returned once, by the call that sets it, and stored only encrypted (<see cref="WebhookSecretProtector"/>).
/// The HMAC key is the UTF-8 of the whole string, prefix included (<see cref="WebhookSignature"/>).
/// </summary>
public static class WebhookSecret
{
    /// <summary>Prefix of generated secrets, so a leaked one is recognisable (secret scanners, logs).</summary>
    public const string Prefix = "whsec_";

    /// <summary>Shortest secret an admin may choose (a generated one is 49 characters).</summary>
    public const int MinLength = 32;

    /// <summary>Longest secret an admin may choose.</summary>
    public const int MaxLength = 256;

    /// <summary>A new secret: <c>whsec_</c> + 32 random bytes, base64url without padding.</summary>
    public static string New() => Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// <c>null</c> when <paramref name="secret"/> may be used as an admin-chosen secret (32–256 visible ASCII characters:
    /// every receiver's HMAC library reads it the same way), else an error for the admin API's problem+json. Never
    /// echoes the secret.
    /// </summary>
    public static string? Validate(string? secret)
    {
        if (string.IsNullOrEmpty(secret))
        {
            return "secret must not be empty; omit it to have one generated.";
        }

        if (secret.Length is < MinLength or > MaxLength || !secret.All(c => c is >= '!' and <= '~'))
        {
            return $"secret must be {MinLength}–{MaxLength} visible ASCII characters (no spaces); omit it to have one generated.";
        }

        return null;
    }
}
