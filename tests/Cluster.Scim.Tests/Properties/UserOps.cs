using System.Text.Json.Nodes;
using Cluster.Scim.Errors;

namespace Cluster.Scim.Tests.Properties;

/// <summary>The PATCH dialects of entra-scim.md §2.5/§4.3, plus generic RFC 7644 clients.</summary>
internal enum Dialect
{
    /// <summary>Entra without the flag: capitalised ops, one path op per attribute, string Booleans.</summary>
    EntraDefault,

    /// <summary>Entra with <c>aadOptscim062020</c>: lower-case ops, pathless replace with dotted/URN keys, JSON Booleans.</summary>
    EntraFlag,

    /// <summary>Any RFC client: ops and keys in any case, nested pathless values.</summary>
    Rfc,
}

/// <summary>
/// One wire form of an operation. <see cref="Verb"/> is add/replace/remove; a null <see cref="Path"/> is pathless
/// and then <see cref="Value"/> is an object whose keys are paths (merged with neighbours in the flag dialect).
/// </summary>
internal sealed record Rendering(string Verb, string? Path, JsonNode? Value, bool HasValue = true);

/// <summary>
/// A semantic PATCH operation on a user: <see cref="Apply"/> is its meaning on the reference model, <see cref="Render"/>
/// lists wire forms that all mean exactly that.
/// </summary>
internal abstract record UserOp
{
    public abstract void Apply(UserModel model);

    public abstract IReadOnlyList<Rendering> Render(Choices g, Dialect dialect);

    protected static string AddOrReplace(Choices g) => g.Chance(0.5) ? "add" : "replace";

    protected static JsonNode? Str(string? value) => value is null ? null : JsonValue.Create(value);

    protected static Rendering Pathless(string verb, string key, JsonNode? value) => new(verb, null, new JsonObject { [key] = value });

    protected static bool StringBooleans(Choices g, Dialect dialect) =>
        dialect == Dialect.EntraDefault || (dialect == Dialect.Rfc && g.Chance(0.3));
}

/// <summary>userName, displayName, title, externalId, nickName: set, or clear with null.</summary>
internal sealed record SetScalar(string Attr, string? Value) : UserOp
{
    public override void Apply(UserModel model)
    {
        if (Value is null)
        {
            if (Attr == "userName")
            {
                throw new ExpectedScimError(400, ScimErrorType.Mutability, "userName is required and cannot be removed");
            }

            model.Scalars.Remove(Attr);
        }
        else
        {
            model.Scalars[Attr] = Value;
        }
    }

    public override IReadOnlyList<Rendering> Render(Choices g, Dialect dialect) => Value is null
        ?
        [
            new("remove", g.Case(Attr), null, HasValue: false),
            new("replace", g.Case(Attr), null),
            Pathless("replace", g.Case(Attr), null),
        ]
        :
        [
            new(AddOrReplace(g), g.Case(Attr), Str(Value)),
            new(AddOrReplace(g), $"{UserModel.Core}:{g.Case(Attr)}", Str(Value)),
            Pathless(AddOrReplace(g), g.Case(Attr), Str(Value)),
            Pathless(AddOrReplace(g), $"{UserModel.Core}:{g.Case(Attr)}", Str(Value)),
        ];
}

/// <summary><c>active</c>: "True"/"False" strings in Entra's default dialect, JSON Booleans with the flag.</summary>
internal sealed record SetActive(bool? Value) : UserOp
{
    public override void Apply(UserModel model) => model.Active = Value;

    public override IReadOnlyList<Rendering> Render(Choices g, Dialect dialect)
    {
        if (Value is not { } value)
        {
            return [new("remove", g.Case("active"), null, HasValue: false), Pathless("replace", "active", null)];
        }

        var json = UserModel.RenderBool(g, value, StringBooleans(g, dialect));
        return [new(AddOrReplace(g), g.Case("active"), json), Pathless(AddOrReplace(g), g.Case("active"), json.DeepClone())];
    }
}

/// <summary><c>name.givenName</c> etc.: dotted paths, dotted pathless keys, nested objects (merged).</summary>
internal sealed record SetName(string Sub, string? Value) : UserOp
{
    public override void Apply(UserModel model)
    {
        if (Value is null)
        {
            model.Name.Remove(Sub);
        }
        else
        {
            model.Name[Sub] = Value;
        }
    }

