using System.Text.Json.Nodes;
using Cluster.Scim.Errors;
using Cluster.Scim.Patching;
using Cluster.Scim.Resources;
using Cluster.Scim.Schema;

namespace Cluster.Scim.Tests.Properties;

/// <summary>
/// Property tests: random sequences of PUTs and PATCHes (both Entra dialects and generic RFC clients) applied to the
/// reference <see cref="UserModel"/> and, exactly as <c>UserGrain</c> does it, through the library
/// (<see cref="ResourceNormalizer"/> for PUT bodies, <see cref="PatchRequest.Parse"/> + <see cref="PatchApplier.Apply"/>
/// for PATCH, <see cref="ScimResource.Stamp"/> for both). After every step the stored resource must equal the model's
/// projection; a rejected request must raise the expected <see cref="ScimException"/> and change nothing.
/// A failure names the seed, step and request: <c>Run(seed)</c> replays it.
/// </summary>
public sealed class UserPatchPropertyTests
{
    private const int Seeds = 200;
    private const int Steps = 20;
    private const string Id = "u-0001";
    private static readonly ResourceTypeDefinition Type = ScimSchemas.UserResource;
    private static readonly DateTimeOffset Created = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public void PutAndPatchSequences_MatchTheReferenceModel()
    {
        var (accepted, rejected) = (0, 0);
        for (var seed = 0; seed < Seeds; seed++)
        {
            var (a, r) = Run(seed);
            accepted += a;
            rejected += r;
        }

        // Both outcomes must be exercised in earnest, or the property proves little.
        Assert.True(accepted > Seeds * Steps / 2 && rejected > Seeds, $"accepted {accepted}, rejected {rejected}");
    }

