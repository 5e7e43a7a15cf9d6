using Cluster.Abstractions;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Grains.Groups;
using Cluster.Scim;
using Cluster.Scim.Errors;
using Cluster.Scim.Patching;
using Cluster.Scim.Resources;
using Cluster.Scim.Schema;

namespace Cluster.Grains.Tests;

/// <summary>
/// Property tests of group PATCH/PUT as <c>GroupGrain</c> applies them, without a cluster: random sequences of displayName
/// and member operations in both Entra dialects (default: <c>Remove members</c> with a value list; flag:
/// <c>remove members[value eq "id"]</c>; the validator's <c>replace members</c>) are applied to a reference model
/// (displayName, externalId, a set of member ids) and through the library exactly as the grain does it:
/// <see cref="MemberPatches.ReferencedMembers"/> picks the members to load, <see cref="PatchApplier.Apply"/> works on the
/// group plus only those members, <see cref="MemberPatches.TakeMembers"/> takes them out again, and the new member set is
/// the old one minus what was loaded plus what came back. Checked after every step: the result equals the model, and equals
/// what the same request gives when every member is loaded (partial loading is invisible); a rejected request raises the
/// expected error. Failures name the seed, step and request.
/// </summary>
public sealed class GroupPatchPropertyTests
{
    private const int Seeds = 200;
    private const int Steps = 20;
    internal const string PatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
    private static readonly ResourceTypeDefinition Type = ScimSchemas.GroupResource;
    internal static readonly string[] Ids = ["u1", "U1", "u2", "user-3", "user_4", "5", "a6", "b7", "c8", "d9"];

    /// <summary>The reference model: attributes and an unordered set of member ids (member ids are case-exact).</summary>
    internal sealed record Model(string DisplayName, string? ExternalId, SortedSet<string> Members)
    {
        public Model Copy() => this with { Members = new SortedSet<string>(Members, StringComparer.Ordinal) };

        public JsonObject Attributes()
        {
            var obj = new JsonObject { ["displayName"] = DisplayName };
            if (ExternalId is not null)
            {
                obj["externalId"] = ExternalId;
            }

            return obj;
        }
    }

    internal sealed class Expected(int status, string scimType) : Exception($"{status} {scimType}")
    {
        public int Status { get; } = status;

        public string ScimType { get; } = scimType;
    }

    /// <summary>One generated operation: its JSON and its meaning on the model (which may throw <see cref="Expected"/>).</summary>
    internal sealed record Op(JsonObject Json, Func<Model, Model> Apply, bool ParseLevel = false);