    public override IReadOnlyList<Rendering> Render(Choices g, Dialect dialect)
    {
        var dotted = $"{g.Case("name")}.{g.Case(Sub)}";
        var nested = new JsonObject { [g.Case(Sub)] = Str(Value) };
        List<Rendering> forms =
        [
            new(Value is null ? "replace" : AddOrReplace(g), dotted, Str(Value)),
            Pathless(Value is null ? "replace" : AddOrReplace(g), dotted, Str(Value)),
            Pathless(AddOrReplace(g), g.Case("name"), nested),
            new(AddOrReplace(g), g.Case("name"), nested.DeepClone()),
        ];
        if (Value is null)
        {
            forms.Add(new("remove", dotted, null, HasValue: false));
        }
        else
        {
            forms.Add(new(AddOrReplace(g), $"{UserModel.Core}:{dotted}", Str(Value)));
            forms.Add(new(AddOrReplace(g), g.Case("name"), new JsonArray(nested.DeepClone()))); // unwrapped, then merged
        }

        return forms;
    }
}

/// <summary><c>remove name</c>: the whole complex attribute.</summary>
internal sealed record ClearName : UserOp
{
    public override void Apply(UserModel model) => model.Name.Clear();

    public override IReadOnlyList<Rendering> Render(Choices g, Dialect dialect) =>
        [new("remove", g.Case("name"), null, HasValue: false), new("replace", g.Case("name"), null), Pathless("replace", g.Case("name"), null)];
}

/// <summary>
/// <c>emails.display</c> (no filter): every element's sub-attribute; with no element at all, add/replace creates one.
/// </summary>
internal sealed record EverySub(string List, string Sub, object? Value) : UserOp
{
    public override void Apply(UserModel model)
    {
        var list = model.Lists[List];
        if (Value is null)
        {
            list.ForEach(e => e.Remove(Sub));
            return;
        }

        if (list.Count == 0)
        {
            list.Add(new Element { [Sub] = Value });
            return;
        }

        foreach (var element in list)
        {
            element[Sub] = Value;
            ListSemantics.ClearOtherPrimaries(list, element);
        }
    }

    public override IReadOnlyList<Rendering> Render(Choices g, Dialect dialect)
    {
        var path = $"{g.Case(List)}.{g.Case(Sub)}";
        JsonNode? value = Value switch
        {
            bool b => UserModel.RenderBool(g, b, StringBooleans(g, dialect)),
            string s => s,
            _ => null,
        };
        return Value is null
            ? [new("remove", path, null, HasValue: false), new("replace", path, null)]
            : [new(AddOrReplace(g), path, value)];
    }
}

/// <summary>Enterprise employeeNumber/department: URN paths, URN pathless keys, the extension object, bare names.</summary>
internal sealed record SetEnterprise(string Attr, string? Value) : UserOp
{
    public override void Apply(UserModel model)
    {
        if (Value is null)
        {
            model.Enterprise.Remove(Attr);
        }
        else
        {
            model.Enterprise[Attr] = Value;
        }
    }

    public override IReadOnlyList<Rendering> Render(Choices g, Dialect dialect)
    {
        var urnPath = $"{UserModel.Ent}:{g.Case(Attr)}";
        var verb = Value is null ? "replace" : AddOrReplace(g);
        List<Rendering> forms =
        [
            new(verb, urnPath, Str(Value)),
            Pathless(verb, urnPath, Str(Value)),
            Pathless(AddOrReplace(g), UserModel.Ent, new JsonObject { [g.Case(Attr)] = Str(Value) }),
            new(AddOrReplace(g), UserModel.Ent, new JsonObject { [g.Case(Attr)] = Str(Value) }),
            new(verb, g.Case(Attr), Str(Value)),
        ];
        if (Value is null)
        {
            forms.Add(new("remove", urnPath, null, HasValue: false));
            forms.Add(new("remove", g.Case(Attr), null, HasValue: false));
        }

        return forms;
    }
}

/// <summary>Enterprise manager: a bare id (Entra), <c>{"value":id}</c>, a legacy array; cleared by remove or an empty id.</summary>
internal sealed record SetManager(string? Id) : UserOp
{
    public override void Apply(UserModel model) => model.Manager = Id;

