using Cluster.Grains.State;

namespace Cluster.Grains.OAuth;

/// <summary>
/// When signing keys start, stop and disappear (docs/architecture.md, "OAuth 2.0 client credentials"). Pure: the
/// grain asks it what to do at a time and does it.
/// <list type="bullet">
/// <item>The key that signs is the newest whose <c>SignsFrom</c> has come; it signs until the next key's.</item>
/// <item>A new key is made <see cref="Lead"/> before the current one has signed for the rotation period, and starts to
/// sign only then: gateways refresh their key set more often than that (<c>SigningKeyCache.RefreshInterval</c>), so they
/// know it before the first token it signs arrives (an unknown key id also makes a gateway refresh at once).</item>
/// <item>A key that stopped signing stays published for <see cref="AccessTokenClaims.MaxLifetime"/> plus
/// <see cref="Margin"/>, longer than any token it signed can live, then is dropped.</item>
/// </list>
/// </summary>
public sealed class SigningKeySchedule(TimeSpan rotation)
{
    /// <summary>How long before it signs a new key is published: an hour, or a quarter of a short test rotation.</summary>
    public TimeSpan Lead { get; } = TimeSpan.FromTicks(Math.Min(TimeSpan.FromHours(1).Ticks, rotation.Ticks / 4));

    /// <summary>Kept on top of the longest token lifetime (clock skew between silos and gateways).</summary>
    public static readonly TimeSpan Margin = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The keys to keep at <paramref name="now"/> (sorted by <c>SignsFrom</c>), and when a new key must start signing
    /// (null: no new key is needed yet).
    /// </summary>
    public (List<SigningKeyRecord> Keep, DateTimeOffset? NewKeySignsFrom) Plan(IReadOnlyList<SigningKeyRecord> keys, DateTimeOffset now)
    {
        var sorted = keys.OrderBy(k => k.SignsFrom).ToList();
        var keep = new List<SigningKeyRecord>(sorted.Count);
        for (var i = 0; i < sorted.Count; i++)
        {
            // A key is retired once a later key signs; it is dropped when its last token has expired.
            var retiredAt = i + 1 < sorted.Count && sorted[i + 1].SignsFrom <= now ? sorted[i + 1].SignsFrom : (DateTimeOffset?)null;
            if (retiredAt is null || now < retiredAt + AccessTokenClaims.MaxLifetime + Margin)
            {
                keep.Add(sorted[i]);
            }
        }

        if (keep.Count == 0)
        {
            // The first key signs at once: no token exists yet, and gateways that do not know it refresh on its id.
            return (keep, now);
        }

        var newest = keep[^1];
        if (newest.SignsFrom <= now && now >= newest.SignsFrom + rotation - Lead)
        {
            var from = newest.SignsFrom + rotation;
            return (keep, from > now + Lead ? from : now + Lead);
        }

        return (keep, null);
    }

    /// <summary>The key that signs at <paramref name="now"/> among <paramref name="keys"/> (sorted), and when that may change.</summary>
    public static (SigningKeyRecord Key, DateTimeOffset? Until) Current(IReadOnlyList<SigningKeyRecord> keys, DateTimeOffset now)
    {
        var index = keys.Count - 1;
        while (index > 0 && keys[index].SignsFrom > now)
        {
            index--;
        }

        return (keys[index], index + 1 < keys.Count ? keys[index + 1].SignsFrom : null);
    }
}