    [Fact]
    public void GroupPatchSequences_MatchTheReferenceModel_WithPartialMemberLoading()
    {
        var (accepted, rejected, partial) = (0, 0, 0);
        for (var seed = 0; seed < Seeds; seed++)
        {
            var random = new Random(seed);
            var model = RandomModel(random);
            var resource = Stamp(ResourceNormalizer.Normalize(model.Attributes(), Type));
            var members = new SortedSet<string>(model.Members, StringComparer.Ordinal);

            for (var step = 1; step <= Steps; step++)
            {
                var isPut = random.NextDouble() < 0.08;
                Model? expected;
                Expected? expectedError = null;
                string request;
                Func<SortedSet<string>, bool, (JsonObject Attributes, SortedSet<string> Members)> act;
                if (isPut)
                {
                    var next = RandomModel(random);
                    var body = next.Attributes();
                    body["members"] = new JsonArray([.. next.Members.Select(id => (JsonNode)new JsonObject { ["value"] = id, ["type"] = "User" })]);
                    body["schemas"] = new JsonArray(ScimConstants.GroupSchema, ScimConstants.MicrosoftAdscimGroupSchema);
                    request = $"PUT {body.ToJsonString()}";
                    expected = next;
                    act = (_, _) =>
                    {
                        var normalized = ResourceNormalizer.Normalize(body, Type);
                        var taken = MemberPatches.TakeMembers(normalized);
                        return (normalized, new SortedSet<string>(taken.Select(m => m.Id), StringComparer.Ordinal));
                    };
                }
                else
                {
                    var defaultDialect = random.NextDouble() < 0.5;
                    var ops = Enumerable.Range(0, random.Next(1, 5)).Select(_ => RandomOp(random, model, defaultDialect)).ToList();
                    if (random.NextDouble() < 0.12)
                    {
                        ops.Add(InvalidOp(random));
                    }

                    var text = new JsonObject
                    {
                        ["schemas"] = new JsonArray(PatchOp),
                        ["Operations"] = new JsonArray([.. ops.Select(o => (JsonNode)o.Json.DeepClone())]),
                    }.ToJsonString();
                    request = $"PATCH ({(defaultDialect ? "default" : "flag")}) {text}";
                    try
                    {
                        ops.Where(o => o.ParseLevel).ToList().ForEach(o => o.Apply(model));
                        expected = ops.Aggregate(model.Copy(), (m, o) => o.Apply(m));
                        if (expected.DisplayName.Length == 0)
                        {
                            throw new Expected(400, ScimErrorType.InvalidValue);
                        }
                    }
                    catch (Expected e)
                    {
                        expected = null;
                        expectedError = e;
                    }

                    var current = resource;
                    act = (all, loadAll) => Patch(current, all, text, loadAll, ref partial);
                }

                var before = model;
                string Context() => $"seed {seed}, step {step}: {request}\nbefore: {before.Attributes().ToJsonString()} members [{string.Join(",", before.Members)}]";

                // As the grain does it (partial loading) and with every member loaded: same outcome.
                var grainWay = Outcome(() => act(members, false));
                var fullWay = Outcome(() => act(members, true));
                if (!SameOutcome(grainWay, fullWay))
                {
                    Assert.Fail($"{Context()}\npartial loading gives {Describe(grainWay)}\nloading all members gives {Describe(fullWay)}");
                }

                if (expectedError is not null)
                {
                    if (grainWay.Error is not { } error || error.Status != expectedError.Status || error.ScimType != expectedError.ScimType)
                    {
                        Assert.Fail($"{Context()}\nexpected {expectedError.Message}, got {Describe(grainWay)}");
                    }

                    rejected++;
                    continue;
                }

                if (grainWay.Error is not null)
                {
                    Assert.Fail($"{Context()}\nexpected success, got {Describe(grainWay)}");
                }

                var (attributes, newMembers) = grainWay.Value!.Value;
                var actualAttributes = (JsonObject)attributes.DeepClone();
                actualAttributes.Remove("id");
                actualAttributes.Remove("meta");
                if (!JsonNode.DeepEquals(expected!.Attributes(), actualAttributes) || !expected.Members.SetEquals(newMembers))
                {
                    Assert.Fail($"{Context()}\nexpected {expected.Attributes().ToJsonString()} members [{string.Join(",", expected.Members)}]\n"
                        + $"actual   {actualAttributes.ToJsonString()} members [{string.Join(",", newMembers)}]");
                }

                model = expected;
                resource = Stamp(attributes);
                members = newMembers;
                accepted++;
            }
        }

        Assert.True(accepted > Seeds * Steps / 2 && rejected > Seeds / 2 && partial > Seeds, $"accepted {accepted}, rejected {rejected}, partial loads {partial}");
    }