    public override IReadOnlyList<Rendering> Render(Choices g, Dialect dialect)
    {
        var path = $"{UserModel.Ent}:{g.Case("manager")}";
        if (Id is null)
        {
            return
            [
                new("remove", path, null, HasValue: false),
                new("remove", "manager", null, HasValue: false),
                new("remove", $"{path}.value", null, HasValue: false),
                new("replace", path, new JsonObject { ["value"] = "" }), // the SCIM Validator's "remove manager"
                new("replace", path, ""),
                Pathless("replace", path, null),
            ];
        }

        return
        [
            new(AddOrReplace(g), path, Id),
            new(AddOrReplace(g), path, new JsonObject { [g.Case("value")] = Id }),
            new("add", "manager", new JsonArray(new JsonObject { ["$ref"] = $"https://example.com/Users/{Id}", ["value"] = Id })),
            new(AddOrReplace(g), $"{path}.{g.Case("value")}", Id),
            Pathless(AddOrReplace(g), path, Id),
            Pathless(AddOrReplace(g), UserModel.Ent, new JsonObject { ["manager"] = Id }),
        ];
    }
}

/// <summary><c>remove manager[value eq "id"]</c>: clears the manager only when it is that id (case-exact).</summary>
internal sealed record RemoveManagerIf(string Id) : UserOp
{
    public override void Apply(UserModel model)
    {
        if (string.Equals(model.Manager, Id, StringComparison.Ordinal))
        {
            model.Manager = null;
        }
    }

    public override IReadOnlyList<Rendering> Render(Choices g, Dialect dialect) =>
        [new("remove", $"{g.Case("manager")}[value eq {g.Quote(Id)}]", null, HasValue: false)];
}

/// <summary><c>remove urn:…:enterprise:2.0:User</c>: the whole extension.</summary>
internal sealed record RemoveEnterprise : UserOp
{
    public override void Apply(UserModel model)
    {
        model.Enterprise.Clear();
        model.Manager = null;
    }

    public override IReadOnlyList<Rendering> Render(Choices g, Dialect dialect) =>
        [new("remove", UserModel.Ent, null, HasValue: false), Pathless("replace", UserModel.Ent, null)];
}

/// <summary>The value filter <c>[type eq "T"]</c> or <c>[type eq "T" and primary eq true]</c> of a list.</summary>
internal sealed record TypeFilter(string List, string Type, bool RequirePrimary)
{
    public bool Matches(Element element) =>
        element.Str("type") is { } type && string.Equals(type, Type, StringComparison.OrdinalIgnoreCase)
        && (!RequirePrimary || element.IsPrimary);

    /// <summary>The element an add/replace creates when nothing matches: the filter's eq values.</summary>
    public Element Template()
    {
        var element = new Element { ["type"] = Type };
        if (RequirePrimary)
        {
            element["primary"] = true;
        }

        return element;
    }

    public string Render(Choices g)
    {
        var text = $"{g.Case("type")} {g.Case("eq")} {g.Quote(Type)}";
        if (RequirePrimary)
        {
            text += $" {g.Case("and")} {g.Case("primary")} {g.Case("eq")} {(g.Chance(0.8) ? "true" : "TRUE")}";
        }

        var urn = g.Chance(0.1) ? $"{UserModel.Core}:" : "";
        return $"{urn}{g.Case(List)}[{text}]";
    }
}

/// <summary>Shared list semantics of the model.</summary>
internal static class ListSemantics
{
    /// <summary>RFC 7644 §3.5.2: a value that becomes primary makes every other value non-primary.</summary>
    public static void ClearOtherPrimaries(List<Element> list, Element kept)
    {
        if (!kept.IsPrimary)
        {
            return;
        }

        foreach (var other in list)
        {
            if (!ReferenceEquals(other, kept) && other.IsPrimary)
            {
                other["primary"] = false;
            }
        }
    }

    /// <summary>
    /// Whether an existing element is the one a given element designates: same <c>value</c> (case-insensitive) when the
    /// list has a value sub-attribute and the given element has it, else every given sub-attribute equal.
    /// </summary>
    public static bool Designates(Element existing, Element given, string list)
    {
        if (UserModel.HasValueSub(list) && given.Str("value") is { } value)
        {
            return existing.Str("value") is { } existingValue && string.Equals(existingValue, value, StringComparison.OrdinalIgnoreCase);
        }

        return given.Count > 0 && given.All(p => existing.TryGetValue(p.Key, out var v) && (v, p.Value) switch
        {
            (string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase),
            (bool a, bool b) => a == b,
            _ => false,
        });
    }
}

