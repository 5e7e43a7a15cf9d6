using System.Text.Json.Nodes;
using Cluster.TestInfrastructure;
using CsCheck;

namespace Cluster.Fuzz.Tests.Generators;

/// <summary>
/// Requests to the operator's admin API: create a tenant, read one, issue and revoke tokens, read the event feed, set,
/// read, test, redeliver and delete the webhook (issue 12), create, list and revoke OAuth clients and their secrets, list, rename and
/// suspend tenants and delete unknown ones (issue 13), read the provisioning log and the status (issue 14); with the operator key, a wrong key, a tenant's token or none. Writes target the fuzzed tenant or ids that name no tenant, never the other
/// tenant, whose state must not change at all; the token revoked is the spare one or an unknown one, never the harness's.
/// </summary>
internal sealed class AdminRequests(FuzzWorld world)
{
    private static readonly Gen<string> UnknownTenant = G.Pick("0123456789abcdef0123456789abcdef", "", "x", "..", "a b", new string('f', 65), "%00");

    private Gen<string?> Authorization => HeaderMutations.Authorization(GatewayFactory.AdminKey, world.Tenant.Token);

    // Webhook targets: loopback ports nothing listens on (deliveries fail and retry quietly), and malformed URLs.
    private static readonly Gen<string> WebhookUrl = G.Weighted(
        (3, G.Pick("http://127.0.0.1:9/hook", "https://127.0.0.1:9/hook?x=1", "http://[::1]:9/")),
        (2, G.Pick("", "ftp://127.0.0.1/hook", "https://user:pw@127.0.0.1:9/", "not a url", "https://", "//127.0.0.1:9/x", new string('h', 3000))),
        (1, ScimValues.Text));

    private static readonly Gen<string> Cursor = G.Pick("0", "1", "-1", "x", "99999999999999999999", "9223372036854775807", "1.5", " 1", "");

    // The provisioning log's filters (issue 14): valid values, case variants and junk.
    private static readonly Gen<string> Outcome = G.Pick("success", "error", "2xx", "4XX", "5xx", "3xx", "1xx", "6xx", "xx", "fine", "", "error,success");
    private static readonly Gen<string> LogLimit = G.Pick("1", "50", "200", "201", "0", "-5", "abc", "1e2");

    /// <summary>Every admin operation.</summary>
    public Gen<FuzzRequest> All()
    {
        var writable = G.Weighted((4, Gen.Const(world.Tenant.TenantId)), (1, UnknownTenant));
        var readable = G.Weighted((3, Gen.Const(world.Tenant.TenantId)), (1, Gen.Const(world.Other.TenantId)), (1, UnknownTenant));
        var tokenId = G.Weighted((2, Gen.Const(world.SpareTokenId)), (1, G.Pick("0123456789abcdef", "", "..", world.SpareTokenId.ToUpperInvariant())));
        var name = G.Weighted(
            (4, ScimValues.Text),
            (1, G.Pick("", " ", new string('n', 200), new string('n', 201), "tab\tname", "line\nbreak", "\u0000", "\u202Eevil")));
        var create = BodyMutations.Of(name.Select(n => new JsonObject { ["name"] = n }));
        return G.Weighted(
            (3, RequestParts.Request("POST", Gen.Const(("/admin/tenants", 1L)), Authorization, create)),
            (2, RequestParts.Request("GET", RequestParts.Segment(readable).Select(t => ($"/admin/tenants/{t}", 1L)), Authorization, safe: true)),
            (2, RequestParts.Request("POST", RequestParts.Segment(writable).Select(t => ($"/admin/tenants/{t}/tokens", 1L)), Authorization)),
            (2, RequestParts.Request("DELETE", Gen.Select(RequestParts.Segment(writable), RequestParts.Segment(tokenId), (t, k) => ($"/admin/tenants/{t}/tokens/{k}", 1L)), Authorization)),
            (1, RequestParts.Request("GET", G.Pick("/admin", "/admin/tenants", "/admin/nothing").Select(p => (p, 1L)), Authorization)),
            (3, RequestParts.Request("GET", Gen.Select(RequestParts.Segment(readable), RequestParts.Query(("after", RequestParts.Parameter(Cursor)), ("limit", RequestParts.Parameter(G.Pick("1", "100", "1000", "1001", "0", "-5", "abc"))))).Select(x => ($"/admin/tenants/{x.Item1}/events{x.Item2}", 1L)), Authorization, safe: true)),
            (2, RequestParts.Request("PUT", RequestParts.Segment(writable).Select(t => ($"/admin/tenants/{t}/webhook", 1L)), Authorization, BodyMutations.Of(Gen.Select(WebhookUrl, G.Maybe(G.Pick("whsec_0123456789abcdefghijklmnopqrstuvwxyzABCD", "short", "", new string('s', 300)), absent: 2), (url, secret) => secret is null ? new JsonObject { ["url"] = url } : new JsonObject { ["url"] = url, ["secret"] = secret })))),
            (2, RequestParts.Request("GET", Gen.Select(RequestParts.Segment(readable), G.Pick("webhook", "webhook/deliveries")).Select(x => ($"/admin/tenants/{x.Item1}/{x.Item2}", 1L)), Authorization, safe: true)),
            (1, RequestParts.Request("POST", RequestParts.Segment(writable).Select(t => ($"/admin/tenants/{t}/webhook/test", 1L)), Authorization)),
            (1, RequestParts.Request("POST", RequestParts.Segment(writable).Select(t => ($"/admin/tenants/{t}/webhook/redeliver", 1L)), Authorization, BodyMutations.Of(Cursor.Select(c => new JsonObject { ["after"] = c })))),
            (1, RequestParts.Request("DELETE", RequestParts.Segment(writable).Select(t => ($"/admin/tenants/{t}/webhook", 1L)), Authorization)),
            (2, RequestParts.Request("GET", Gen.Select(RequestParts.Segment(readable), RequestParts.Query(("after", RequestParts.Parameter(Cursor)), ("limit", RequestParts.Parameter(LogLimit)), ("outcome", RequestParts.Parameter(Outcome)), ("resourceId", RequestParts.Parameter(G.Weighted((2, Gen.Int[0, 63].Select(i => world.User(i).Id)), (1, ScimValues.Text), (1, UnknownTenant)))))).Select(x => ($"/admin/tenants/{x.Item1}/requests{x.Item2}", 1L)), Authorization, safe: true)),
            (1, RequestParts.Request("GET", RequestParts.Segment(readable).Select(t => ($"/admin/tenants/{t}/status", 1L)), Authorization, safe: true)),
            (4, OAuthClients(writable, readable)),
            (4, Lifecycle(writable, name)));
    }

