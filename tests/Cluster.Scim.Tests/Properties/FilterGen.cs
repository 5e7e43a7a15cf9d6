using System.Globalization;

namespace Cluster.Scim.Tests.Properties;

/// <summary>A user of the filter population: the model, its id and meta times, and its stored JSON.</summary>
internal sealed record PopUser(UserModel Model, string Id, DateTimeOffset Created, DateTimeOffset Modified, System.Text.Json.Nodes.JsonObject Json)
{
    public const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public static PopUser Create(int seed) => Create(new Choices(seed));

    public static PopUser Create(Choices g)
    {
        var model = UserModel.Random(g);
        var id = new string([.. Enumerable.Range(0, 12).Select(_ => g.Pick("0123456789abcdefABCDEF".ToCharArray()))]);
        var created = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMilliseconds(g.Long(0, 365L * 24 * 3600 * 1000));
        var modified = created.AddMilliseconds(g.Long(0, 90L * 24 * 3600 * 1000));
        var json = model.Project(id);
        json["meta"] = new System.Text.Json.Nodes.JsonObject
        {
            ["resourceType"] = "User",
            ["created"] = created.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture),
            ["lastModified"] = modified.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture),
            ["version"] = "W/\"1\"",
        };
        return new PopUser(model, id, created, modified, json);
    }
}

internal enum FilterShape
{
    Atom,
    And,
    Or,
    Not,
}

/// <summary>A generated filter: its text and the reference predicate it must mean (over a user, or over one element of a value path).</summary>
internal sealed record GeneratedFilter<T>(string Text, Func<T, bool> Matches, FilterShape Kind);

/// <summary>
/// Generates random SCIM filters together with a reference predicate written directly over <see cref="UserModel"/>.
/// The reference semantics are the documented ones (FilterEvaluator remarks, RFC 7644 §3.4.2.2): strings compare
/// case-insensitively (ordinal, upper-case folding) unless the attribute is caseExact (<c>id</c>, <c>manager.value</c>,
/// <c>meta.resourceType</c>; <c>externalId</c> is case-insensitive by product rule); multi-valued attributes match when any
/// value matches; <c>ne</c> is the negation of <c>eq</c>; <c>pr</c>/<c>eq null</c> test presence; dates compare as instants.
/// </summary>
internal sealed class FilterGen(Choices g, IReadOnlyList<PopUser> population)
{
    private const string Ent = UserModel.Ent;

    private static readonly string[] StringOps = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"];