/// <summary><c>emails[type eq "work"].value</c> (add/replace; null or remove clears the sub-attribute of matches).</summary>
internal sealed record FilterSetSub(TypeFilter Filter, string Sub, object? Value) : UserOp
{
    public override void Apply(UserModel model)
    {
        var list = model.Lists[Filter.List];
        var matches = list.Where(Filter.Matches).ToList();
        if (Value is null)
        {
            matches.ForEach(m => m.Remove(Sub));
            return;
        }

        if (matches.Count == 0)
        {
            var created = Filter.Template();
            created[Sub] = Value;
            list.Add(created);
            ListSemantics.ClearOtherPrimaries(list, created);
            return;
        }

        foreach (var match in matches)
        {
            match[Sub] = Value;
            ListSemantics.ClearOtherPrimaries(list, match);
        }
    }

    public override IReadOnlyList<Rendering> Render(Choices g, Dialect dialect)
    {
        var path = $"{Filter.Render(g)}.{g.Case(Sub)}";
        JsonNode? value = Value switch
        {
            bool b => UserModel.RenderBool(g, b, StringBooleans(g, dialect)),
            string s => s,
            _ => null,
        };
        List<Rendering> forms = [new(Value is null ? "replace" : AddOrReplace(g), path, value)];
        if (Value is null)
        {
            forms.Add(new("remove", path, null, HasValue: false));
        }

        if (dialect == Dialect.Rfc)
        {
            forms.Add(Pathless(Value is null ? "replace" : AddOrReplace(g), path, value?.DeepClone()));
        }

        return forms;
    }
}

/// <summary>
/// <c>emails[type eq "work"]</c> with an element value: add merges into matches, replace replaces them (keeping the
/// filter's eq values); nothing matching creates one. A null value with replace removes the matches; with add does nothing.
/// </summary>
internal sealed record FilterSetElement(TypeFilter Filter, bool Replace, Element? Value) : UserOp
{
    public override void Apply(UserModel model)
    {
        var list = model.Lists[Filter.List];
        var matches = list.Where(Filter.Matches).ToList();
        if (Value is null)
        {
            if (Replace)
            {
                list.RemoveAll(matches.Contains);
            }

            return;
        }

        if (matches.Count == 0)
        {
            var created = Filter.Template();
            Merge(created, Value);
            list.Add(created);
            ListSemantics.ClearOtherPrimaries(list, created);
            return;
        }

        foreach (var match in matches)
        {
            if (Replace)
            {
                match.Clear();
                Merge(match, Filter.Template());
            }

            Merge(match, Value);
            ListSemantics.ClearOtherPrimaries(list, match);
        }
    }

    public override IReadOnlyList<Rendering> Render(Choices g, Dialect dialect)
    {
        var verb = Replace ? "replace" : "add";
        if (Value is null)
        {
            return [new(verb, Filter.Render(g), null), new(verb, Filter.Render(g), new JsonObject())];
        }

        var element = UserModel.RenderElement(g, Value, StringBooleans(g, dialect));
        return [new(verb, Filter.Render(g), element), new(verb, Filter.Render(g), new JsonArray(element.DeepClone()))];
    }

    private static void Merge(Element target, Element source)
    {
        foreach (var (key, value) in source)
        {
            target[key] = value;
        }
    }
}

/// <summary><c>remove emails[type eq "work"]</c> or <c>remove emails[type eq "work"].display</c>.</summary>
internal sealed record FilterRemove(TypeFilter Filter, string? Sub) : UserOp
{
    public override void Apply(UserModel model)
    {
        var list = model.Lists[Filter.List];
        if (Sub is null)
        {
            list.RemoveAll(Filter.Matches);
        }
        else
        {
            list.Where(Filter.Matches).ToList().ForEach(m => m.Remove(Sub));
        }
    }

    public override IReadOnlyList<Rendering> Render(Choices g, Dialect dialect) =>
        [new("remove", Sub is null ? Filter.Render(g) : $"{Filter.Render(g)}.{g.Case(Sub)}", null, HasValue: false)];
}

/// <summary>
/// <c>remove emails[&lt;any value filter&gt;]</c> or <c>….display</c>: removes the matching elements (or their
/// sub-attribute); the filter (or, not, ne, co, gt, …) is evaluated by the reference predicate generated with it.
/// </summary>
internal sealed record FilterRemoveWhere(string List, GeneratedFilter<Element> Filter, string? Sub) : UserOp
{
    public override void Apply(UserModel model)
    {
        var list = model.Lists[List];
        if (Sub is null)
        {
            list.RemoveAll(e => Filter.Matches(e));
        }
        else
        {
            list.Where(e => Filter.Matches(e)).ToList().ForEach(e => e.Remove(Sub));
        }
    }