    /// <summary>
    /// Robustness: group PATCH bodies mutated at random (values of other JSON types, renamed or dropped keys, duplicated
    /// operations) go through the grain's steps and either apply or fail with a <see cref="ScimException"/>, never another
    /// exception; partial member loading still agrees with loading every member.
    /// </summary>
    [Fact]
    public void MutatedGroupPatches_ApplyOrFailWithScimExceptionOnly()
    {
        JsonNode?[] junk =
        [
            null, true, 7, "", "u1", "members", "members[value eq \"u1\"]", new JsonArray(), new JsonObject(),
            new JsonArray(new JsonObject { ["value"] = 5 }), new JsonArray(new JsonObject { ["value"] = "u2", ["type"] = "Group" }),
            new JsonObject { ["value"] = "u1" }, new JsonArray(new JsonArray()), new JsonObject { ["members"] = "u1" },
        ];
        var partial = 0;
        for (var seed = 0; seed < 1_500; seed++)
        {
            var random = new Random(seed);
            var model = RandomModel(random);
            var resource = Stamp(ResourceNormalizer.Normalize(model.Attributes(), Type));
            var ops = Enumerable.Range(0, random.Next(1, 4)).Select(_ => RandomOp(random, model, random.NextDouble() < 0.5).Json).ToList();
            var op = ops[random.Next(ops.Count)];
            var key = op.Select(p => p.Key).ElementAt(random.Next(op.Count));
            switch (random.Next(3))
            {
                case 0:
                    op[key] = Pick(random, junk)?.DeepClone();
                    break;
                case 1:
                    op.Remove(key);
                    break;
                default:
                    ops.Add((JsonObject)op.DeepClone());
                    break;
            }

            var text = new JsonObject { ["schemas"] = new JsonArray(PatchOp), ["Operations"] = new JsonArray([.. ops]) }.ToJsonString();
            var grainWay = Run(() => Patch(resource, model.Members, text, loadAll: false, ref partial));
            var fullWay = Run(() => Patch(resource, model.Members, text, loadAll: true, ref partial));
            if (!SameOutcome(grainWay, fullWay))
            {
                Assert.Fail($"seed {seed}: {text}\npartial loading gives {Describe(grainWay)}\nloading all members gives {Describe(fullWay)}");
            }

            RunResult Run(Func<(JsonObject, SortedSet<string>)> act)
            {
                try
                {
                    return Outcome(act);
                }
                catch (Exception ex) when (ex is not ScimException)
                {
                    Assert.Fail($"seed {seed}: {text}\nthrew {ex.GetType().Name}: {ex.Message}\n{ex.StackTrace}");
                    throw;
                }
            }
        }

        // Else both ways load every member and their agreement says nothing.
        Assert.True(partial > 200, $"partial loads {partial}: the mutated requests do not reach partial member loading");
    }

    /// <summary>GroupGrain.PatchAsync without the grain: returns the patched attributes and the new member set.</summary>
    private static (JsonObject, SortedSet<string>) Patch(JsonObject resource, SortedSet<string> all, string text, bool loadAll, ref int partialLoads)
    {
        var request = PatchRequest.Parse(JsonNode.Parse(text));
        var referenced = MemberPatches.ReferencedMembers(request) is { } ids && !loadAll ? ids : null;
        partialLoads += referenced is null ? 0 : 1;
        var before = referenced is null ? all.ToArray() : [.. all.Where(referenced.Contains)];
        var working = (JsonObject)resource.DeepClone();
        if (before.Length > 0)
        {
            working["members"] = MemberPatches.ToJson(before.Select(id => new MemberRef(id, MemberKind.User)));
        }

        var snapshot = working.DeepClone();
        JsonObject patched;
        try
        {
            patched = PatchApplier.Apply(working, request, Type);
        }
        finally
        {
            Assert.True(JsonNode.DeepEquals(snapshot, working), "PatchApplier modified its input");
        }

        var after = MemberPatches.TakeMembers(patched);
        var result = new SortedSet<string>(all.Except(before, StringComparer.Ordinal), StringComparer.Ordinal);
        result.UnionWith(after.Select(m => m.Id));
        return (patched, result);
    }

    private sealed record RunResult((JsonObject Attributes, SortedSet<string> Members)? Value, ScimException? Error);

    private static RunResult Outcome(Func<(JsonObject, SortedSet<string>)> act)
    {
        try
        {
            return new RunResult(act(), null);
        }
        catch (ScimException e)
        {
            return new RunResult(null, e);
        }
    }

    private static bool SameOutcome(RunResult a, RunResult b) =>
        a.Error is not null || b.Error is not null
            ? a.Error?.Status == b.Error?.Status && a.Error?.ScimType == b.Error?.ScimType
            : JsonNode.DeepEquals(a.Value!.Value.Attributes, b.Value!.Value.Attributes) && a.Value.Value.Members.SetEquals(b.Value.Value.Members);

    private static string Describe(RunResult r) => r.Error is { } e
        ? $"error {e.Status} {e.ScimType}: {e.Message}"
        : $"{r.Value!.Value.Attributes.ToJsonString()} members [{string.Join(",", r.Value.Value.Members)}]";

    private static JsonObject Stamp(JsonObject normalized)
    {
        var copy = (JsonObject)normalized.DeepClone();
        copy.Remove("members");
        var time = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        return ScimResource.Stamp(copy, Type, "g-1", time, time, 1);
    }