    [Fact]
    public void TheGeneratorCoversEveryOperationKindAndBothOutcomes()
    {
        // Guards the property above against a generator that silently stopped producing some kinds of operations.
        var kinds = new HashSet<string>();
        var g = new Gen(12345);
        var model = UserModel.Random(g);
        for (var i = 0; i < 2000; i++)
        {
            kinds.Add(RandomOp(g, model, Dialect.Rfc).GetType().Name);
        }

        Assert.Equal(
            ["ClearName", "EverySub", "FilterRemove", "FilterRemoveWhere", "FilterSetByValue", "FilterSetElement", "FilterSetSub", "ListAdd", "ListRemoveValues", "ListReplace",
             "RemoveEnterprise", "RemoveManagerIf", "SetActive", "SetEnterprise", "SetManager", "SetName", "SetScalar"],
            kinds.Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// Robustness: PATCH bodies mutated at random (values swapped for JSON of other types, keys renamed or dropped,
    /// operations duplicated) either apply — and then the result is already in normalized form — or fail with a
    /// <see cref="ScimException"/>; never another exception, and the input is never modified.
    /// </summary>
    [Fact]
    public void MutatedPatchBodies_ApplyOrFailWithScimExceptionOnly()
    {
        var (applied, failed) = (0, 0);
        for (var seed = 0; seed < 1_500; seed++)
        {
            var g = new Gen(seed);
            var model = UserModel.Random(g);
            var stored = Stamp(ResourceNormalizer.Normalize(model.RenderBody(g), Type), 1);
            var dialect = g.Pick(Enum.GetValues<Dialect>());
            var ops = Enumerable.Range(0, g.Int(1, 3)).Select(_ => RandomOp(g, model, dialect)).ToList();
            var body = RenderPatch(g, ops, dialect);
            for (var m = g.Int(1, 3); m > 0; m--)
            {
                Mutate(g, body);
            }

            var text = body.ToJsonString();
            var snapshot = stored.DeepClone();
            try
            {
                var result = PatchApplier.Apply(stored, PatchRequest.Parse(JsonNode.Parse(text)), Type);
                var attributes = (JsonObject)result.DeepClone();
                attributes.Remove("id");
                attributes.Remove("meta");
                var renormalized = ResourceNormalizer.Normalize(attributes, Type);
                if (!JsonNode.DeepEquals(attributes, renormalized))
                {
                    Assert.Fail($"seed {seed}: {text}\nresult is not normalized: {attributes.ToJsonString()}\nnormalizes to {renormalized.ToJsonString()}");
                }

                applied++;
            }
            catch (ScimException)
            {
                failed++;
            }
            catch (Exception ex)
            {
                Assert.Fail($"seed {seed}: {text}\non {stored.ToJsonString()}\nthrew {ex.GetType().Name}: {ex.Message}\n{ex.StackTrace}");
            }

            if (!JsonNode.DeepEquals(snapshot, stored))
            {
                Assert.Fail($"seed {seed}: {text}\nmodified its input");
            }
        }

        Assert.True(applied > 200 && failed > 200, $"applied {applied}, failed {failed}: the mutations are not exploring both sides");
    }

    private static readonly Func<Gen, JsonNode?>[] RandomJson =
    [
        _ => null,
        g => g.Chance(0.5),
        g => g.Int(-5, 5),
        g => 1.5e300 * g.Int(1, 2),
        g => g.Text(),
        g => g.Pick(new[] { "", "True", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "emails[type eq \"work\"].value", "name.givenName", "members", "$ref", "manager" }),
        _ => new JsonArray(),
        g => new JsonArray(g.Text(), new JsonObject { ["value"] = g.Word() }),
        _ => new JsonObject(),
        g => new JsonObject { [g.Pick(new[] { "value", "type", "primary", "givenName", "display", "x" })] = g.Chance(0.5) ? g.Word() : g.Chance(0.5) },
        _ => new JsonArray(new JsonArray(new JsonArray())),
    ];

    private static void Mutate(Gen g, JsonNode root)
    {
        // Pick a random container node and change one of its members.
        var containers = new List<JsonNode>();
        void Collect(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject obj:
                    containers.Add(obj);
                    foreach (var (_, child) in obj)
                    {
                        Collect(child);
                    }

                    break;
                case JsonArray array:
                    containers.Add(array);
                    foreach (var child in array)
                    {
                        Collect(child);
                    }

                    break;
            }
        }

        Collect(root);
        var target = g.Pick(containers);
        if (target is JsonObject o && o.Count > 0)
        {
            var key = o.GetAt(g.R.Next(o.Count)).Key;
            switch (g.Int(0, 3))
            {
                case 0:
                    o[key] = g.Pick(RandomJson)(g);
                    break;
                case 1:
                    o.Remove(key);
                    break;
                case 2:
                    var value = o[key]?.DeepClone();
                    o.Remove(key);
                    var renamed = g.Pick(new[] { key.ToUpperInvariant(), key + "s", "value", "path", "op", "Operations", "urn:x:y" });
                    if (!o.ContainsKey(renamed))
                    {
                        o[renamed] = value;
                    }

                    break;
                default:
                    var extra = g.Pick(new[] { "op", "path", "value", "type", "primary", "schemas" });
                    if (!o.ContainsKey(extra))
                    {
                        o[extra] = g.Pick(RandomJson)(g);
                    }

                    break;
            }
        }
        else if (target is JsonArray a && a.Count > 0)
        {
            var index = g.R.Next(a.Count);
            switch (g.Int(0, 2))
            {
                case 0:
                    a[index] = g.Pick(RandomJson)(g);
                    break;
                case 1:
                    a.Add(a[index]?.DeepClone());
                    break;
                default:
                    a.RemoveAt(index);
                    break;
            }
        }
    }

    /// <summary>Replays one seed: <see cref="Steps"/> random requests on one user.</summary>
    internal static (int Accepted, int Rejected) Run(int seed)
    {
        var g = new Gen(seed);
        var model = UserModel.Random(g);
        var stored = Stamp(ResourceNormalizer.Normalize(model.RenderBody(g), Type), 1);
        AssertMatches(model, stored, () => $"seed {seed}, initial create");
        var (accepted, rejected) = (0, 0);

        for (var step = 1; step <= Steps; step++)
        {
            var roll = g.R.NextDouble();
            string request;
            UserModel? expected;
            ExpectedScimError? expectedError = null;
            Func<JsonObject> act;
            if (roll < 0.08)
            {
                expected = UserModel.Random(g);
                if (g.Chance(0.5))
                {
                    expected.Scalars["userName"] = model.Scalars["userName"];
                }

                var body = expected.RenderBody(g);
                request = $"PUT {body.ToJsonString()}";
                act = () => Stamp(ResourceNormalizer.Normalize(body, Type), step + 1);
            }
            else if (roll < 0.11)
            {
                var (body, error) = InvalidPut(g, model);
                expected = null;
                expectedError = error;
                request = $"PUT {body.ToJsonString()}";
                act = () => Stamp(ResourceNormalizer.Normalize(body, Type), step + 1);
            }
            else
            {
                var dialect = g.Pick(Enum.GetValues<Dialect>());
                var ops = new List<UserOp>();
                var count = g.Int(1, 4);
                for (var i = 0; i < count; i++)
                {
                    ops.Add(RandomOp(g, model, dialect));
                }

                if (g.Chance(0.12))
                {
                    ops.Add(g.Pick(InvalidOp.UserCatalogue));
                }

                expected = model.Clone();
                try
                {
                    // Parsing the request comes first, then the operations in order, then the final validation.
                    ops.OfType<InvalidOp>().Where(op => op.ParseLevel).ToList().ForEach(op => op.Apply(expected));
                    ops.ForEach(op => op.Apply(expected));
                    expected.Commit();
                }
                catch (ExpectedScimError e)
                {
                    expected = null;
                    expectedError = e;
                }

                var text = RenderPatch(g, ops, dialect).ToJsonString();
                request = $"PATCH ({dialect}) {text}";
                var current = stored;
                act = () => Stamp(PatchApplier.Apply(current, PatchRequest.Parse(JsonNode.Parse(text)), Type), step + 1);
            }

            var before = model;
            string Context() => $"seed {seed}, step {step}: {request}\nbefore: {PropertyJson.Show(before.Project(Id))}";
            var snapshot = stored.DeepClone();
            if (expectedError is not null)
            {
                var ex = Assert.Throws<ScimException>(() => act());
                if (ex.Status != expectedError.Status || ex.ScimType != expectedError.ScimType)
                {
                    Assert.Fail($"{Context()}\nexpected {expectedError.Status} {expectedError.ScimType} ({expectedError.Message}), got {ex.Status} {ex.ScimType}: {ex.Message}");
                }

                if (!JsonNode.DeepEquals(snapshot, stored))
                {
                    Assert.Fail($"{Context()}\na rejected request changed the stored resource");
                }

                rejected++;
                continue;
            }

            JsonObject result;
            try
            {
                result = act();
            }
            catch (ScimException ex)
            {
                Assert.Fail($"{Context()}\nexpected success with {PropertyJson.Show(expected!.Project(Id))}\ngot {ex.Status} {ex.ScimType}: {ex.Message}");
                throw;
            }

            if (!JsonNode.DeepEquals(snapshot, stored))
            {
                Assert.Fail($"{Context()}\nthe library mutated its input");
            }

            AssertMatches(expected!, result, Context);
            model = expected!;
            stored = result;
            accepted++;
        }

        return (accepted, rejected);
    }

    private static JsonObject Stamp(JsonObject normalized, long version) =>
        ScimResource.Stamp(normalized, Type, Id, Created, Created.AddSeconds(version), version);

    private static void AssertMatches(UserModel model, JsonObject stored, Func<string> context)
    {
        var actual = (JsonObject)stored.DeepClone();
        if (!actual.Remove("meta"))
        {
            Assert.Fail($"{context()}\nno meta in {actual.ToJsonString()}");
        }

        var expected = model.Project(Id);
        if (!PropertyJson.Same(expected, actual))
        {
            Assert.Fail($"{context()}\nexpected: {PropertyJson.Show(expected)}\nactual:   {PropertyJson.Show(actual)}");
        }
    }

    /// <summary>A PatchOp body: renderings chosen at random; the flag dialect folds pathless replaces into one operation.</summary>
    private static JsonObject RenderPatch(Gen g, List<UserOp> ops, Dialect dialect)
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

    private static JsonObject OperationJson(Gen g, Dialect dialect, Rendering rendering)
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

    internal static UserOp RandomOp(Gen g, UserModel model, Dialect dialect)
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
                var population = new[] { new PopUser(model, Id, default, default, model.Project(Id)) };
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

    private static TypeFilter RandomTypeFilter(Gen g, string list, List<Element> elements)
    {
        var existingTypes = elements.Select(e => e.Str("type")).OfType<string>().ToList();
        var type = existingTypes.Count > 0 && g.Chance(0.6) ? g.Pick(existingTypes) : g.Pick(UserModel.Types(list));
        return new TypeFilter(list, g.Chance(0.2) ? g.FlipCase(type) : type, g.Chance(0.15));
    }

    private static Element CaseVariant(Gen g, Element element)
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

    private static string Slice(Gen g, string value)
    {
        var start = g.Int(0, value.Length - 1);
        return value.Substring(start, g.Int(1, value.Length - start));
    }

    /// <summary>A body that must be rejected: the model's own body with one defect.</summary>
    private static (JsonObject Body, ExpectedScimError Error) InvalidPut(Gen g, UserModel model)
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