    public override IReadOnlyList<Rendering> Render(Choices g, Dialect dialect)
    {
        var path = $"{g.Case(List)}[{Filter.Text}]";
        return [new("remove", Sub is null ? path : $"{path}.{g.Case(Sub)}", null, HasValue: false)];
    }
}

/// <summary>
/// <c>emails[value sw "x"].display</c>: a filter that cannot describe a new element, so no match is noTarget.
/// </summary>
internal sealed record FilterSetByValue(string List, string Operator, string Literal, string Display) : UserOp
{
    public override void Apply(UserModel model)
    {
        var list = model.Lists[List];
        var matches = list.Where(e => e.Str("value") is { } v && Operator switch
        {
            "sw" => v.StartsWith(Literal, StringComparison.OrdinalIgnoreCase),
            "ew" => v.EndsWith(Literal, StringComparison.OrdinalIgnoreCase),
            _ => v.Contains(Literal, StringComparison.OrdinalIgnoreCase),
        }).ToList();
        if (matches.Count == 0)
        {
            throw new ExpectedScimError(400, ScimErrorType.NoTarget, "no element matches and the filter is not an eq template");
        }

        foreach (var match in matches)
        {
            match["display"] = Display;
            ListSemantics.ClearOtherPrimaries(list, match);
        }
    }

    public override IReadOnlyList<Rendering> Render(Choices g, Dialect dialect) =>
        [new(AddOrReplace(g), $"{g.Case(List)}[{g.Case("value")} {g.Case(Operator)} {g.Quote(Literal)}].{g.Case("display")}", Display)];
}

/// <summary><c>add emails [..]</c>: appends each element no existing element designates (RFC 7644 §3.5.2.1).</summary>
internal sealed record ListAdd(string List, IReadOnlyList<Element> Items) : UserOp
{
    public override void Apply(UserModel model)
    {
        var list = model.Lists[List];
        foreach (var item in Items)
        {
            if (!list.Any(e => ListSemantics.Designates(e, item, List)))
            {
                var added = item.Clone();
                list.Add(added);
                ListSemantics.ClearOtherPrimaries(list, added);
            }
        }
    }

    public override IReadOnlyList<Rendering> Render(Choices g, Dialect dialect)
    {
        JsonArray Array() => new([.. Items.Select(i => (JsonNode)UserModel.RenderElement(g, i, StringBooleans(g, dialect)))]);
        List<Rendering> forms = [new("add", g.Case(List), Array()), Pathless("add", g.Case(List), Array())];
        if (Items.Count == 1)
        {
            forms.Add(new("add", g.Case(List), UserModel.RenderElement(g, Items[0], StringBooleans(g, dialect))));
            forms.Add(Pathless("add", g.Case(List), UserModel.RenderElement(g, Items[0], StringBooleans(g, dialect))));
        }

        return forms;
    }
}

/// <summary><c>replace emails [..]</c>: the whole list (empty removes the attribute).</summary>
internal sealed record ListReplace(string List, IReadOnlyList<Element> Items) : UserOp
{
    public override void Apply(UserModel model)
    {
        model.Lists[List].Clear();
        model.Lists[List].AddRange(Items.Select(i => i.Clone()));
    }

    public override IReadOnlyList<Rendering> Render(Choices g, Dialect dialect)
    {
        JsonArray Array() => new([.. Items.Select(i => (JsonNode)UserModel.RenderElement(g, i, StringBooleans(g, dialect)))]);
        List<Rendering> forms = [new("replace", g.Case(List), Array()), Pathless("replace", g.Case(List), Array())];
        if (Items.Count == 0)
        {
            forms.Add(new("replace", g.Case(List), null));
            forms.Add(new("remove", g.Case(List), null, HasValue: false));
        }

        return forms;
    }
}

/// <summary><c>remove emails</c> with a value list: removes only the elements with those values (Entra's member-removal shape).</summary>
internal sealed record ListRemoveValues(string List, IReadOnlyList<string> Values) : UserOp
{
    public override void Apply(UserModel model) =>
        model.Lists[List].RemoveAll(e => e.Str("value") is { } v && Values.Any(x => string.Equals(v, x, StringComparison.OrdinalIgnoreCase)));