    private static readonly string[] Reserved = ["and", "or", "not", "pr", "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "true", "false", "null"];

    /// <summary>A string-valued attribute path (possibly multi-valued) with its reference accessors.</summary>
    private sealed record StrAttr(string[] Spellings, bool CaseExact, Func<PopUser, IReadOnlyList<string>> Values, Func<PopUser, bool> Present);

    private sealed record BoolAttr(string[] Spellings, Func<PopUser, IReadOnlyList<bool>> Values);

    private static IReadOnlyList<string> Subs(PopUser u, string list, string sub) =>
        [.. u.Model.Lists[list].Select(e => e.Str(sub)).OfType<string>()];

    private static bool ElementPresent(Element e) => e.Values.Any(v => v is bool || v is string { Length: > 0 });

    private static StrAttr Scalar(string name, bool caseExact = false, params string[] more) =>
        new([name, .. more], caseExact, u => u.Model.Scalars.TryGetValue(name, out var v) ? [v] : [], u => u.Model.Scalars.TryGetValue(name, out var v) && v.Length > 0);

    private static StrAttr ListSub(string list, string sub, params string[] more) =>
        new([$"{list}.{sub}", .. more], false, u => Subs(u, list, sub), u => Subs(u, list, sub).Any(v => v.Length > 0));

    private static readonly StrAttr[] StringAttrs =
    [
        Scalar("userName", false, $"{UserModel.Core}:userName"),
        Scalar("displayName"),
        Scalar("title"),
        Scalar("nickName"),
        Scalar("externalId"),
        new(["name.givenName"], false, u => u.Model.Name.TryGetValue("givenName", out var v) ? [v] : [], u => u.Model.Name.TryGetValue("givenName", out var v) && v.Length > 0),
        new(["name.familyName"], false, u => u.Model.Name.TryGetValue("familyName", out var v) ? [v] : [], u => u.Model.Name.TryGetValue("familyName", out var v) && v.Length > 0),
        ListSub("emails", "value"),
        ListSub("emails", "type"),
        ListSub("emails", "display"),
        new(["emails"], false, u => Subs(u, "emails", "value"), u => u.Model.Lists["emails"].Any(ElementPresent)),
        ListSub("phoneNumbers", "value"),
        ListSub("phoneNumbers", "type"),
        new(["phoneNumbers"], false, u => Subs(u, "phoneNumbers", "value"), u => u.Model.Lists["phoneNumbers"].Any(ElementPresent)),
        ListSub("addresses", "locality"),
        ListSub("addresses", "country"),
        ListSub("addresses", "streetAddress"),
        ListSub("addresses", "type"),
        new(["employeeNumber", $"{Ent}:employeeNumber"], false, u => u.Model.Enterprise.TryGetValue("employeeNumber", out var v) ? [v] : [], u => u.Model.Enterprise.TryGetValue("employeeNumber", out var v) && v.Length > 0),
        new(["department", $"{Ent}:department"], false, u => u.Model.Enterprise.TryGetValue("department", out var v) ? [v] : [], u => u.Model.Enterprise.TryGetValue("department", out var v) && v.Length > 0),
        new(["manager", "manager.value", $"{Ent}:manager", $"{Ent}:manager.value"], true, u => u.Model.Manager is { } m ? [m] : [], u => u.Model.Manager is not null),
        new(["id", $"{UserModel.Core}:id"], true, u => [u.Id], _ => true),
        new(["meta.resourceType"], true, _ => ["User"], _ => true),
    ];

    private static readonly BoolAttr[] BoolAttrs =
    [
        new(["active"], u => u.Model.Active is { } a ? [a] : []),
        new(["emails.primary"], u => [.. u.Model.Lists["emails"].Where(e => e.ContainsKey("primary")).Select(e => e.IsPrimary)]),
        new(["phoneNumbers.primary"], u => [.. u.Model.Lists["phoneNumbers"].Where(e => e.ContainsKey("primary")).Select(e => e.IsPrimary)]),
        new(["addresses.primary"], u => [.. u.Model.Lists["addresses"].Where(e => e.ContainsKey("primary")).Select(e => e.IsPrimary)]),
    ];

    /// <summary>A random filter of at most <paramref name="depth"/> levels of and/or/not.</summary>
    public GeneratedFilter<PopUser> Next(int depth = 3) => Combine(depth, Atom, g.Chance(0.3));

    /// <summary>A random value filter for the elements of <paramref name="list"/> (as in <c>emails[…]</c>).</summary>
    public GeneratedFilter<Element> NextElementFilter(string list, int depth = 2) => Combine(depth, () => ElementAtom(list), allowRandomParens: true);

    private GeneratedFilter<T> Combine<T>(int depth, Func<GeneratedFilter<T>> atom, bool allowRandomParens)
    {
        if (depth == 0 || g.Chance(0.35))
        {
            return atom();
        }

        switch (g.Int(0, 2))
        {
            case 0:
            {
                var (l, r) = (Combine(depth - 1, atom, allowRandomParens), Combine(depth - 1, atom, allowRandomParens));
                var text = $"{Wrap(l, l.Kind == FilterShape.Or)} {g.Case("and")} {Wrap(r, r.Kind == FilterShape.Or)}";
                return new(text, u => l.Matches(u) && r.Matches(u), FilterShape.And);
            }

            case 1:
            {
                var (l, r) = (Combine(depth - 1, atom, allowRandomParens), Combine(depth - 1, atom, allowRandomParens));
                var text = $"{Wrap(l, false)} {g.Case("or")} {Wrap(r, false)}";
                return new(text, u => l.Matches(u) || r.Matches(u), FilterShape.Or);
            }

            default:
            {
                var inner = Combine(depth - 1, atom, allowRandomParens);
                var text = $"{g.Case("not")}{(g.Chance(0.8) ? " " : "")}({inner.Text})";
                return new(text, u => !inner.Matches(u), FilterShape.Not);
            }
        }

        string Wrap(GeneratedFilter<T> f, bool needed) => needed || (allowRandomParens && g.Chance(0.2)) ? $"({f.Text})" : f.Text;
    }

    private GeneratedFilter<PopUser> Atom() => g.Int(0, 19) switch
    {
        < 9 => StringAtom(),
        < 11 => BoolAtom(),
        < 13 => DateAtom(),
        < 15 => PresenceAtom(),
        _ => ValuePathAtom(),
    };

    private string Op(string op) => g.Chance(0.2) ? op.ToUpperInvariant() : op;

    private GeneratedFilter<PopUser> StringAtom()
    {
        var attr = g.Pick(StringAttrs);
        var path = g.Case(g.Pick(attr.Spellings));
        var op = g.Pick(StringOps);
        var literal = StringLiteral(op, u => attr.Values(u));
        var comparison = attr.CaseExact ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        var rendered = op == "eq" && IsBareWord(literal) && g.Chance(0.3) ? literal : g.Quote(literal); // Entra's legacy unquoted values
        return new($"{path} {Op(op)} {rendered}", u => CompareAny(attr.Values(u), op, literal, comparison), FilterShape.Atom);
    }

    private static bool IsBareWord(string text) =>
        text.Length > 0 && char.IsAsciiLetter(text[0]) && text.All(char.IsAsciiLetterOrDigit)
        && !Reserved.Contains(text, StringComparer.OrdinalIgnoreCase);

    private string StringLiteral(string op, Func<PopUser, IReadOnlyList<string>> values)
    {
        var sample = values(g.Pick(population));
        if (sample.Count == 0 || g.Chance(0.2))
        {
            sample = values(g.Pick(population));
        }

        if (sample.Count == 0 || g.Chance(0.15))
        {
            return g.Chance(0.5) ? g.Word() : g.Text();
        }

        var value = g.Pick(sample);
        if (value.Length == 0)
        {
            return value;
        }

        var literal = op switch
        {
            "co" => value.Substring(g.Int(0, value.Length - 1)) is var rest ? rest[..g.Int(1, rest.Length)] : value,
            "sw" => value[..g.Int(1, value.Length)],
            "ew" => value[g.Int(0, value.Length - 1)..],
            _ => value,
        };
        return g.Chance(0.35) ? g.FlipCase(literal) : literal;
    }

    private static bool CompareAny(IReadOnlyList<string> values, string op, string literal, StringComparison comparison) =>
        op == "ne"
            ? !values.Any(v => string.Equals(v, literal, comparison))
            : values.Any(v => Compare(v, op, literal, comparison));

    private static bool Compare(string value, string op, string literal, StringComparison comparison) => op switch
    {
        "eq" => string.Equals(value, literal, comparison),
        "ne" => !string.Equals(value, literal, comparison),
        "co" => value.Contains(literal, comparison),
        "sw" => value.StartsWith(literal, comparison),
        "ew" => value.EndsWith(literal, comparison),
        "gt" => string.Compare(value, literal, comparison) > 0,
        "ge" => string.Compare(value, literal, comparison) >= 0,
        "lt" => string.Compare(value, literal, comparison) < 0,
        _ => string.Compare(value, literal, comparison) <= 0,
    };

    private GeneratedFilter<PopUser> BoolAtom()
    {
        var attr = g.Pick(BoolAttrs);
        var literal = g.Chance(0.5);
        var rendered = g.Int(0, 3) switch
        {
            0 => literal ? "TRUE" : "False",
            1 => literal ? "\"True\"" : "\"false\"", // Entra's string Booleans
            _ => literal ? "true" : "false",
        };
        var ne = g.Chance(0.3);
        return new(
            $"{g.Case(attr.Spellings[0])} {Op(ne ? "ne" : "eq")} {rendered}",
            u => ne ? !attr.Values(u).Contains(literal) : attr.Values(u).Contains(literal),
            FilterShape.Atom);
    }

    private GeneratedFilter<PopUser> DateAtom()
    {
        var created = g.Chance(0.5);
        var path = created ? "meta.created" : "meta.lastModified";
        DateTimeOffset Of(PopUser u) => created ? u.Created : u.Modified;
        if (g.Chance(0.15))
        {
            // Textual operators compare the stored text.
            var prefix = Of(g.Pick(population)).UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture);
            return new($"{g.Case(path)} {Op("sw")} \"{prefix}\"", u => Of(u).UtcDateTime.ToString(PopUser.TimeFormat, CultureInfo.InvariantCulture).StartsWith(prefix, StringComparison.Ordinal), FilterShape.Atom);
        }

        var instant = g.Chance(0.5)
            ? Of(g.Pick(population))
            : new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).AddSeconds(g.Long(0, 500L * 24 * 3600));
        var text = g.Int(0, 2) switch
        {
            0 => instant.UtcDateTime.ToString(PopUser.TimeFormat, CultureInfo.InvariantCulture),
            1 => instant.ToOffset(TimeSpan.FromHours(2)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture),
            _ => instant.ToOffset(TimeSpan.FromHours(-5)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffffzzz", CultureInfo.InvariantCulture),
        };
        var op = g.Pick(new[] { "eq", "ne", "gt", "ge", "lt", "le" });
        return new($"{g.Case(path)} {Op(op)} \"{text}\"", u => op switch
        {
            "eq" => Of(u) == instant,
            "ne" => Of(u) != instant,
            "gt" => Of(u) > instant,
            "ge" => Of(u) >= instant,
            "lt" => Of(u) < instant,
            _ => Of(u) <= instant,
        }, FilterShape.Atom);
    }

