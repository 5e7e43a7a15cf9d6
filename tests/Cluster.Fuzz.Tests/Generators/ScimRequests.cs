using System.Globalization;
using System.Text.Json.Nodes;
using Cluster.Scim;
using Cluster.Scim.Schema;
using CsCheck;

namespace Cluster.Fuzz.Tests.Generators;

/// <summary>
/// Requests to a tenant's SCIM endpoint (RFC 7644), one generator per grammar: resources (<see cref="Resources"/>, for
/// Users and Groups: list, create, read, replace, PATCH in both Entra dialects, delete), queries (<see cref="Queries"/>:
/// filters, sorting, paging, projection, <c>.search</c>), <see cref="Bulk"/> and <see cref="Discovery"/>. Bodies go
/// through <see cref="BodyMutations"/>, headers through <see cref="HeaderMutations"/>; the tenant in the URL is sometimes
/// the other tenant or malformed (the credential is the target tenant's: 401).
/// </summary>
internal sealed class ScimRequests(FuzzWorld world)
{
    private static readonly Gen<string> OpName = G.Weighted(
        (6, G.Pick("Add", "Replace", "Remove", "add", "replace", "remove")),
        (1, G.Pick("ADD", "merge", "", "move", "test")));

    private readonly ScimValues _values = new(world);

    private Gen<string?> Authorization => HeaderMutations.Authorization(world.Tenant.Token, world.Other.Token);

    // The other tenant's own token on the other tenant's URL is that tenant's own business, not a request to another tenant:
    // the harness holds that nothing changes the other tenant, so such a request is never generated (a group created there
    // with its seeded user failed the run as a leak, 2026-12-07).
    private Gen<FuzzRequest> NotTheOtherTenantsOwn(Gen<FuzzRequest> requests) =>
        requests.Where(r => !(r.Target.StartsWith("/scim/v2/tenants/" + world.Other.TenantId, StringComparison.Ordinal)
            && r.Headers.Any(h => h.Key == "Authorization" && h.Value == "Bearer " + world.Other.Token)));

    private Gen<string> Base => G.Weighted(
        (20, Gen.Const(world.ScimBase)),
        (1, G.Pick(
            "/scim/v2/tenants/" + world.Other.TenantId, "/scim/v2/tenants/" + world.Tenant.TenantId.ToUpperInvariant(), "/scim/v2/tenants/%C3%28",
            "/scim/v2/tenants/" + world.Tenant.TenantId + "%2F..", "/scim/v2/Tenants/" + world.Tenant.TenantId, "/scim/v2/tenants//")));

    /// <summary>Users or Groups: list, create, read, replace, patch and delete, on live ids mostly.</summary>
    public Gen<FuzzRequest> Resources(ResourceTypeDefinition type)
    {
        var endpoint = Base.Select(b => $"{b}/{type.Endpoint.TrimStart('/')}");
        var live = type.Name == "Group" ? Gen.Int[0, 63].Select(world.Group) : Gen.Int[0, 63].Select(world.User);
        var byId = Gen.Select(endpoint, RequestParts.Segment(type.Name == "Group" ? _values.GroupId : _values.UserId), live, (e, id, entry) => (Target: $"{e}/{id}", entry.Version));
        var collection = endpoint.Select(e => (Target: e, Version: 1L));
        var resource = BodyMutations.Of(_values.Resource(type));
        return NotTheOtherTenantsOwn(G.Weighted(
            (4, RequestParts.Request("POST", collection, Authorization, resource)),
            (2, RequestParts.Request("GET", byId, Authorization, ifMatch: true, entityTagHeader: "If-None-Match")),
            (3, RequestParts.Request("PUT", byId, Authorization, resource, ifMatch: true)),
            (6, RequestParts.Request("PATCH", byId, Authorization, BodyMutations.Of(Patch(type)), ifMatch: true)),
            (1, RequestParts.Request("DELETE", byId, Authorization, ifMatch: true)),
            (1, RequestParts.Request("GET", Gen.Select(collection, Query(type), (c, q) => (c.Target + q, c.Version)), Authorization))));
    }