    public override IReadOnlyList<Rendering> Render(Choices g, Dialect dialect) =>
        [new("remove", g.Case(List), new JsonArray([.. Values.Select(v => (JsonNode)new JsonObject { [g.Case("value")] = v })]))];
}

/// <summary>
/// An operation the library must reject with <see cref="Status"/>/<see cref="ScimType"/>. A <see cref="ParseLevel"/>
/// defect (unknown op, malformed path, missing value) is found when the request is parsed, before any operation applies.
/// </summary>
internal sealed record InvalidOp(string Json, int Status, string ScimType, bool ParseLevel = false) : UserOp
{
    public override void Apply(UserModel model) => throw new ExpectedScimError(Status, ScimType, $"invalid operation {Json}");

    public override IReadOnlyList<Rendering> Render(Choices g, Dialect dialect) => throw new InvalidOperationException("rendered verbatim");

    public static readonly InvalidOp[] UserCatalogue =
    [
        new("""{"op":"replace","path":"nickname2","value":"x"}""", 400, ScimErrorType.InvalidPath),
        new("""{"op":"add","path":"emails[type eq","value":"x"}""", 400, ScimErrorType.InvalidPath, ParseLevel: true),
        new("""{"op":"replace","path":"name.middle","value":"x"}""", 400, ScimErrorType.InvalidPath),
        new("""{"op":"replace","path":"title[value eq \"x\"]","value":"y"}""", 400, ScimErrorType.InvalidPath),
        new("""{"op":"replace","path":"emails[foo eq \"x\"].value","value":"y"}""", 400, ScimErrorType.InvalidPath),
        new("""{"op":"replace","path":"emails[type eq \"work\"].nope","value":"y"}""", 400, ScimErrorType.InvalidPath),
        new("""{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:badge","value":"y"}""", 400, ScimErrorType.InvalidPath),
        new("""{"op":"replace","value":{"nickname2":"x"}}""", 400, ScimErrorType.InvalidPath),
        new("""{"op":"replace","path":"id","value":"x"}""", 400, ScimErrorType.Mutability),
        new("""{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}""", 400, ScimErrorType.Mutability),
        new("""{"op":"add","path":"groups","value":[{"value":"g1"}]}""", 400, ScimErrorType.Mutability),
        new("""{"op":"replace","path":"schemas","value":["urn:x"]}""", 400, ScimErrorType.Mutability),
        new("""{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName","value":"Boss"}""", 400, ScimErrorType.Mutability),
        new("""{"op":"Remove","path":"userName"}""", 400, ScimErrorType.Mutability),
        new("""{"op":"replace","value":{"id":"x","displayName":"y"}}""", 400, ScimErrorType.Mutability),
        new("""{"op":"replace","path":"active","value":"yes"}""", 400, ScimErrorType.InvalidValue),
        new("""{"op":"replace","path":"title","value":42}""", 400, ScimErrorType.InvalidValue),
        new("""{"op":"add","path":"emails","value":"someone@example.com"}""", 400, ScimErrorType.InvalidValue),
        new("""{"op":"replace","path":"name","value":"Barbara Jensen"}""", 400, ScimErrorType.InvalidValue),
        new("""{"op":"replace","path":"emails[type eq \"work\"].value","value":true}""", 400, ScimErrorType.InvalidValue),
        new("""{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":42}""", 400, ScimErrorType.InvalidValue),
        new("""{"op":"add","value":"not an object"}""", 400, ScimErrorType.InvalidValue),
        new("""{"op":"replace","path":"userName","value":""}""", 400, ScimErrorType.InvalidValue),
        new("""{"op":"replace","value":{"name":{"middle":"x"}}}""", 400, ScimErrorType.InvalidSyntax),
        new("""{"op":"add","path":"emails","value":[{"value":"a@b.c","kind":"work"}]}""", 400, ScimErrorType.InvalidSyntax),
        new("""{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"m","boss":true}}""", 400, ScimErrorType.InvalidSyntax),
        new("""{"op":"update","path":"title","value":"x"}""", 400, ScimErrorType.InvalidSyntax, ParseLevel: true),
        new("""{"op":"add","path":"title"}""", 400, ScimErrorType.InvalidSyntax, ParseLevel: true),
        new("""{"op":"remove"}""", 400, ScimErrorType.NoTarget),
    ];
}
