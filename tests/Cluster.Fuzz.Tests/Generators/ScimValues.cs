using System.Globalization;
using System.Text.Json.Nodes;
using Cluster.Scim;
using Cluster.Scim.Schema;
using CsCheck;

namespace Cluster.Fuzz.Tests.Generators;

/// <summary>
/// Valid SCIM values generated from the served schemas (<see cref="ScimSchemas"/>, with the configured extensions): whole
/// resources, attribute paths with values that fit them, member references, names. Ids come from the tenant's live
/// resources (<see cref="FuzzWorld"/>), sometimes from the other tenant, sometimes made up or malformed.
/// </summary>
internal sealed class ScimValues(FuzzWorld world)
{
    private static readonly string[] Words = ["alpha", "Bravo", "québec", "Ωmega", "漢字", "😀", "O'Brien", "quote\"d", "back\\slash", "tab\tbed", "", " ", "x"];

    /// <summary>A short text: words, non-ASCII, quotes and backslashes, sometimes empty.</summary>
    public static readonly Gen<string> Text = G.Pick(Words).Array[1, 3].Select(w => string.Join(' ', w));

    /// <summary>A (mostly new) email-shaped name.</summary>
    public static readonly Gen<string> Email = Gen.Select(G.Pick(Words), Gen.Int[0, 99_999], G.Pick("contoso.com", "Fabrikam.COM"), (w, n, d) => $"{w}{n}@{d}");

    /// <summary>Ids that are not a live resource of the tenant: unknown, malformed, too long, or a bulkId reference.</summary>
    public static readonly Gen<string> StrangeId = G.Pick(
        "0123456789abcdef0123456789abcdef", "", " ", "..", "a b", "é", "<x>", new string('a', 65), "00000000-0000-0000-0000-000000000000", "bulkId:b0", "bulkId:zz", "null");

    /// <summary>A user id: mostly live, else a group's, the other tenant's, or strange.</summary>
    public Gen<string> UserId => Id(i => world.User(i).Id, i => world.Group(i).Id, () => world.OtherUserId);

    /// <summary>A group id: mostly live, else a user's, the other tenant's, or strange.</summary>
    public Gen<string> GroupId => Id(i => world.Group(i).Id, i => world.User(i).Id, () => world.OtherGroupId);

    /// <summary>A member id: a user or a group of the tenant (nested groups), else as <see cref="UserId"/>.</summary>
    public Gen<string> MemberId => G.Any(UserId, GroupId);

    /// <summary>A whole resource of <paramref name="type"/>: every required attribute, some optional ones, some extensions.</summary>
    public Gen<JsonObject> Resource(ResourceTypeDefinition type)
    {
        var core = Object(type.Schema.Attributes.Append(ExternalId), 5);
        var extensions = Gen.Shuffle(type.Extensions.Select(e => e.Schema).ToArray(), 0, type.Extensions.Count)
            .SelectMany(schemas => G.All(schemas.Select(s => Object(s.Attributes, 3).Select(value => (s.Id, Value: value)))));
        return Gen.Select(core, extensions, (resource, exts) =>
        {
            resource["schemas"] = new JsonArray([type.Schema.Id, .. exts.Select(e => (JsonNode)e.Id)]);
            foreach (var (urn, value) in exts)
            {
                resource[urn] = value;
            }

            return resource;
        });
    }

    /// <summary>An attribute path of <paramref name="type"/> as clients write them, with a value that fits it.</summary>
    public Gen<(string Path, JsonNode? Value)> PathAndValue(ResourceTypeDefinition type) =>
        G.Pick([.. Paths(type)]).SelectMany(p => Value(p.Attribute, p.Parent, forceSingle: p.Single).Select(v => (p.Path, v)));

    /// <summary>Attribute paths of <paramref name="type"/> (for filters, sortBy and projection).</summary>
    public static Gen<string> AttributePath(ResourceTypeDefinition type) => G.Pick([.. Paths(type).Select(p => p.Path), "id", "meta.created", "meta.lastModified", "meta.resourceType"]);

    /// <summary>A value for <paramref name="attribute"/> (an array when multi-valued, unless <paramref name="forceSingle"/>).</summary>
    public Gen<JsonNode?> Value(AttributeDefinition attribute, AttributeDefinition? parent = null, bool forceSingle = false)
    {
        var single = Single(attribute, parent);
        return attribute.MultiValued && !forceSingle
            ? single.Array[0, 3].Select(values => (JsonNode?)new JsonArray([.. values]))
            : single;
    }

    private static readonly AttributeDefinition ExternalId = new() { Name = "externalId" };

