using System.ComponentModel.DataAnnotations;

namespace Cluster.Grains.OAuth;

/// <summary>How silos rotate the access-token signing keys. Section <c>OAuth</c> (the gateway reads its own keys of it).</summary>
public sealed class SigningKeyOptions
{
    public const string SectionName = "OAuth";

    /// <summary>
    /// How long one key signs before the next takes over (default 30 days; fractions for tests). A retired key stays
    /// published until every token it signed has expired.
    /// </summary>
    [Range(0.0001, 365)]
    public double SigningKeyRotationDays { get; set; } = 30;

    /// <summary>The rotation period as a time span.</summary>
    public TimeSpan RotationPeriod => TimeSpan.FromDays(SigningKeyRotationDays);
}