    /// <summary>List queries with filter, sort, paging and projection; GET by id with projection; the three <c>.search</c> endpoints.</summary>
    public Gen<FuzzRequest> Queries()
    {
        var (users, groups) = (ScimSchemas.UserResource, ScimSchemas.GroupResource);
        Gen<(string, long)> List(ResourceTypeDefinition type) => Gen.Select(Base, Query(type), (b, q) => ($"{b}/{type.Endpoint.TrimStart('/')}{q}", 1L));
        Gen<(string, long)> Search(string path) => Base.Select(b => (b + path, 1L));
        Gen<(string, long)> One(ResourceTypeDefinition type, Gen<string> ids) =>
            Gen.Select(Base, RequestParts.Segment(ids), Projection(type), (b, id, q) => ($"{b}/{type.Endpoint.TrimStart('/')}/{id}{q}", 1L));
        return NotTheOtherTenantsOwn(G.Weighted(
            (3, RequestParts.Request("GET", List(users), Authorization)),
            (3, RequestParts.Request("GET", List(groups), Authorization)),
            (1, RequestParts.Request("GET", One(users, _values.UserId), Authorization)),
            (1, RequestParts.Request("GET", One(groups, _values.GroupId), Authorization)),
            (2, RequestParts.Request("POST", Search("/Users/.search"), Authorization, BodyMutations.Of(SearchRequest(users)))),
            (2, RequestParts.Request("POST", Search("/Groups/.search"), Authorization, BodyMutations.Of(SearchRequest(groups)))),
            (2, RequestParts.Request("POST", Search("/.search"), Authorization, BodyMutations.Of(SearchRequest(users))))));
    }

    /// <summary>A BulkRequest of up to five operations on users and groups, with bulkId references and versions.</summary>
    public Gen<FuzzRequest> Bulk()
    {
        var operation = G.Pick(ScimSchemas.UserResource, ScimSchemas.GroupResource).SelectMany(BulkOperation);
        var request = Gen.Select(operation.Array[0, 5], G.Maybe(G.Pick<JsonNode>(1, 2, 0, -1, "1", 2147483648L), 3), (ops, failOnErrors) =>
        {
            var body = new JsonObject { ["schemas"] = new JsonArray(ScimConstants.BulkRequestSchema) };
            if (failOnErrors is not null)
            {
                body["failOnErrors"] = failOnErrors.DeepClone();
            }

            body["Operations"] = new JsonArray([.. ops.Select((op, i) => WithBulkId(op, i))]);
            return body;
        });
        return NotTheOtherTenantsOwn(RequestParts.Request("POST", Base.Select(b => (b + "/Bulk", 1L)), Authorization, BodyMutations.Of(request)));
    }

    /// <summary>The discovery documents, by name and by odd names.</summary>
    public Gen<FuzzRequest> Discovery()
    {
        var names = G.Weighted((3, G.Pick(["User", "Group", .. ScimSchemas.All.Select(s => s.Id)])), (1, ScimValues.StrangeId));
        var path = G.Weighted(
            (1, G.Pick("/ServiceProviderConfig", "/ResourceTypes", "/Schemas", "/ServiceProviderConfigs", "/schemas")),
            (2, Gen.Select(G.Pick("/ResourceTypes/", "/Schemas/"), RequestParts.Segment(names), (p, n) => p + n)));
        var query = RequestParts.Query(("attributes", RequestParts.Parameter(ScimValues.Text, 4)), ("filter", RequestParts.Parameter(ScimValues.Text, 4)));
        return RequestParts.Request("GET", Gen.Select(Base, path, query, (b, p, q) => (b + p + q, 1L)), Authorization);
    }