    private GeneratedFilter<PopUser> PresenceAtom()
    {
        if (g.Chance(0.2))
        {
            var b = g.Pick(BoolAttrs);
            return new($"{g.Case(b.Spellings[0])} {Op("pr")}", u => b.Values(u).Count > 0, FilterShape.Atom);
        }

        if (g.Chance(0.15))
        {
            return new($"{g.Case("name")} {Op("pr")}", u => u.Model.Name.Values.Any(v => v.Length > 0), FilterShape.Atom);
        }

        var attr = g.Pick(StringAttrs);
        var path = g.Case(g.Pick(attr.Spellings));
        return g.Int(0, 2) switch
        {
            0 => new($"{path} {Op("pr")}", attr.Present, FilterShape.Atom),
            1 => new($"{path} {Op("eq")} null", u => !attr.Present(u), FilterShape.Atom),
            _ => new($"{path} {Op("ne")} {(g.Chance(0.5) ? "null" : "NULL")}", attr.Present, FilterShape.Atom),
        };
    }

    /// <summary><c>emails[type eq "work" and value co "x"]</c>, and Entra's <c>emails[type eq "work"].value eq "x"</c>.</summary>
    private GeneratedFilter<PopUser> ValuePathAtom()
    {
        if (g.Chance(0.15))
        {
            // A value filter on a single-valued complex attribute: name[givenName sw "a" or familyName pr].
            var nameFilter = Combine(2, NameAtom, allowRandomParens: true);
            return new($"{g.Case("name")}[{nameFilter.Text}]", u => u.Model.Name.Count > 0 && nameFilter.Matches(u.Model.Name), FilterShape.Atom);
        }

        var list = g.Pick(UserModel.ListNames);
        var inner = Combine(2, () => ElementAtom(list), allowRandomParens: true);
        var attr = g.Case(list);
        if (list != "addresses" && g.Chance(0.3))
        {
            var sub = g.Pick(new[] { "value", "display" });
            var op = g.Pick(StringOps);
            var literal = StringLiteral(op, u => Subs(u, list, sub));
            return new(
                $"{attr}[{inner.Text}].{g.Case(sub)} {Op(op)} {g.Quote(literal)}",
                u => u.Model.Lists[list].Any(e => inner.Matches(e) && ElementCompare(e, sub, op, literal)),
                FilterShape.Atom);
        }

        return new($"{attr}[{inner.Text}]", u => u.Model.Lists[list].Any(e => inner.Matches(e)), FilterShape.Atom);
    }

