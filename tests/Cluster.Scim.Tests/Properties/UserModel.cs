using System.Text.Json.Nodes;
using Cluster.Scim.Errors;

namespace Cluster.Scim.Tests.Properties;

/// <summary>One element of a multi-valued complex attribute: canonical sub-attribute name → string or bool.</summary>
internal sealed class Element : Dictionary<string, object>
{
    public Element()
        : base(StringComparer.Ordinal)
    {
    }

    public Element(IEnumerable<KeyValuePair<string, object>> items)
        : base(items, StringComparer.Ordinal)
    {
    }

    public Element Clone() => new(this);

    public bool IsPrimary => TryGetValue("primary", out var p) && p is true;

    public string? Str(string key) => TryGetValue(key, out var v) ? v as string : null;

    public JsonObject ToJson()
    {
        var obj = new JsonObject();
        foreach (var (key, value) in this)
        {
            obj[key] = value is bool b ? JsonValue.Create(b) : JsonValue.Create((string)value);
        }

        return obj;
    }
}

/// <summary>
/// The reference model of a SCIM user for the property tests: plain dictionaries and lists with canonical attribute
/// names, no JSON and no library code. <see cref="Project"/> renders the stored form the library must produce.
/// </summary>
internal sealed class UserModel
{
    public const string Ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    public const string Core = "urn:ietf:params:scim:schemas:core:2.0:User";

    /// <summary>Single-valued string attributes (userName is always present in a valid user).</summary>
    public static readonly string[] ScalarNames = ["userName", "displayName", "title", "externalId", "nickName"];

    public static readonly string[] NameSubs = ["givenName", "familyName", "formatted"];

    public static readonly string[] ListNames = ["emails", "phoneNumbers", "addresses"];

    public static readonly string[] EnterpriseNames = ["employeeNumber", "department"];

    public static readonly string[] ManagerIds = ["m-1", "M-1", "mgr_2", "3c9f0aa1"];

    public Dictionary<string, string> Scalars { get; private init; } = new(StringComparer.Ordinal);

    public bool? Active { get; set; }

    public Dictionary<string, string> Name { get; private init; } = new(StringComparer.Ordinal);

    public Dictionary<string, List<Element>> Lists { get; private init; } =
        ListNames.ToDictionary(n => n, _ => new List<Element>(), StringComparer.Ordinal);

    public Dictionary<string, string> Enterprise { get; private init; } = new(StringComparer.Ordinal);

    public string? Manager { get; set; }

    public bool HasEnterprise => Enterprise.Count > 0 || Manager is not null;

    /// <summary>The string sub-attributes an element of each list may carry (besides <c>primary</c>).</summary>
    public static IReadOnlyList<string> TextSubs(string list) => list == "addresses"
        ? ["type", "streetAddress", "locality", "region", "postalCode", "country", "formatted"]
        : ["type", "value", "display"];

    public static IReadOnlyList<string> Types(string list) => list switch
    {
        "emails" => ["work", "home", "other"],
        "phoneNumbers" => ["work", "mobile", "fax"],
        _ => ["work", "home"],
    };

    public static bool HasValueSub(string list) => list != "addresses";

    public UserModel Clone() => new()
    {
        Scalars = new Dictionary<string, string>(Scalars, StringComparer.Ordinal),
        Active = Active,
        Name = new Dictionary<string, string>(Name, StringComparer.Ordinal),
        Lists = Lists.ToDictionary(p => p.Key, p => p.Value.Select(e => e.Clone()).ToList(), StringComparer.Ordinal),
        Enterprise = new Dictionary<string, string>(Enterprise, StringComparer.Ordinal),
        Manager = Manager,
    };

    /// <summary>What the stored form keeps at the end of a request: empty elements are dropped; userName is required.</summary>
    public void Commit()
    {
        foreach (var list in Lists.Values)
        {
            list.RemoveAll(e => e.Count == 0);
        }

        if (!Scalars.TryGetValue("userName", out var userName) || userName.Length == 0)
        {
            throw new ExpectedScimError(400, ScimErrorType.InvalidValue, "userName is required");
        }
    }

