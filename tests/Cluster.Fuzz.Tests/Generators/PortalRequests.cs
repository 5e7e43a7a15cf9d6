using System.Text;
using CsCheck;

namespace Cluster.Fuzz.Tests.Generators;

/// <summary>
/// Requests to the customer portal (issue 14) as its forms and links send them: the Connect page's forms (generate and revoke
/// tokens, create, rotate and revoke OAuth clients) with field values of this tenant, of the other tenant, made up or hostile,
/// with the session's cookies and antiforgery token, a wrong one or none, as form bodies then mutated at the byte level; and the
/// pages with their query parameters (log filters and cursors, directory search and paging). Never the operator console (no
/// operator session: its forms could delete the fuzzed tenant).
/// </summary>
internal sealed class PortalRequests(FuzzWorld world)
{
    private static readonly Gen<string> Handler = G.Weighted(
        (8, G.Pick("Generate", "Revoke", "CreateClient", "AddSecret", "RevokeSecret", "RevokeClient")),
        (1, G.Pick("", "Nope", "generate", "Revoke%C3%28", "%FF", new string('h', 300))));

    private static readonly Gen<string> Page = G.Pick("", "/status", "/log", "/users", "/groups", "/users/0123456789abcdef", "/groups/x", "/nope", "/log/x");

    private Gen<string> Tenant => G.Weighted(
        (8, Gen.Const(world.Tenant.TenantId)),
        (1, Gen.Const(world.Other.TenantId)),
        (1, G.Pick("0123456789abcdef0123456789abcdef", "x", "..", "%C3%28", "%FF", new string('f', 65))));

    private Gen<string> Value => G.Weighted(
        (3, ScimValues.Text),
        (3, G.Pick(world.SpareTokenId, world.SpareClient.ClientId, world.SpareClient.SecretId, world.OtherClient.ClientId, world.Client.ClientId)),
        (2, G.Pick("", " ", "0", "../../admin", "\u0000", "\u202E", "é", new string('v', 5000), "<script>", "%00", "scimc_", "psl_x")));

    private Gen<string?> Antiforgery => G.Weighted(
        (6, Gen.Const<string?>(world.Portal.AntiforgeryToken)),
        (1, Gen.Const((string?)null)),
        (1, G.Pick<string?>("", "x", world.Portal.AntiforgeryToken + "x", world.Portal.AntiforgeryToken[..(world.Portal.AntiforgeryToken.Length / 2)])));

    private Gen<string?> Cookie => G.Weighted(
        (8, Gen.Const<string?>(world.Portal.Cookie)),
        (1, Gen.Const((string?)null)),
        (1, G.Pick<string?>("scim-portal=garbage", world.Portal.Cookie.Replace("scim-portal=", "scim-portal=x", StringComparison.Ordinal), "scim-portal=" + new string('c', 5000), ";;=")));

    /// <summary>Every request of the surface.</summary>
    public Gen<FuzzRequest> All() => G.Weighted((3, Form()), (2, Pages()));

    private Gen<FuzzRequest> Form() =>
        from method in RequestParts.Method("POST")
        from tenant in Tenant
        from handler in Handler
        from tokenId in G.Maybe(Value, absent: 1, present: 2)
        from clientId in G.Maybe(Value, absent: 1, present: 2)
        from secretId in G.Maybe(Value, absent: 1, present: 2)
        from antiforgery in Antiforgery
        from cookie in Cookie
        from contentType in G.Weighted((8, Gen.Const<string?>("application/x-www-form-urlencoded")), (2, HeaderMutations.ContentType))
        from mutate in Gen.Int[0, 9]
        from position in Gen.Int[0, 1000]
        from junk in G.Pick<byte[]>([0xFF], [0xC3, 0x28], [0x00], "%"u8.ToArray(), "&"u8.ToArray(), "%C3%28"u8.ToArray(), "="u8.ToArray())
        select Build(method, $"/portal/t/{tenant}?handler={handler}", [("tokenId", tokenId), ("clientId", clientId), ("secretId", secretId), ("__RequestVerificationToken", antiforgery)], cookie, contentType, mutate, position, junk);

    private Gen<FuzzRequest> Pages() =>
        from method in RequestParts.Method("GET")
        from tenant in Tenant
        from page in Page
        from query in RequestParts.Query(
            ("after", RequestParts.Parameter(G.Pick("0", "1", "-1", "x", "99999999999999999999"))),
            ("outcome", RequestParts.Parameter(G.Pick("error", "success", "4xx", "sideways", ""))),
            ("resourceId", RequestParts.Parameter(Value)),
            ("limit", RequestParts.Parameter(G.Pick("1", "200", "201", "0"))),
            ("q", RequestParts.Parameter(Value)),
            ("page", RequestParts.Parameter(G.Pick("1", "2", "0", "-1", "99999999999", "x"))))
        from cookie in Cookie
        select new FuzzRequest(method, $"/portal/t/{tenant}{page}{query}", cookie is null ? [] : [KeyValuePair.Create("Cookie", cookie)], null);

    private static FuzzRequest Build(string method, string target, (string Name, string? Value)[] fields, string? cookie, string? contentType, int mutate, int position, byte[] junk)
    {
        var body = Encoding.UTF8.GetBytes(string.Join('&', fields.Where(f => f.Value is not null).Select(f => f.Name + "=" + Uri.EscapeDataString(f.Value!))));

        // One in ten bodies gets raw bytes inserted somewhere (bad UTF-8, bad percent-encoding, separators).
        if (mutate == 0)
        {
            var at = body.Length == 0 ? 0 : position % (body.Length + 1);
            body = [.. body.AsSpan(0, at), .. junk, .. body.AsSpan(at)];
        }

        var headers = new List<KeyValuePair<string, string>>();
        if (cookie is not null)
        {
            headers.Add(KeyValuePair.Create("Cookie", cookie));
        }

        if (contentType is not null)
        {
            headers.Add(KeyValuePair.Create("Content-Type", contentType));
        }

        return new FuzzRequest(method, target, headers, body);
    }
}
