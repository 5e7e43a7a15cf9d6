using System.Text.Json.Nodes;
using Cluster.Scim.Errors;

namespace Cluster.Scim.Tests.Properties;

/// <summary>Random user requests for the property tests: operations, PatchOp bodies in a dialect, and invalid PUT bodies.</summary>
internal static class UserRequests
{
    /// <summary>A PatchOp body: renderings chosen at random; the flag dialect folds pathless replaces into one operation.</summary>
    internal static JsonObject RenderPatch(Choices g, List<UserOp> ops, Dialect dialect)
    {
        var operations = new JsonArray();
        JsonObject? pathless = null; // the last pathless operation, still open for merging
        string? pathlessVerb = null;
        foreach (var op in ops)
        {
            if (op is InvalidOp invalid)
            {
                operations.Add(JsonNode.Parse(invalid.Json));
                pathless = null;
                continue;
            }

            var rendering = g.Pick(op.Render(g, dialect));
            if (rendering.Path is null && rendering.Value is JsonObject entries)
            {
                var merge = pathless is not null && pathlessVerb == rendering.Verb
                    && (dialect == Dialect.EntraFlag || g.Chance(0.4))
                    && !entries.Any(e => pathless.Any(p => string.Equals(p.Key, e.Key, StringComparison.OrdinalIgnoreCase)));
                if (merge)
                {
                    foreach (var (key, value) in entries)
                    {
                        pathless![key] = value?.DeepClone();
                    }

                    continue;
                }

                var json = OperationJson(g, dialect, rendering);
                operations.Add(json);
                pathless = (JsonObject)json[ScimJsonKey(json, "value")]!;
                pathlessVerb = rendering.Verb;
                continue;
            }

            operations.Add(OperationJson(g, dialect, rendering));
            pathless = null;
        }

        var body = new JsonObject();
        if (dialect != Dialect.Rfc || g.Chance(0.8))
        {
            body["schemas"] = new JsonArray("urn:ietf:params:scim:api:messages:2.0:PatchOp");
        }

        body[dialect == Dialect.Rfc && g.Chance(0.2) ? "operations" : "Operations"] = operations;
        return body;
    }

