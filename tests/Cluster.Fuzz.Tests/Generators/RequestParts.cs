using CsCheck;

namespace Cluster.Fuzz.Tests.Generators;

/// <summary>
/// What every request generator shares: the method (sometimes another one), the target with its version (for
/// <c>If-Match</c>), the credential, <c>Content-Type</c>, extra headers and the body, put together as a
/// <see cref="FuzzRequest"/>.
/// </summary>
internal static class RequestParts
{
    private static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "FOO"];

    // Methods that write nothing on any route: what a read of a target that must not change may turn into.
    private static readonly string[] SafeMethods = ["GET", "HEAD", "OPTIONS", "TRACE", "FOO"];

    /// <summary>
    /// Path segments that are already percent-encoded and decode to something odd (bad UTF-8, a slash, dots). Not
    /// <c>%00</c>: Kestrel refuses a path with NUL before the application sees it (and the test server cannot send one).
    /// </summary>
    public static readonly Gen<string> RawSegment = G.Pick("%C3%28", "%ED%A0%80", "%FF", "%2F", "%2e%2e", "%", "%zz", "a%20b", "%C0%AF");

    /// <summary>Raw bytes of bad percent-encoding for a query value, NUL included.</summary>
    public static readonly Gen<string> RawQuery = G.Pick("%00", "%C3%28", "%ED%A0%80", "%FF", "%", "%zz", "&", "=", "%26filter%3D");

    /// <summary><paramref name="valid"/> mostly, else any method (only ones that write nothing when <paramref name="safe"/>).</summary>
    public static Gen<string> Method(string valid, bool safe = false) => G.Weighted((12, Gen.Const(valid)), (1, G.Pick(safe ? SafeMethods : Methods)));

    /// <summary>An id as a path segment: escaped, or a raw odd segment.</summary>
    public static Gen<string> Segment(Gen<string> ids) => G.Weighted((12, ids.Select(Uri.EscapeDataString)), (1, RawSegment));

    /// <summary>
    /// A request: <paramref name="method"/> (sometimes another), a target and the version <c>If-Match</c> may name
    /// (<paramref name="ifMatch"/> false: no <c>If-Match</c>), a credential, and a body with its <c>Content-Type</c> (none
    /// when <paramref name="body"/> is null).
    /// </summary>
    public static Gen<FuzzRequest> Request(
        string method, Gen<(string Target, long Version)> target, Gen<string?> authorization, Gen<byte[]>? body = null, bool ifMatch = false, string entityTagHeader = "If-Match", bool safe = false) =>
        from m in Method(method, safe)
        from t in target
        from auth in authorization
        from tag in ifMatch ? HeaderMutations.EntityTag(t.Version) : Gen.Const((string?)null)
        from extra in HeaderMutations.Extra
        from contentType in body is null ? Gen.Const((string?)null) : HeaderMutations.ContentType
        from bytes in body is null ? Gen.Const((byte[]?)null) : body.Select(b => (byte[]?)b)
        select new FuzzRequest(m, t.Target, [.. Header("Authorization", auth), .. Header(entityTagHeader, tag), .. Header("Content-Type", contentType), .. extra], bytes);

    /// <summary>A query string (with its <c>?</c>, or empty) of the parameters that are present.</summary>
    public static Gen<string> Query(params (string Name, Gen<string?> Value)[] parameters) =>
        G.All(parameters.Select(p => p.Value.Select(v => v is null ? null : p.Name + "=" + v)))
            .Select(pairs => pairs.OfType<string>().ToArray() is { Length: > 0 } present ? "?" + string.Join('&', present) : "");

    /// <summary>A query parameter value: absent, escaped, or (rarely) raw bytes of bad percent-encoding.</summary>
    public static Gen<string?> Parameter(Gen<string> value, int absent = 1) => G.Weighted<string?>(
        (absent, Gen.Const((string?)null)),
        (4, value.Select(v => (string?)Uri.EscapeDataString(v))),
        (1, Gen.Select(value, RawQuery, (v, raw) => (string?)(Uri.EscapeDataString(v) + raw))));

    private static KeyValuePair<string, string>[] Header(string name, string? value) => value is null ? [] : [KeyValuePair.Create(name, value)];
}
