using System.ComponentModel.DataAnnotations;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Cluster.Grains.Events;

/// <summary>
/// The per-tenant event feed and its webhooks. Section <c>Events</c> (environment: <c>Events__SecretKey</c>, ...).
/// Registered and validated at start-up by <c>AddScimEvents</c>.
/// </summary>
public sealed class EventsOptions : IValidatableObject
{
    public const string SectionName = "Events";

    /// <summary>Size of the decoded <see cref="SecretKey"/>: an AES-256 key.</summary>
    public const int KeySizeBytes = 32;

    /// <summary>
    /// How many days events stay readable in a tenant's feed. Default 30; fractions are allowed (at least 0.0001 day, about
    /// 9 s, for tests), and never less than <see cref="WebhookRetryDays"/>. Whole pages older than this are erased, and a cursor before them answers 410.
    /// </summary>
    [Range(0.0001, 365)]
    public double RetentionDays { get; set; } = 30;

    /// <summary>
    /// Development only. <c>true</c> allows plain <c>http://</c> webhook URLs and loopback, private and link-local
    /// targets (<c>deploy/local/run.sh</c> sets it); <c>false</c> (default) allows only <c>https://</c> URLs whose
    /// host resolves to public addresses.
    /// </summary>
    public bool AllowInsecureWebhooks { get; set; }

    /// <summary>
    /// How long an undelivered event is retried before it is parked, in days. Default 3 (more than 0, at most 30, and at most
    /// <see cref="RetentionDays"/>: the events waiting behind one being retried must still be in the feed when it is parked).
    /// </summary>
    [Range(0d, 30d, MinimumIsExclusive = true)]
    public double WebhookRetryDays { get; set; } = 3;

    /// <summary>
    /// How long one delivery attempt may take, connection and response headers included, in seconds; an attempt
    /// that takes longer counts as failed (<c>timeout</c>). Default 10 (1–60).
    /// </summary>
    [Range(1, 60)]
    public int WebhookTimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// The key that encrypts webhook secrets at rest (AES-256-GCM): base64 of 32 random bytes, e.g. the output of
    /// <c>head -c 32 /dev/urandom | base64</c>. Required wherever <c>AddScimEvents</c> runs (the silos): there is no
    /// safe default, because every silo must decrypt what any other silo stored, before and after a restart. Every
    /// silo of a cluster gets the same value. Losing it makes stored webhook secrets unreadable (admins then set new ones).
    /// </summary>
    [Required(ErrorMessage = "Events:SecretKey (environment Events__SecretKey) is required on silos: it encrypts webhook secrets at rest. "
        + "Set it to the base64 of 32 random bytes (head -c 32 /dev/urandom | base64), the same on every silo.")]
    [SecretKey]
    public string SecretKey { get; set; } = "";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // A webhook sends in order: while its oldest undelivered event is retried, the events behind it wait in the feed.
        // Were they erased first, the webhook would skip them (they would exist nowhere any more) when delivery resumed.
        if (WebhookRetryDays > RetentionDays)
        {
            yield return new ValidationResult(
                $"Events:WebhookRetryDays ({WebhookRetryDays}) must not exceed Events:RetentionDays ({RetentionDays}): events waiting behind "
                + "one that is being retried would be erased from the feed before they are sent.",
                [nameof(WebhookRetryDays), nameof(RetentionDays)]);
        }
    }

    /// <summary>A fresh <see cref="SecretKey"/> value (base64 of 32 random bytes), for tests and tooling.</summary>
    public static string NewSecretKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeySizeBytes));

    /// <summary>Decodes a <see cref="SecretKey"/> value; <c>false</c> unless it is standard base64 of exactly 32 bytes.</summary>
    public static bool TryDecodeSecretKey(string? value, [NotNullWhen(true)] out byte[]? key)
    {
        key = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        var buffer = new byte[value.Length];
        if (!Convert.TryFromBase64String(value.Trim(), buffer, out var written) || written != KeySizeBytes)
        {
            return false;
        }

        key = buffer[..KeySizeBytes];
        return true;
    }

    /// <summary>Validates the format of <see cref="SecretKey"/> when it is set (<see cref="RequiredAttribute"/> handles the empty case).</summary>
    [AttributeUsage(AttributeTargets.Property)]
    private sealed class SecretKeyAttribute : ValidationAttribute
    {
        protected override ValidationResult? IsValid(object? value, ValidationContext validationContext) =>
            value is not string text || string.IsNullOrEmpty(text) || TryDecodeSecretKey(text, out _)
                ? ValidationResult.Success
                : new ValidationResult(
                    "Events:SecretKey must be the base64 of exactly 32 random bytes (44 characters ending in '='), e.g. head -c 32 /dev/urandom | base64.",
                    [validationContext.MemberName ?? nameof(SecretKey)]);
    }
}
