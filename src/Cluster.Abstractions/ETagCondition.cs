using System.Globalization;

namespace Cluster.Abstractions;

/// <summary>
/// The entity tags of an <c>If-Match</c> or <c>If-None-Match</c> header (RFC 7232 §3.1, §3.2; RFC 7644 §3.14): <c>*</c>
/// (<see cref="Any"/>) or a list of versions. Our tags are <c>W/"n"</c>; the weak and the strong form of one version
/// (<c>W/"3"</c>, <c>"3"</c>) name the same version. A tag that is not one of ours matches nothing.
/// Write preconditions are checked inside the resource grain, in the same turn as the write.
/// </summary>
[GenerateSerializer, Immutable, Alias("scim.ETagCondition")]
public sealed record ETagCondition([property: Id(0)] bool Any, [property: Id(1)] long[] Versions)
{
    /// <summary>Parses a header value (comma-separated tags, or <c>*</c>); null when the header is absent or empty.</summary>
    public static ETagCondition? Parse(string? header)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return null;
        }

        var any = false;
        var versions = new List<long>();
        foreach (var part in header.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (part == "*")
            {
                any = true;
                continue;
            }

            var tag = part.StartsWith("W/", StringComparison.Ordinal) ? part[2..] : part;
            if (tag.Length >= 2 && tag[0] == '"' && tag[^1] == '"')
            {
                tag = tag[1..^1];
            }

            if (long.TryParse(tag, NumberStyles.None, CultureInfo.InvariantCulture, out var version))
            {
                versions.Add(version);
            }
        }

        return new ETagCondition(any, [.. versions]);
    }

    /// <summary>True when an existing resource at <paramref name="version"/> matches one of the tags.</summary>
    public bool Matches(long version) => Any || Array.IndexOf(Versions, version) >= 0;
}
