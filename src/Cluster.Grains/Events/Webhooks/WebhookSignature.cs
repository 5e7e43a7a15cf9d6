using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Cluster.Grains.Events.Webhooks;

/// <summary>
/// The <c>Scim-Signature</c> header of a webhook request: <c>t=&lt;unix seconds&gt;,v1=&lt;hex&gt;</c>, where the hex is the
/// lowercase HMAC-SHA256 of <c>"&lt;t&gt;." + raw body</c> keyed with the UTF-8 bytes of the whole webhook secret
/// (its <c>whsec_</c> prefix included). The timestamp is signed too, so a captured request cannot be replayed later
/// than the receiver's tolerance. Receivers verify with <see cref="Verify"/> (or the same few lines in their language).
/// </summary>
public static class WebhookSignature
{
    /// <summary>The request header that carries the signature.</summary>
    public const string HeaderName = "Scim-Signature";

    /// <summary>The only signature scheme so far: HMAC-SHA256.</summary>
    public const string Scheme = "v1";

    /// <summary>A sensible receiver tolerance between the signed timestamp and its own clock (5 minutes either way).</summary>
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    private const int MacSize = 32;

    /// <summary>The header value for <paramref name="rawBody"/> signed with <paramref name="secret"/> at <paramref name="unixSeconds"/>.</summary>
    public static string Create(string secret, long unixSeconds, ReadOnlySpan<byte> rawBody)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        return Create(Encoding.UTF8.GetBytes(secret), unixSeconds, rawBody);
    }

    /// <summary>The header value for <paramref name="rawBody"/> signed with the key bytes <paramref name="secret"/> at <paramref name="unixSeconds"/>.</summary>
    public static string Create(ReadOnlySpan<byte> secret, long unixSeconds, ReadOnlySpan<byte> rawBody)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(unixSeconds);
        Span<byte> mac = stackalloc byte[MacSize];
        Compute(secret, unixSeconds, rawBody, mac);
        return string.Create(CultureInfo.InvariantCulture, $"t={unixSeconds},{Scheme}={Convert.ToHexStringLower(mac)}");
    }

    /// <summary>
    /// <c>true</c> when <paramref name="header"/> has exactly one <c>t</c> within <paramref name="tolerance"/> of
    /// <paramref name="now"/> (either way) and at least one <c>v1</c> entry equal to the signature of
    /// <paramref name="rawBody"/> under <paramref name="secret"/>. Several <c>v1</c> entries are accepted (the
    /// format allows a sender to sign with more than one secret; ours signs with one); unknown schemes are ignored;
    /// comparisons are constant-time.
    /// </summary>
    public static bool Verify(string? header, string secret, ReadOnlySpan<byte> rawBody, DateTimeOffset now, TimeSpan tolerance)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        ArgumentOutOfRangeException.ThrowIfLessThan(tolerance, TimeSpan.Zero);
        if (string.IsNullOrEmpty(header))
        {
            return false;
        }

        long? timestamp = null;
        var candidates = new List<string>(2);
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                return false;
            }

            var key = part[..equals];
            var value = part[(equals + 1)..];
            if (key == "t")
            {
                if (timestamp is not null || !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
                {
                    return false;
                }

                timestamp = parsed;
            }
            else if (key == Scheme)
            {
                candidates.Add(value);
            }
        }

        // t is non-negative (NumberStyles.None), so the difference cannot overflow.
        if (timestamp is not { } t || candidates.Count == 0 || Math.Abs(now.ToUnixTimeSeconds() - t) > tolerance.TotalSeconds)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[MacSize];
        Compute(Encoding.UTF8.GetBytes(secret), t, rawBody, expected);
        Span<byte> given = stackalloc byte[MacSize];
        var match = false;
        foreach (var candidate in candidates)
        {
            if (candidate.Length == MacSize * 2
                && Convert.FromHexString(candidate, given, out _, out var written) == OperationStatus.Done
                && written == MacSize)
            {
                match |= CryptographicOperations.FixedTimeEquals(expected, given);
            }
        }

        return match;
    }

    private static void Compute(ReadOnlySpan<byte> secret, long unixSeconds, ReadOnlySpan<byte> rawBody, Span<byte> destination)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secret);
        Span<byte> prefix = stackalloc byte[24];
        unixSeconds.TryFormat(prefix, out var length, default, CultureInfo.InvariantCulture);
        prefix[length++] = (byte)'.';
        hmac.AppendData(prefix[..length]);
        hmac.AppendData(rawBody);
        hmac.GetHashAndReset(destination);
    }
}