    // The tenant lifecycle (issue 13): list with cursors, limits and name prefixes; rename the fuzzed tenant and resume it (never
    // suspend it: the SCIM fuzzing needs it working); delete only ids that name no tenant.
    private Gen<FuzzRequest> Lifecycle(Gen<string> writable, Gen<string> name)
    {
        var listCursor = G.Weighted((2, Cursor), (1, ScimValues.Text), (1, G.Pick("AAAA", "~", "%ZZ", new string('c', 2000))));
        var patch = G.Weighted(
            (3, name.Select(n => new JsonObject { ["name"] = n })),
            (2, name.Select(n => new JsonObject { ["name"] = n, ["suspended"] = false })),
            (1, Gen.Const(0).Select(_ => new JsonObject { ["suspended"] = false })),
            (2, G.Pick<JsonNode?>("yes", 1, null, "false", new JsonArray(), new JsonObject()).Select(v => new JsonObject { ["suspended"] = v?.DeepClone() })),
            (1, G.Pick("tenantId", "createdAt", "Name", "").Select(m => new JsonObject { [m] = "x" })),
            (1, Gen.Const(0).Select(_ => new JsonObject())));
        return G.Weighted(
            (3, RequestParts.Request("GET", RequestParts.Query(("after", RequestParts.Parameter(listCursor)), ("limit", RequestParts.Parameter(LogLimit)), ("q", RequestParts.Parameter(name))).Select(q => ($"/admin/tenants{q}", 1L)), Authorization)),
            (3, RequestParts.Request("PATCH", RequestParts.Segment(writable).Select(t => ($"/admin/tenants/{t}", 1L)), Authorization, BodyMutations.Of(patch))),
            (1, RequestParts.Request("DELETE", RequestParts.Segment(UnknownTenant).Select(t => ($"/admin/tenants/{t}", 1L)), Authorization)));
    }

    // OAuth clients (issue 13): create, list, add and revoke secrets of the spare client, revoke the spare client; never the
    // harness's own client. Bodies carry expiresInDays, valid or not.
    private Gen<FuzzRequest> OAuthClients(Gen<string> writable, Gen<string> readable)
    {
        var spare = world.SpareClient;
        var clientId = G.Weighted(
            (4, Gen.Const(spare.ClientId)),
            (1, G.Pick(world.OtherClient.ClientId, "scimc_0123456789abcdef0123456789abcdef.0123456789abcdef01234567", "not-a-client", spare.ClientId.ToUpperInvariant(), "")));
        var secretId = G.Weighted((2, Gen.Const(spare.SecretId)), (1, G.Pick("0123456789ab", "", "..", spare.SecretId.ToUpperInvariant(), new string('f', 100))));
        var lifetime = BodyMutations.Of(G.Pick<System.Text.Json.Nodes.JsonNode?>(1, 365, 1095, 0, 1096, -1, 2147483647, 1.5, "30", null, true)
            .Select(days => new JsonObject { ["expiresInDays"] = days?.DeepClone() }));
        return G.Weighted(
            (2, RequestParts.Request("POST", RequestParts.Segment(writable).Select(t => ($"/admin/tenants/{t}/oauth-clients", 1L)), Authorization, lifetime)),
            (1, RequestParts.Request("POST", RequestParts.Segment(writable).Select(t => ($"/admin/tenants/{t}/oauth-clients", 1L)), Authorization)),
            (2, RequestParts.Request("GET", RequestParts.Segment(readable).Select(t => ($"/admin/tenants/{t}/oauth-clients", 1L)), Authorization, safe: true)),
            (2, RequestParts.Request("POST", Gen.Select(RequestParts.Segment(writable), RequestParts.Segment(clientId), (t, c) => ($"/admin/tenants/{t}/oauth-clients/{c}/secrets", 1L)), Authorization, lifetime)),
            (2, RequestParts.Request("DELETE", Gen.Select(RequestParts.Segment(writable), RequestParts.Segment(clientId), RequestParts.Segment(secretId), (t, c, k) => ($"/admin/tenants/{t}/oauth-clients/{c}/secrets/{k}", 1L)), Authorization)),
            (1, RequestParts.Request("DELETE", Gen.Select(RequestParts.Segment(writable), RequestParts.Segment(clientId), (t, c) => ($"/admin/tenants/{t}/oauth-clients/{c}", 1L)), Authorization)));
    }
}