    private static string ScimJsonKey(JsonObject obj, string name) =>
        obj.Select(p => p.Key).First(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));

    private static JsonObject OperationJson(Choices g, Dialect dialect, Rendering rendering)
    {
        var verb = dialect switch
        {
            Dialect.EntraDefault => char.ToUpperInvariant(rendering.Verb[0]) + rendering.Verb[1..],
            Dialect.EntraFlag => rendering.Verb,
            _ => g.Chance(0.1) ? $" {g.FlipCase(rendering.Verb)} " : g.FlipCase(rendering.Verb),
        };
        string Key(string name) => dialect == Dialect.Rfc ? g.Case(name) : name;
        var json = new JsonObject { [Key("op")] = verb };
        if (rendering.Path is not null)
        {
            json[Key("path")] = rendering.Path;
        }
        else if (dialect == Dialect.Rfc && g.Chance(0.1))
        {
            json[Key("path")] = g.Chance(0.5) ? "" : null; // blank or null path: pathless
        }

        if (rendering.HasValue)
        {
            json[Key("value")] = rendering.Value?.DeepClone();
        }

        return json;
    }

    internal static UserOp RandomOp(Choices g, UserModel model, Dialect dialect)
    {
        var list = g.Pick(UserModel.ListNames);
        var elements = model.Lists[list];
        switch (g.Int(0, 19))
        {
            case 0:
            case 1:
                var scalar = g.Pick(UserModel.ScalarNames);
                return scalar == "userName"
                    ? new SetScalar(scalar, g.Chance(0.5) ? g.Email() : g.FlipCase(model.Scalars["userName"]))
                    : new SetScalar(scalar, g.Chance(0.2) ? null : g.Text());
            case 2:
                return new SetActive(g.Chance(0.1) ? null : g.Chance(0.5));
            case 3:
                return g.Chance(0.1) ? new ClearName() : new SetName(g.Pick(UserModel.NameSubs), g.Chance(0.2) ? null : g.Text());
            case 18:
                var everySub = g.Pick(UserModel.TextSubs(list).Append("primary").ToList());
                return new EverySub(list, everySub, g.Chance(0.2) ? null : everySub == "primary" ? g.Chance(0.5) : g.Text());
            case 4:
                return new SetEnterprise(g.Pick(UserModel.EnterpriseNames), g.Chance(0.2) ? null : g.Text());
            case 5:
                return new SetManager(g.Chance(0.25) ? null : g.Pick(UserModel.ManagerIds));
            case 6:
                return g.Chance(0.7) ? new RemoveManagerIf(model.Manager ?? g.Pick(UserModel.ManagerIds)) : new RemoveEnterprise();
            case 7:
            case 8:
            case 9:
                var subs = UserModel.TextSubs(list).Append("primary").ToList();
                var sub = g.Pick(subs);
                object? value = g.Chance(0.15) ? null
                    : sub == "primary" ? g.Chance(0.6)
                    : sub == "value" ? (list == "emails" ? g.Email() : g.Phone())
                    : g.Text();
                return new FilterSetSub(RandomTypeFilter(g, list, elements), sub, value);
            case 10:
            case 11:
                var element = g.Chance(0.1) ? null : UserModel.RandomElement(g, list, allowPrimary: true);
                return new FilterSetElement(RandomTypeFilter(g, list, elements), g.Chance(0.5), element);
            case 12 when g.Chance(0.5):
                var population = new[] { new PopUser(model, "id", default, default, model.Project("id")) };
                var where = new FilterGen(g, population).NextElementFilter(list);
                return new FilterRemoveWhere(list, where, g.Chance(0.5) ? null : g.Pick(UserModel.TextSubs(list).Append("primary").ToList()));
            case 12:
                return new FilterRemove(RandomTypeFilter(g, list, elements), g.Chance(0.5) ? null : g.Pick(UserModel.TextSubs(list).Append("primary").ToList()));
            case 13:
                var valued = g.Pick(new[] { "emails", "phoneNumbers" });
                var values = model.Lists[valued].Select(e => e.Str("value")).OfType<string>().ToList();
                var literal = values.Count > 0 && g.Chance(0.7) ? Slice(g, g.Pick(values)) : g.Word();
                return new FilterSetByValue(valued, g.Pick(new[] { "sw", "co", "ew" }), literal, g.Text());
            case 14:
            case 15:
                var items = new List<Element>();
                var count = g.Int(1, 3);
                for (var i = 0; i < count; i++)
                {
                    items.Add(elements.Count > 0 && g.Chance(0.3)
                        ? CaseVariant(g, g.Pick(elements))
                        : UserModel.RandomElement(g, list, allowPrimary: true, withValue: g.Chance(0.8)));
                }

                return new ListAdd(list, items);
            case 16:
                var replacement = new List<Element>();
                var n = g.Int(0, 3);
                for (var i = 0; i < n; i++)
                {
                    replacement.Add(UserModel.RandomElement(g, list, allowPrimary: !replacement.Any(e => e.IsPrimary)));
                }

                return new ListReplace(list, replacement);
            case 17:
            case 19:
                var target = g.Pick(new[] { "emails", "phoneNumbers" });
                var existing = model.Lists[target].Select(e => e.Str("value")).OfType<string>().ToList();
                var removed = new List<string>();
                var k = g.Int(0, 2);
                for (var i = 0; i < k; i++)
                {
                    removed.Add(existing.Count > 0 && g.Chance(0.7) ? g.FlipCase(g.Pick(existing)) : g.Email());
                }

                return new ListRemoveValues(target, removed);
            default:
                throw new InvalidOperationException("unreachable");
        }
    }

    private static TypeFilter RandomTypeFilter(Choices g, string list, List<Element> elements)
    {
        var existingTypes = elements.Select(e => e.Str("type")).OfType<string>().ToList();
        var type = existingTypes.Count > 0 && g.Chance(0.6) ? g.Pick(existingTypes) : g.Pick(UserModel.Types(list));
        return new TypeFilter(list, g.Chance(0.2) ? g.FlipCase(type) : type, g.Chance(0.15));
    }

    private static Element CaseVariant(Choices g, Element element)
    {
        var copy = element.Clone();
        foreach (var key in copy.Keys.ToList())
        {
            if (copy[key] is string s && key != "type")
            {
                copy[key] = g.Chance(0.5) ? g.FlipCase(s) : s;
            }
        }

        return copy;
    }

    private static string Slice(Choices g, string value)
    {
        if (value.Length == 0)
        {
            return value;
        }

        var start = g.Int(0, value.Length - 1);
        return value.Substring(start, g.Int(1, value.Length - start));
    }

    /// <summary>A body that must be rejected: the model's own body with one defect.</summary>
    internal static (JsonObject Body, ExpectedScimError Error) InvalidPut(Choices g, UserModel model)
    {
        var body = model.RenderBody(g);
        void RemoveKey(string name)
        {
            foreach (var key in body.Select(p => p.Key).Where(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase)).ToList())
            {
                body.Remove(key);
            }
        }

        switch (g.Int(0, 6))
        {
            case 0:
                RemoveKey("userName");
                return (body, new(400, ScimErrorType.InvalidValue, "userName missing"));
            case 1:
                RemoveKey("userName");
                body["userName"] = "";
                return (body, new(400, ScimErrorType.InvalidValue, "userName empty"));
            case 2:
                body["favouriteColour"] = "blue";
                return (body, new(400, ScimErrorType.InvalidSyntax, "unknown attribute"));
            case 3:
                RemoveKey("active");
                body["active"] = "maybe";
                return (body, new(400, ScimErrorType.InvalidValue, "active not a Boolean"));
            case 4:
                RemoveKey("emails");
                body["emails"] = "someone@example.com";
                return (body, new(400, ScimErrorType.InvalidValue, "emails not complex"));
            case 5:
                RemoveKey("name");
                body["name"] = new JsonObject { ["middle"] = "x" };
                return (body, new(400, ScimErrorType.InvalidSyntax, "unknown sub-attribute"));
            default:
                RemoveKey("title");
                body["title"] = 5;
                return (body, new(400, ScimErrorType.InvalidValue, "title not a string"));
        }
    }
}