    private static bool ElementCompare(Element e, string sub, string op, string literal) =>
        op == "ne"
            ? !(e.Str(sub) is { } v && string.Equals(v, literal, StringComparison.OrdinalIgnoreCase))
            : e.Str(sub) is { } w && Compare(w, op, literal, StringComparison.OrdinalIgnoreCase);

    private GeneratedFilter<Dictionary<string, string>> NameAtom()
    {
        var sub = g.Pick(UserModel.NameSubs);
        if (g.Chance(0.2))
        {
            return new($"{g.Case(sub)} {Op("pr")}", n => n.TryGetValue(sub, out var v) && v.Length > 0, FilterShape.Atom);
        }

        var op = g.Pick(StringOps);
        var literal = StringLiteral(op, u => u.Model.Name.TryGetValue(sub, out var v) ? [v] : []);
        return new(
            $"{g.Case(sub)} {Op(op)} {g.Quote(literal)}",
            n => op == "ne"
                ? !(n.TryGetValue(sub, out var v) && string.Equals(v, literal, StringComparison.OrdinalIgnoreCase))
                : n.TryGetValue(sub, out var w) && Compare(w, op, literal, StringComparison.OrdinalIgnoreCase),
            FilterShape.Atom);
    }

    private GeneratedFilter<Element> ElementAtom(string list)
    {
        var subs = UserModel.TextSubs(list);
        if (g.Chance(0.2))
        {
            var literal = g.Chance(0.5);
            return g.Chance(0.3)
                ? new($"{g.Case("primary")} {Op("pr")}", u => u.ContainsKey("primary"), FilterShape.Atom)
                : new($"{g.Case("primary")} {Op("eq")} {(literal ? "true" : "false")}", u => u.TryGetValue("primary", out var p) && p is bool b && b == literal, FilterShape.Atom);
        }

        var sub = g.Pick(subs);
        if (g.Chance(0.15))
        {
            return new($"{g.Case(sub)} {Op("pr")}", u => u.Str(sub) is { Length: > 0 }, FilterShape.Atom);
        }

        var op = g.Pick(StringOps);
        var value = StringLiteral(op, u => Subs(u, list, sub));
        return new($"{g.Case(sub)} {Op(op)} {g.Quote(value)}", u => ElementCompare(u, sub, op, value), FilterShape.Atom);
    }
}
