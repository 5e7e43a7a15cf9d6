using System.Text.Json.Nodes;
using Cluster.TestInfrastructure;
using CsCheck;

namespace Cluster.Fuzz.Tests.Generators;

/// <summary>
/// Requests to the operator's admin API: create a tenant, read one, issue and revoke tokens; with the operator key, a
/// wrong key, a tenant's token or none. Writes target the fuzzed tenant or ids that name no tenant, never the other
/// tenant, whose state must not change at all; the token revoked is the spare one or an unknown one, never the harness's.
/// </summary>
internal sealed class AdminRequests(FuzzWorld world)
{
    private static readonly Gen<string> UnknownTenant = G.Pick("0123456789abcdef0123456789abcdef", "", "x", "..", "a b", new string('f', 65), "%00");

    private Gen<string?> Authorization => HeaderMutations.Authorization(GatewayFactory.AdminKey, world.Tenant.Token);

    /// <summary>All four admin operations.</summary>
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
            (2, RequestParts.Request("GET", RequestParts.Segment(readable).Select(t => ($"/admin/tenants/{t}", 1L)), Authorization)),
            (2, RequestParts.Request("POST", RequestParts.Segment(writable).Select(t => ($"/admin/tenants/{t}/tokens", 1L)), Authorization)),
            (2, RequestParts.Request("DELETE", Gen.Select(RequestParts.Segment(writable), RequestParts.Segment(tokenId), (t, k) => ($"/admin/tenants/{t}/tokens/{k}", 1L)), Authorization)),
            (1, RequestParts.Request("GET", G.Pick("/admin", "/admin/tenants", "/admin/nothing").Select(p => (p, 1L)), Authorization)));
    }
}