    internal static Model RandomModel(Random random) => new(
        Name(random),
        random.NextDouble() < 0.5 ? $"ext-{random.Next(1_000_000)}" : null,
        new SortedSet<string>(Ids.Where(_ => random.NextDouble() < 0.3), StringComparer.Ordinal));

    private static string Name(Random random) => $"{Pick(random, ["Sales", "sales", "Tour Guides", "Ops ü", "R&D \"core\""])} {random.Next(100)}";

    private static T Pick<T>(Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];

    private static JsonArray MemberValues(Random random, IEnumerable<string> ids, bool defaultDialect) =>
        new([.. ids.Select(id =>
        {
            var member = new JsonObject();
            if (defaultDialect)
            {
                member["$ref"] = null; // Entra sends "$ref": null
            }

            member[random.NextDouble() < 0.2 ? "Value" : "value"] = id;
            if (random.NextDouble() < 0.3)
            {
                member["type"] = "User";
            }

            return (JsonNode)member;
        })]);

    private static string Verb(Random random, string verb, bool defaultDialect) =>
        defaultDialect ? char.ToUpperInvariant(verb[0]) + verb[1..] : verb;

    private static JsonObject OpJson(string op, string? path, JsonNode? value, bool hasValue = true)
    {
        var json = new JsonObject { ["op"] = op };
        if (path is not null)
        {
            json["path"] = path;
        }

        if (hasValue)
        {
            json["value"] = value;
        }

        return json;
    }

    internal static Op RandomOp(Random random, Model model, bool defaultDialect)
    {
        List<string> SomeIds(int max) => [.. Enumerable.Range(0, random.Next(0, max + 1)).Select(_ =>
            model.Members.Count > 0 && random.NextDouble() < 0.5 ? Pick(random, model.Members.ToList()) : Pick(random, Ids))];
        string Quote(string id) => JsonSerializer.Serialize(id);

        switch (random.Next(0, 10))
        {
            case 0:
            {
                var name = Name(random);
                var json = random.Next(3) switch
                {
                    0 => OpJson(Verb(random, "replace", defaultDialect), "displayName", name),
                    1 => OpJson(Verb(random, "replace", defaultDialect), null, new JsonObject { ["displayName"] = name }), // the validator's pathless replace
                    _ => OpJson(Verb(random, "add", defaultDialect), "DisplayName", name),
                };
                return new Op(json, m => m with { DisplayName = name });
            }

            case 1:
            {
                var id = random.NextDouble() < 0.3 ? null : $"Ext-{random.Next(1_000_000)}";
                var json = id is null
                    ? OpJson(Verb(random, "remove", defaultDialect), "externalId", null, hasValue: false)
                    : OpJson(Verb(random, "replace", defaultDialect), random.NextDouble() < 0.5 ? "externalId" : null, random.NextDouble() < 0.5 ? id : null);
                if (id is not null && json["path"] is null)
                {
                    json["value"] = new JsonObject { ["externalId"] = id };
                }
                else if (id is not null)
                {
                    json["value"] = id;
                }

                return new Op(json, m => m with { ExternalId = id });
            }

            case 2:
            case 3:
            {
                var ids = SomeIds(3);
                var value = MemberValues(random, ids, defaultDialect);
                var json = random.NextDouble() < 0.8
                    ? OpJson(Verb(random, "add", defaultDialect), "members", ids.Count == 1 && random.NextDouble() < 0.3 ? value[0]!.DeepClone() : value)
                    : OpJson(Verb(random, "add", defaultDialect), null, new JsonObject { ["members"] = value });
                return new Op(json, m => Members(m, s => s.UnionWith(ids)));
            }

            case 4:
            case 5:
            {
                if (defaultDialect)
                {
                    // Entra default: Remove with a value list removes only those members.
                    var ids = SomeIds(3);
                    return new Op(OpJson("Remove", "members", MemberValues(random, ids, true)), m => Members(m, s => s.ExceptWith(ids)));
                }

                // Flag dialect: one remove with a value filter per member.
                var id = SomeIds(1).FirstOrDefault() ?? "u1";
                return new Op(OpJson("remove", $"members[value eq {Quote(id)}]", null, hasValue: false), m => Members(m, s => s.Remove(id)));
            }

            case 6:
            {
                // The SCIM Validator's "Add Member": replace members with a list (the whole list).
                var ids = SomeIds(4);
                var value = MemberValues(random, ids, defaultDialect);
                var json = random.NextDouble() < 0.7
                    ? OpJson(Verb(random, "replace", defaultDialect), "members", value)
                    : OpJson(Verb(random, "replace", defaultDialect), null, new JsonObject { ["members"] = value });
                return new Op(json, m => Members(m, s =>
                {
                    s.Clear();
                    s.UnionWith(ids);
                }));
            }

            case 7:
                return new Op(OpJson(Verb(random, "remove", defaultDialect), "members", null, hasValue: false), m => Members(m, s => s.Clear()));
            case 8:
            {
                // A member filter that is not a single eq: every member must be loaded.
                var (a, b) = (Pick(random, Ids), Pick(random, Ids));
                return new Op(
                    OpJson("remove", $"members[value eq {Quote(a)} or value eq {Quote(b)}]", null, hasValue: false),
                    m => Members(m, s => s.ExceptWith([a, b])));
            }

            default:
            {
                // add/replace members[value eq "x"] with {"value":"y"}: x (if present) becomes y, else y is created.
                var (x, y) = (SomeIds(1).FirstOrDefault() ?? "u1", Pick(random, Ids));
                var json = OpJson(random.NextDouble() < 0.5 ? "add" : "replace", $"members[value eq {Quote(x)}]", new JsonObject { ["value"] = y });
                return new Op(json, m => Members(m, s =>
                {
                    s.Remove(x);
                    s.Add(y);
                }));
            }
        }
    }

    private static Model Members(Model model, Action<SortedSet<string>> change)
    {
        var copy = model.Copy();
        change(copy.Members);
        return copy;
    }

    internal static Op InvalidOp(Random random)
    {
        (string Json, int Status, string Type, bool ParseLevel)[] catalogue =
        [
            ("""{"op":"Remove","path":"displayName"}""", 400, ScimErrorType.Mutability, false),
            ("""{"op":"Replace","path":"displayName","value":""}""", 400, ScimErrorType.InvalidValue, false),
            ("""{"op":"Replace","path":"members[value eq \"u1\"].display","value":"x"}""", 400, ScimErrorType.Mutability, false),
            ("""{"op":"Add","path":"members","value":[{"value":"g1","type":"Device"}]}""", 400, ScimErrorType.InvalidValue, false),
            ("""{"op":"Add","path":"members","value":[{"value":"not a valid id"}]}""", 400, ScimErrorType.InvalidValue, false),
            ("""{"op":"Add","path":"members","value":"u1"}""", 400, ScimErrorType.InvalidValue, false),
            ("""{"op":"Add","path":"members","value":[{"type":"User"}]}""", 400, ScimErrorType.InvalidValue, false),
            ("""{"op":"Add","path":"members","value":[{"value":"u1"},{"type":"User"}]}""", 400, ScimErrorType.InvalidValue, false),
            ("""{"op":"Remove","path":"members","value":[{"type":"User"}]}""", 400, ScimErrorType.InvalidValue, false),
            ("""{"op":"Remove","path":"members","value":[{"$ref":null}]}""", 400, ScimErrorType.InvalidValue, false),
            ("""{"op":"Add","path":"members","value":[{"value":"u1","role":"owner"}]}""", 400, ScimErrorType.InvalidSyntax, false),
            ("""{"op":"Replace","value":{"owner":"x"}}""", 400, ScimErrorType.InvalidPath, false),
            ("""{"op":"Replace","path":"members.nope","value":"x"}""", 400, ScimErrorType.InvalidPath, false),
            ("""{"op":"Replace","path":"id","value":"x"}""", 400, ScimErrorType.Mutability, false),
            ("""{"op":"Update","path":"displayName","value":"x"}""", 400, ScimErrorType.InvalidSyntax, true),
            ("""{"op":"Remove","path":"members[value eq"}""", 400, ScimErrorType.InvalidPath, true),
        ];
        var (json, status, type, parseLevel) = Pick(random, catalogue);
        return new Op(JsonNode.Parse(json)!.AsObject(), _ => throw new Expected(status, type), parseLevel);
    }
}