    // A PatchOp body: 1 to 4 operations — with a path (Entra's default dialect and RFC forms), pathless with dotted and
    // URN keys (aadOptscim062020), and for groups the member operations both dialects use.
    private Gen<JsonObject> Patch(ResourceTypeDefinition type)
    {
        var withPath = Gen.Select(OpName, _values.PathAndValue(type), (op, pv) => op.Equals("remove", StringComparison.OrdinalIgnoreCase)
            ? new JsonObject { ["op"] = op, ["path"] = pv.Path }
            : new JsonObject { ["op"] = op, ["path"] = pv.Path, ["value"] = pv.Value });
        var pathless = Gen.Select(OpName, _values.PathAndValue(type).Array[1, 3], (op, values) =>
        {
            var value = new JsonObject();
            foreach (var (path, v) in values.DistinctBy(p => p.Path, StringComparer.OrdinalIgnoreCase))
            {
                value[path] = v;
            }

            return new JsonObject { ["op"] = op, ["value"] = value };
        });
        var operations = new List<(int, Gen<JsonObject>)> { (4, withPath), (2, pathless) };
        if (type.Name == "Group")
        {
            var members = _values.MemberId.Array[1, 3].Select(ids => new JsonArray([.. ids.Select(id => (JsonNode)new JsonObject { ["value"] = id })]));
            operations.Add((4, Gen.Select(OpName, members, (op, m) => new JsonObject { ["op"] = op, ["path"] = "members", ["value"] = m })));
            operations.Add((2, Gen.Select(OpName, _values.MemberId, (op, id) => new JsonObject { ["op"] = op, ["path"] = $"members[value eq \"{id}\"]" })));
        }

        return G.Weighted([.. operations]).Array[1, 4].Select(ops => new JsonObject
        {
            ["schemas"] = new JsonArray(ScimConstants.PatchOpSchema),
            ["Operations"] = new JsonArray([.. ops]),
        });
    }

    // A query string with any of filter, sortBy, sortOrder, startIndex, count, attributes and excludedAttributes.
    private Gen<string> Query(ResourceTypeDefinition type) => RequestParts.Query(
        ("filter", RequestParts.Parameter(Filter(type))),
        ("sortBy", RequestParts.Parameter(ScimValues.AttributePath(type), 3)),
        ("sortOrder", RequestParts.Parameter(G.Pick("ascending", "descending", "DESCENDING", "up", ""), 3)),
        ("startIndex", RequestParts.Parameter(Integer, 2)),
        ("count", RequestParts.Parameter(Integer, 2)),
        ("attributes", RequestParts.Parameter(AttributeList(type), 4)),
        ("excludedAttributes", RequestParts.Parameter(AttributeList(type), 4)));

    private static Gen<string> Projection(ResourceTypeDefinition type) => RequestParts.Query(
        ("attributes", RequestParts.Parameter(AttributeList(type), 2)),
        ("excludedAttributes", RequestParts.Parameter(AttributeList(type), 2)));

    private static readonly Gen<string> Integer = G.Pick("1", "0", "-1", "2", "100", "201", "2147483647", "2147483648", "abc", "1.5", "", " 1", "+3", "1e3");

    private static Gen<string> AttributeList(ResourceTypeDefinition type) =>
        G.Weighted((4, ScimValues.AttributePath(type)), (1, G.Pick("members", "groups", "nope", "", ",", "urn:x:y", "emails[type eq \"work\"]")))
            .Array[1, 3].Select(names => string.Join(',', names));

    // A SearchRequest body (RFC 7644 §3.4.3); wrong member types come from the body mutations.
    private Gen<JsonObject> SearchRequest(ResourceTypeDefinition type) =>
        from filter in G.Maybe(Filter(type))
        from sortBy in G.Maybe(ScimValues.AttributePath(type), 3)
        from sortOrder in G.Maybe(G.Pick("ascending", "descending"), 3)
        from startIndex in G.Maybe(G.Pick<JsonNode>(1, 0, -5, 2, 200, int.MaxValue), 2)
        from count in G.Maybe(G.Pick<JsonNode>(10, 0, -1, 200, 1000), 2)
        from attributes in G.Maybe(AttributeList(type), 4)
        select Present(new JsonObject
        {
            ["schemas"] = new JsonArray(ScimConstants.SearchRequestSchema),
            ["filter"] = filter,
            ["sortBy"] = sortBy,
            ["sortOrder"] = sortOrder,
            ["startIndex"] = startIndex?.DeepClone(),
            ["count"] = count?.DeepClone(),
            ["attributes"] = attributes is null ? null : new JsonArray([.. attributes.Split(',').Select(a => (JsonNode)a)]),
        });