    /// <summary>The canonical stored resource (without <c>meta</c>).</summary>
    public JsonObject Project(string id)
    {
        var schemas = new JsonArray(Core);
        if (HasEnterprise)
        {
            schemas.Add(Ent);
        }

        var obj = new JsonObject { ["schemas"] = schemas, ["id"] = id };
        foreach (var (key, value) in Scalars)
        {
            obj[key] = value;
        }

        if (Active is { } active)
        {
            obj["active"] = active;
        }

        if (Name.Count > 0)
        {
            obj["name"] = new JsonObject(Name.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value)));
        }

        foreach (var (list, elements) in Lists)
        {
            if (elements.Any(e => e.Count > 0))
            {
                obj[list] = new JsonArray([.. elements.Where(e => e.Count > 0).Select(e => (JsonNode)e.ToJson())]);
            }
        }

        if (HasEnterprise)
        {
            var ent = new JsonObject(Enterprise.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value)));
            if (Manager is not null)
            {
                ent["manager"] = new JsonObject { ["value"] = Manager };
            }

            obj[Ent] = ent;
        }

        return obj;
    }

    /// <summary>A random valid user. Lists keep at most one primary element.</summary>
    public static UserModel Random(Choices g)
    {
        var user = new UserModel();
        user.Scalars["userName"] = g.Chance(0.7) ? g.Email() : g.Text(allowEmpty: false);
        foreach (var name in ScalarNames.Skip(1))
        {
            if (g.Chance(0.6))
            {
                user.Scalars[name] = g.Text();
            }
        }

        if (g.Chance(0.7))
        {
            user.Active = g.Chance(0.7);
        }

        foreach (var sub in NameSubs)
        {
            if (g.Chance(0.55))
            {
                user.Name[sub] = g.Text();
            }
        }

        foreach (var list in ListNames)
        {
            var count = g.Int(0, list == "addresses" ? 2 : 3);
            for (var i = 0; i < count; i++)
            {
                user.Lists[list].Add(RandomElement(g, list, allowPrimary: !user.Lists[list].Any(e => e.IsPrimary)));
            }
        }

        foreach (var name in EnterpriseNames)
        {
            if (g.Chance(0.5))
            {
                user.Enterprise[name] = g.Text();
            }
        }

        if (g.Chance(0.4))
        {
            user.Manager = g.Pick(ManagerIds);
        }

        return user;
    }

    /// <summary>A random non-empty element of <paramref name="list"/>.</summary>
    public static Element RandomElement(Choices g, string list, bool allowPrimary, bool withValue = true)
    {
        var element = new Element();
        if (g.Chance(0.9))
        {
            element["type"] = g.Pick(Types(list));
        }

        if (list == "addresses")
        {
            foreach (var sub in new[] { "streetAddress", "locality", "postalCode", "country" })
            {
                if (g.Chance(0.6))
                {
                    element[sub] = sub == "country" ? g.Pick(["US", "de", "FR"]) : g.Text();
                }
            }
        }
        else
        {
            if (withValue || g.Chance(0.5))
            {
                element["value"] = list == "emails" ? g.Email() : g.Phone();
            }

            if (g.Chance(0.2))
            {
                element["display"] = g.Text();
            }
        }

        if (g.Chance(0.4))
        {
            element["primary"] = allowPrimary && g.Chance(0.5);
        }

        if (element.Count == 0)
        {
            element["type"] = g.Pick(Types(list));
        }

        return element;
    }

    /// <summary>An element as a client might send it: keys in any case, Booleans as JSON or as Entra's strings.</summary>
    public static JsonObject RenderElement(Choices g, Element element, bool stringBooleans)
    {
        var obj = new JsonObject();
        foreach (var (key, value) in element)
        {
            obj[g.Case(key)] = value is bool b ? RenderBool(g, b, stringBooleans) : JsonValue.Create((string)value);
        }

        return obj;
    }

    /// <summary>A Boolean as JSON, or as a string in Entra's default dialect ("True"/"False", also lower case).</summary>
    public static JsonNode RenderBool(Choices g, bool value, bool stringBooleans) =>
        stringBooleans || g.Chance(0.15)
            ? JsonValue.Create(g.Pick(value ? new[] { "True", "true", "TRUE" } : ["False", "false"]))
            : JsonValue.Create(value);

    /// <summary>
    /// A PUT/POST body that must normalize to exactly this model, written in one of the many shapes clients send:
    /// names in any case, string Booleans, extension data nested, flat or without URN, manager as a bare id, nulls,
    /// empty arrays, read-only attributes and a legacy malformed URN key (all ignored).
    /// </summary>
    public JsonObject RenderBody(Choices g)
    {
        var body = new JsonObject();
        if (g.Chance(0.7))
        {
            body["schemas"] = g.Chance(0.5) ? new JsonArray(Core, Ent) : new JsonArray(Core);
        }

        if (g.Chance(0.2))
        {
            body["id"] = "client-chosen-id";
            body["meta"] = new JsonObject { ["resourceType"] = "User", ["created"] = "2001-01-01T00:00:00Z" };
        }

        foreach (var (key, value) in Scalars)
        {
            body[g.Case(key)] = value;
        }

        foreach (var name in ScalarNames)
        {
            if (!Scalars.ContainsKey(name) && g.Chance(0.15))
            {
                body[name] = null;
            }
        }

        if (Active is { } active)
        {
            body[g.Case("active")] = RenderBool(g, active, g.Chance(0.5));
        }

        if (Name.Count > 0)
        {
            body[g.Case("name")] = new JsonObject(Name.Select(p => KeyValuePair.Create(g.Case(p.Key), (JsonNode?)p.Value)));
        }
        else if (g.Chance(0.2))
        {
            body["name"] = g.Chance(0.5) ? null : new JsonObject { ["givenName"] = null };
        }

        foreach (var (list, elements) in Lists)
        {
            if (elements.Count == 1 && g.Chance(0.2))
            {
                body[g.Case(list)] = RenderElement(g, elements[0], g.Chance(0.3)); // a single object is wrapped
            }
            else if (elements.Count > 0)
            {
                body[g.Case(list)] = new JsonArray([.. elements.Select(e => (JsonNode)RenderElement(g, e, g.Chance(0.3)))]);
            }
            else if (g.Chance(0.2))
            {
                body[list] = g.Chance(0.5) ? new JsonArray() : null;
            }
        }

        RenderEnterprise(g, body);

        if (g.Chance(0.15))
        {
            body["groups"] = new JsonArray(new JsonObject { ["value"] = "g-1", ["display"] = "ignored" });
        }

        if (g.Chance(0.15))
        {
            body["roles"] = new JsonArray();
        }

        if (g.Chance(0.1))
        {
            body["password"] = "never-stored";
        }

        if (g.Chance(0.1))
        {
            body["urn:ietf:params:scim:schemas:extension:enterprise:2.0User"] = new JsonObject(); // Entra's legacy typo
        }

        return body;
    }

    private void RenderEnterprise(Choices g, JsonObject body)
    {
        JsonNode RenderManager(string id) => g.Int(0, 2) switch
        {
            0 => JsonValue.Create(id),
            1 => new JsonObject { ["value"] = id },
            _ => new JsonArray(new JsonObject { [g.Case("value")] = id }),
        };

        switch (g.Int(0, 2))
        {
            case 0: // nested under the URN
                if (HasEnterprise || g.Chance(0.2))
                {
                    var ent = new JsonObject(Enterprise.Select(p => KeyValuePair.Create(g.Case(p.Key), (JsonNode?)p.Value)));
                    if (Manager is not null)
                    {
                        ent[g.Case("manager")] = RenderManager(Manager);
                    }

                    body[g.Chance(0.2) ? Ent.ToUpperInvariant() : Ent] = ent;
                }

                break;
            case 1: // flat URN-prefixed keys
                foreach (var (key, value) in Enterprise)
                {
                    body[$"{Ent}:{g.Case(key)}"] = value;
                }

                if (Manager is not null)
                {
                    body[$"{Ent}:manager"] = RenderManager(Manager);
                }

                break;
            default: // extension attribute names without the URN
                foreach (var (key, value) in Enterprise)
                {
                    body[g.Case(key)] = value;
                }

                if (Manager is not null)
                {
                    body["manager"] = RenderManager(Manager);
                }
                else if (g.Chance(0.2))
                {
                    body["manager"] = g.Chance(0.5) ? "" : null; // an empty id means no manager
                }

                break;
        }
    }
}
