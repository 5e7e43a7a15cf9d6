using System.Text;
using Cluster.TestInfrastructure;
using CsCheck;

namespace Cluster.Fuzz.Tests.Generators;

/// <summary>
/// Requests to the OAuth surface (issue 13): <c>POST /oauth2/token</c> with form bodies built from their parameters
/// (grant types, client ids and secrets of the fuzzed tenant, of the other tenant, made up or malformed; repeated and
/// extra parameters; assertions), client authentication by HTTP Basic (valid, wrong, malformed) or in the body or both,
/// and the body then mutated at the byte level; and <c>GET /.well-known/jwks.json</c>. Nothing here changes any state.
/// </summary>
internal sealed class OAuthRequests(FuzzWorld world)
{
    private static readonly Gen<string> GrantType = G.Weighted(
        (8, Gen.Const("client_credentials")),
        (2, G.Pick("", "password", "authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:jwt-bearer", "CLIENT_CREDENTIALS", "client_credentials ", "client_credentials\u0000")));

    private Gen<string> ClientId => G.Weighted(
        (6, Gen.Const(world.Client.ClientId)),
        (1, Gen.Const(world.OtherClient.ClientId)),
        (1, Gen.Const(world.SpareClient.ClientId)),
        (2, G.Pick("", "x", "scimc_", "scimc_0123456789abcdef0123456789abcdef.0123456789abcdef01234567", world.Client.ClientId.ToUpperInvariant(), world.Client.ClientId + "0",
            "scimc_" + world.Tenant.TenantId + "." + new string('0', 24), "scimc_..", new string('c', 500), "scimc_%00.x", "é")));

    private Gen<string> Secret => G.Weighted(
        (6, Gen.Const(world.Client.Secret)),
        (1, Gen.Const(world.OtherClient.Secret)),
        (2, G.Pick("", "x", world.Client.Secret + "x", world.Client.Secret[..^1], world.Tenant.Token, GatewayFactory.AdminKey, new string('s', 5000), "scimcs_\u00e9")));

    /// <summary>Every request of the surface.</summary>
    public Gen<FuzzRequest> All() => G.Weighted(
        (10, Token()),
        (1, RequestParts.Request("GET", Gen.Const(("/.well-known/jwks.json", 1L)), Gen.Const((string?)null))),
        (1, RequestParts.Request("GET", G.Pick("/oauth2", "/oauth2/token", "/oauth2/authorize", "/oauth2/token/x").Select(p => (p, 1L)), Gen.Const((string?)null))));

    private Gen<FuzzRequest> Token() =>
        from method in RequestParts.Method("POST")
        from grant in G.Maybe(GrantType, absent: 1, present: 8)
        from id in ClientId
        from secret in Secret
        from how in G.Pick("basic", "post", "both", "none", "basic-malformed")
        from extra in G.Pick<string[]>([], ["scope=scim"], ["grant_type=client_credentials"], ["client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer", "client_assertion=eyJ.e.s"], ["x=" + new string('x', 9000)], ["%zz=1"], ["="], ["&&&"])
        from contentType in G.Weighted((8, Gen.Const<string?>("application/x-www-form-urlencoded")), (2, HeaderMutations.ContentType))
        from mutate in Gen.Int[0, 9]
        from position in Gen.Int[0, 1000]
        from junk in G.Pick<byte[]>([0xFF], [0xC3, 0x28], [0x00], "%"u8.ToArray(), "&"u8.ToArray(), "+"u8.ToArray(), "%C3%28"u8.ToArray(), "="u8.ToArray())
        select Build(method, grant, id, secret, how, extra, contentType, mutate, position, junk);

    private static FuzzRequest Build(string method, string? grant, string id, string secret, string how, string[] extra, string? contentType, int mutate, int position, byte[] junk)
    {
        var fields = new List<string>();
        if (grant is not null)
        {
            fields.Add("grant_type=" + Uri.EscapeDataString(grant));
        }

        if (how is "post" or "both")
        {
            fields.Add("client_id=" + Uri.EscapeDataString(id));
            fields.Add("client_secret=" + Uri.EscapeDataString(secret));
        }

        fields.AddRange(extra);
        var body = Encoding.UTF8.GetBytes(string.Join('&', fields));

        // One in ten bodies gets raw bytes inserted somewhere (bad UTF-8, bad percent-encoding, separators).
        if (mutate == 0)
        {
            var at = body.Length == 0 ? 0 : position % (body.Length + 1);
            body = [.. body.AsSpan(0, at), .. junk, .. body.AsSpan(at)];
        }

        var headers = new List<KeyValuePair<string, string>>();
        if (how is "basic" or "both")
        {
            headers.Add(KeyValuePair.Create("Authorization", "Basic " + OAuthClients.BasicCredentials(id, secret)));
        }
        else if (how == "basic-malformed")
        {
            headers.Add(KeyValuePair.Create("Authorization", (position % 3) switch { 0 => "Basic !!!", 1 => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(id)), _ => "Bearer " + secret }));
        }

        if (contentType is not null)
        {
            headers.Add(KeyValuePair.Create("Content-Type", contentType));
        }

        return new FuzzRequest(method, "/oauth2/token", headers, body);
    }
}
