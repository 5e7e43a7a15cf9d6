using System.Globalization;
using System.Text;
using CsCheck;

namespace Cluster.Fuzz.Tests.Generators;

/// <summary>
/// Header values: mostly the valid one, else missing, malformed or someone else's. Null means "no header".
/// Shrinking goes towards the valid value.
/// </summary>
internal static class HeaderMutations
{
    /// <summary>
    /// <c>Authorization</c> for a surface whose valid credential is <paramref name="valid"/>: that bearer token, else another
    /// one that is valid elsewhere (<paramref name="foreign"/>), none, or a malformed variant.
    /// </summary>
    public static Gen<string?> Authorization(string valid, string foreign) => G.Weighted<string?>(
        (16, Gen.Const<string?>("Bearer " + valid)),
        (1, Gen.Const<string?>("Bearer " + foreign)),
        (1, Gen.Const((string?)null)),
        (2, G.Pick<string?>(
            "Bearer", "Bearer ", "bearer " + valid, "BEARER   " + valid + "  ", valid, "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + valid)),
            "Bearer " + valid + "x", "Bearer " + valid[..^1], "Bearer " + valid + ", Bearer " + valid, "Bearer " + new string('a', 10_000),
            "Bearer \u00e9\u00e9", "Bearer " + valid.ToUpperInvariant(), "Negotiate abc")));

    /// <summary><c>Content-Type</c> of a JSON body: SCIM's or plain JSON, else a wrong, odd or missing one.</summary>
    public static readonly Gen<string?> ContentType = G.Weighted<string?>(
        (8, Gen.Const<string?>("application/scim+json")),
        (3, Gen.Const<string?>("application/json")),
        (3, G.Pick<string?>(
            null, "application/scim+json; charset=utf-8", "application/json; charset=utf-16", "application/scim+json; charset=iso-8859-1",
            "text/plain", "application/xml", "application/x-www-form-urlencoded", "", "application/scim+jsonx", "application/json;;;", "*/*",
            "application/scim+json; boundary=\"", "multipart/form-data; boundary=x", "APPLICATION/SCIM+JSON")));

    /// <summary><c>If-Match</c> / <c>If-None-Match</c>: none, the current version, <c>*</c>, a stale one, or malformed.</summary>
    public static Gen<string?> EntityTag(long current) => G.Weighted<string?>(
        (6, Gen.Const((string?)null)),
        (3, G.Pick<string?>($"W/\"{current}\"", $"\"{current}\"")),
        (1, G.Pick<string?>("*", "W/\"1\"", $"W/\"{current + 1}\", W/\"{current}\"")),
        (2, G.Pick<string?>(
            "", "W/", "W/\"\"", "\"-1\"", "W/\"99999999999999999999\"", "W/\"9223372036854775807\"", "abc", ",,,", "*, W/\"1\"",
            string.Join(",", Enumerable.Range(0, 2000).Select(i => i.ToString(CultureInfo.InvariantCulture))), "W/\"1\u00e9\"")));

    /// <summary>The headers every request may carry besides the ones above (usually none).</summary>
    public static readonly Gen<KeyValuePair<string, string>[]> Extra = G.Weighted(
        (6, Gen.Const<KeyValuePair<string, string>[]>([])),
        (1, G.Pick(
            KeyValuePair.Create("Accept", "application/xml"),
            KeyValuePair.Create("Accept", "text/html"),
            KeyValuePair.Create("Accept-Charset", "utf-16"),
            KeyValuePair.Create("X-HTTP-Method-Override", "DELETE"),
            KeyValuePair.Create("Content-Encoding", "gzip"),
            KeyValuePair.Create("Prefer", "return=minimal")).Array[1, 2]));
}