    // The required attributes (never readOnly ones) and up to maxOptional others, chosen and ordered at random.
    private Gen<JsonObject> Object(IEnumerable<AttributeDefinition> attributes, int maxOptional, AttributeDefinition? parent = null)
    {
        var writable = attributes.Where(a => a.Mutability != Mutability.ReadOnly).ToArray();
        var required = writable.Where(a => a.Required).ToArray();
        var optional = writable.Where(a => !a.Required).ToArray();
        return Gen.Shuffle(optional, 0, Math.Min(maxOptional, optional.Length))
            .SelectMany(chosen => G.All(required.Concat(chosen).Select(a => Value(a, parent).Select(v => KeyValuePair.Create(a.Name, v)))))
            .Select(members => new JsonObject(members));
    }

    private Gen<JsonNode?> Single(AttributeDefinition attribute, AttributeDefinition? parent) => (parent?.Name, attribute.Name) switch
    {
        (null, "userName") => Json(G.Weighted((4, Email), (1, Gen.Int[0, 63].Select(i => world.User(i).Name)))),
        (null, "displayName") when attribute.Uniqueness == Uniqueness.Server =>
            Json(G.Weighted((4, Gen.Select(Text, Gen.Int[0, 99_999], (t, n) => $"{t} {n}")), (1, Gen.Int[0, 63].Select(i => world.Group(i).Name)))),
        (null, "members" or "manager") => G.Weighted(
            (4, (attribute.Name == "members" ? MemberId : UserId).Select(id => (JsonNode?)new JsonObject { ["value"] = id })),
            (1, Object(attribute.SubAttributes, 3, attribute).Select(o => (JsonNode?)o))),
        ("members", "value") => Json(MemberId),
        ("manager", "value") => Json(UserId),
        ("emails", "value") => Json(Email),
        (_, "type") when attribute.CanonicalValues.Count > 0 => Json(G.Weighted((4, G.Pick([.. attribute.CanonicalValues])), (1, Text))),
        _ when attribute.Type == AttributeType.Complex => Object(attribute.SubAttributes, 3, attribute).Select(o => (JsonNode?)o),
        _ => attribute.Type switch
        {
            AttributeType.Boolean => G.Pick("true", "false", "\"True\"", "\"False\"").Select(b => JsonNode.Parse(b)),
            AttributeType.Integer => Gen.Int[-1000, 1000].Select(i => (JsonNode?)i),
            AttributeType.Decimal => Gen.Double[-1e6, 1e6].Select(d => (JsonNode?)d),
            AttributeType.DateTime => Gen.DateTime.Select(d => (JsonNode?)d.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)),
            AttributeType.Binary => Gen.Byte.Array[0, 12].Select(b => (JsonNode?)Convert.ToBase64String(b)),
            AttributeType.Reference => Json(G.Weighted((2, Gen.Const("https://example.com/x")), (1, Text))),
            _ => Json(Text),
        },
    };

    private static Gen<JsonNode?> Json(Gen<string> text) => text.Select(t => (JsonNode?)t);

    private Gen<string> Id(Func<int, string> live, Func<int, string> otherKind, Func<string> otherTenant) => G.Weighted(
        (8, Gen.Int[0, 63].Select(live)),
        (1, Gen.Int[0, 63].Select(otherKind)),
        (1, Gen.Const<string>(otherTenant)),
        (1, StrangeId));

    /// <summary>A path as clients write it: plain, dotted, with the schema URN, or through a value filter (Entra's emails form).</summary>
    private sealed record PathSpec(string Path, AttributeDefinition Attribute, AttributeDefinition? Parent, bool Single);

    private static IEnumerable<PathSpec> Paths(ResourceTypeDefinition type)
    {
        foreach (var schema in type.Extensions.Select(e => e.Schema).Prepend(type.Schema))
        {
            var prefix = ReferenceEquals(schema, type.Schema) ? "" : schema.Id + ":";
            foreach (var a in schema.Attributes)
            {
                yield return new PathSpec(prefix + a.Name, a, null, false);
                if (prefix.Length == 0)
                {
                    yield return new PathSpec(schema.Id + ":" + a.Name, a, null, false);
                }

                foreach (var sub in a.SubAttributes)
                {
                    yield return new PathSpec($"{prefix}{a.Name}.{sub.Name}", sub, a, !a.MultiValued);
                    if (a.MultiValued && a.FindSubAttribute("type") is not null && sub.Name == "value")
                    {
                        yield return new PathSpec($"{prefix}{a.Name}[type eq \"work\"].{sub.Name}", sub, a, true);
                    }
                }
            }
        }

        yield return new PathSpec("externalId", ExternalId, null, false);
        yield return new PathSpec(ScimConstants.EnterpriseUserSchema + ":manager", new AttributeDefinition { Name = "value" }, new AttributeDefinition { Name = "manager" }, true);
    }
}