    // RFC 7644 §3.4.2.2 filters: comparisons and presence on the schema's paths, and/or/not, parentheses, value paths;
    // values are live names, other text, numbers, Booleans, null and dates; sometimes the text is then damaged.
    private Gen<string> Filter(ResourceTypeDefinition type)
    {
        var path = ScimValues.AttributePath(type);
        var literal = G.Weighted(
            (4, G.Weighted((2, ScimValues.Text), (2, Gen.Int[0, 63].Select(i => world.User(i).Name)), (1, Gen.Int[0, 63].Select(i => world.Group(i).Id))).Select(G.Quote)),
            (1, Gen.Int[-5, 5].Select(i => i.ToString(CultureInfo.InvariantCulture))),
            (1, G.Pick("true", "false", "null", "\"2024-01-01T00:00:00Z\"", "1e999999", "\"unterminated", "'single'", "bare", "\"\\ud800\"", "\"\\u00\"")));
        var atom = G.Weighted(
            (5, Gen.Select(path, G.Pick("eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "EQ", "xx"), literal, (p, op, v) => $"{p} {op} {v}")),
            (1, path.Select(p => p + " pr")),
            (1, Gen.Select(G.Pick("emails", "members", "addresses", "phoneNumbers"), G.Pick("type", "value", "display"), literal, (a, s, v) => $"{a}[{s} eq {v}]")));
        var filter = Gen.Recursive<string>((depth, self) => depth >= 3 ? atom : G.Weighted(
            (4, atom),
            (1, Gen.Select(self, G.Pick("and", "or", "AND"), self, (l, op, r) => $"{l} {op} {r}")),
            (1, self.Select(f => $"not ({f})")),
            (1, self.Select(f => $"({f})"))));
        return G.Weighted((5, filter), (1, filter.SelectMany(Damaged)));
    }

    private static Gen<string> Damaged(string text) => G.Any(
        Gen.Int[0, text.Length].Select(at => text[..at]),
        Gen.Select(Gen.Int[0, text.Length], G.Pick("(", ")", "[", "]", "\"", "\\", " ", ".", ":", "\u0000", "\u00e9"), (at, c) => text[..at] + c + text[at..]));

    // One BulkRequest operation: POST (with a bulkId), PUT, PATCH or DELETE, on live ids or bulkId references.
    private Gen<JsonObject> BulkOperation(ResourceTypeDefinition type)
    {
        var endpoint = "/" + type.Endpoint.TrimStart('/');
        var id = G.Weighted((3, type.Name == "Group" ? _values.GroupId : _values.UserId), (1, G.Pick("bulkId:b0", "bulkId:b1", "bulkId:zz", "bulkId:")));
        var version = G.Maybe(G.Pick("W/\"1\"", "W/\"2\"", "*", "junk"), 3);
        return G.Weighted(
            (3, _values.Resource(type).Select(data => new JsonObject { ["method"] = "POST", ["path"] = endpoint, ["data"] = data })),
            (2, Gen.Select(id, version, _values.Resource(type), (i, v, data) => Present(new JsonObject { ["method"] = "PUT", ["path"] = $"{endpoint}/{i}", ["version"] = v, ["data"] = data }))),
            (3, Gen.Select(id, version, Patch(type), (i, v, data) => Present(new JsonObject { ["method"] = "PATCH", ["path"] = $"{endpoint}/{i}", ["version"] = v, ["data"] = data }))),
            (1, Gen.Select(id, version, (i, v) => Present(new JsonObject { ["method"] = "DELETE", ["path"] = $"{endpoint}/{i}", ["version"] = v }))),
            (1, G.Pick("GET", "post", "", "HEAD").Select(m => new JsonObject { ["method"] = m, ["path"] = endpoint })));
    }

    // The object without its null members (absent, rather than JSON null).
    private static JsonObject Present(JsonObject obj)
    {
        foreach (var key in obj.Where(p => p.Value is null).Select(p => p.Key).ToList())
        {
            obj.Remove(key);
        }

        return obj;
    }

    private static JsonObject WithBulkId(JsonObject operation, int index)
    {
        if ((string?)operation["method"] == "POST")
        {
            operation["bulkId"] = "b" + index.ToString(CultureInfo.InvariantCulture);
        }

        return operation;
    }
}
