using System.Text.Json.Nodes;
using Cluster.Scim.Errors;
using Cluster.Scim.Patching;
using Cluster.Scim.Resources;
using Cluster.Scim.Schema;
using CsCheck;

namespace Cluster.Scim.Tests.Properties;

/// <summary>
/// Property tests: random sequences of PUTs and PATCHes (both Entra dialects and generic RFC clients) applied to the
/// reference <see cref="UserModel"/> and, exactly as <c>UserGrain</c> does it, through the library
/// (<see cref="ResourceNormalizer"/> for PUT bodies, <see cref="PatchRequest.Parse"/> + <see cref="PatchApplier.Apply"/>
/// for PATCH, <see cref="ScimResource.Stamp"/> for both). After every step the stored resource must equal the model's
/// projection; a rejected request must raise the expected <see cref="ScimException"/> and change nothing.
/// CsCheck draws the sequences (<see cref="Choices"/>); a failure names the step and request, and is shrunk to the
/// shortest failing sequence found, printed whole with the seed that replays it.
/// </summary>
public sealed class UserPatchPropertyTests
{
    private const int Sequences = 400;
    private const int Steps = 20;
    private const string Id = "u-0001";
    private static readonly ResourceTypeDefinition Type = ScimSchemas.UserResource;
    private static readonly DateTimeOffset Created = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public void PutAndPatchSequences_MatchTheReferenceModel()
    {
        var (accepted, rejected) = (0, 0);
        Choices.Generator(Plan).Sample(
            sequence =>
            {
                var (a, r) = Check(sequence);
                Interlocked.Add(ref accepted, a);
                Interlocked.Add(ref rejected, r);
            },
            iter: Sequences,
            print: sequence => sequence.ToString());

        // Both outcomes must be exercised in earnest, or the property proves little.
        var steps = accepted + rejected;
        Assert.True(accepted > steps / 2 && rejected > steps / 20, $"accepted {accepted}, rejected {rejected}");
    }

    [Fact]
    public void TheGeneratorCoversEveryOperationKindAndBothOutcomes()
    {
        // Guards the property above against a generator that silently stopped producing some kinds of operations.
        var kinds = new HashSet<string>();
        var g = new Choices(12345);
        var model = UserModel.Random(g);
        for (var i = 0; i < 2000; i++)
        {
            kinds.Add(UserRequests.RandomOp(g, model, Dialect.Rfc).GetType().Name);
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
        var cases = Choices.Generator(g =>
        {
            var model = UserModel.Random(g);
            var stored = Stamp(ResourceNormalizer.Normalize(model.RenderBody(g), Type), 1);
            var dialect = g.Pick(Enum.GetValues<Dialect>());
            var ops = Enumerable.Range(0, g.Int(1, 3)).Select(_ => UserRequests.RandomOp(g, model, dialect)).ToList();
            var body = UserRequests.RenderPatch(g, ops, dialect);
            for (var m = g.Int(1, 3); m > 0; m--)
            {
                Mutate(g, body);
            }

            return (Stored: stored, Text: body.ToJsonString());
        });
        cases.Sample(
            c =>
            {
                var (stored, text) = c;
                var snapshot = stored.DeepClone();
                JsonNode? result = null;
                try
                {
                    result = PatchApplier.Apply(stored, PatchRequest.Parse(JsonNode.Parse(text)), Type);
                }
                catch (ScimException)
                {
                    Interlocked.Increment(ref failed);
                }
                catch (Exception ex)
                {
                    Assert.Fail($"{text}\non {stored.ToJsonString()}\nthrew {ex.GetType().Name}: {ex.Message}\n{ex.StackTrace}");
                }

                if (result is not null)
                {
                    // Outside the try: a result the normalizer refuses is a failure of the PATCH, not a rejected request.
                    var attributes = (JsonObject)result.DeepClone();
                    attributes.Remove("id");
                    attributes.Remove("meta");
                    var renormalized = ResourceNormalizer.Normalize(attributes, Type);
                    if (!JsonNode.DeepEquals(attributes, renormalized))
                    {
                        Assert.Fail($"{text}\nresult is not normalized: {attributes.ToJsonString()}\nnormalizes to {renormalized.ToJsonString()}");
                    }

                    Interlocked.Increment(ref applied);
                }

                if (!JsonNode.DeepEquals(snapshot, stored))
                {
                    Assert.Fail($"{text}\nmodified its input");
                }
            },
            iter: 1_500,
            print: c => $"PATCH {c.Text}\non {c.Stored.ToJsonString()}");

        Assert.True(applied > 200 && failed > 200, $"applied {applied}, failed {failed}: the mutations are not exploring both sides");
    }

    private static readonly Func<Choices, JsonNode?>[] RandomJson =
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

    private static void Mutate(Choices g, JsonNode root)
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
            var key = o.GetAt(g.Int(0, o.Count - 1)).Key;
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
            var index = g.Int(0, a.Count - 1);
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

    /// <summary>One request of a sequence, with the outcome the model expects; <c>Act</c> runs it on the stored user.</summary>
    private sealed record Step(string Request, UserModel? Expected, ExpectedScimError? Error, Func<JsonObject, long, JsonObject> Act);

    /// <summary>A user created from <c>Body</c> (the model <c>Initial</c>), then up to <see cref="Steps"/> requests.</summary>
    private sealed record Sequence(UserModel Initial, string Body, IReadOnlyList<Step> Steps)
    {
        public override string ToString() =>
            $"POST {Body}\n" + string.Join('\n', Steps.Select((step, i) => $"step {i + 1}: {step.Request}"));
    }

    /// <summary>
    /// Generates a sequence against the model alone: each request is drawn for the model as the earlier requests leave
    /// it, with the model's verdict (the next model, or the error).
    /// </summary>
    private static Sequence Plan(Choices g)
    {
        var initial = UserModel.Random(g);
        var body = initial.RenderBody(g).ToJsonString();
        var model = initial;
        var steps = new List<Step>();
        for (var count = g.Int(1, Steps); count > 0; count--)
        {
            var roll = g.Double();
            if (roll < 0.08)
            {
                var expected = UserModel.Random(g);
                if (g.Chance(0.5))
                {
                    expected.Scalars["userName"] = model.Scalars["userName"];
                }

                var text = expected.RenderBody(g).ToJsonString();
                steps.Add(new Step($"PUT {text}", expected, null, (_, version) => Put(text, version)));
                model = expected;
            }
            else if (roll < 0.11)
            {
                var (invalid, error) = UserRequests.InvalidPut(g, model);
                var text = invalid.ToJsonString();
                steps.Add(new Step($"PUT {text}", null, error, (_, version) => Put(text, version)));
            }
            else
            {
                var dialect = g.Pick(Enum.GetValues<Dialect>());
                var ops = new List<UserOp>();
                for (var i = g.Int(1, 4); i > 0; i--)
                {
                    ops.Add(UserRequests.RandomOp(g, model, dialect));
                }

                if (g.Chance(0.12))
                {
                    ops.Add(g.Pick(InvalidOp.UserCatalogue));
                }

                UserModel? expected = model.Clone();
                ExpectedScimError? error = null;
                try
                {
                    // Parsing the request comes first, then the operations in order, then the final validation.
                    ops.OfType<InvalidOp>().Where(op => op.ParseLevel).ToList().ForEach(op => op.Apply(expected));
                    ops.ForEach(op => op.Apply(expected));
                    expected.Commit();
                }
                catch (ExpectedScimError e)
                {
                    (expected, error) = (null, e);
                }

                var text = UserRequests.RenderPatch(g, ops, dialect).ToJsonString();
                steps.Add(new Step($"PATCH ({dialect}) {text}", expected, error, (stored, version) => Stamp(PatchApplier.Apply(stored, PatchRequest.Parse(JsonNode.Parse(text)), Type), version)));
                model = expected ?? model;
            }
        }

        return new Sequence(initial, body, steps);
    }

    /// <summary>Runs a sequence through the library and compares every outcome with the model's.</summary>
    private static (int Accepted, int Rejected) Check(Sequence sequence)
    {
        var stored = Put(sequence.Body, 1);
        AssertMatches(sequence.Initial, stored, () => "initial create");
        var model = sequence.Initial;
        var (accepted, rejected) = (0, 0);
        for (var index = 0; index < sequence.Steps.Count; index++)
        {
            var (request, expected, expectedError, act) = sequence.Steps[index];
            var (step, before, current) = (index + 1, model, stored);
            string Context() => $"step {step}: {request}\nbefore: {PropertyJson.Show(before.Project(Id))}";
            var snapshot = stored.DeepClone();
            if (expectedError is not null)
            {
                var ex = Assert.Throws<ScimException>(() => act(current, step + 1));
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
                result = act(current, step + 1);
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

    private static JsonObject Put(string body, long version) => Stamp(ResourceNormalizer.Normalize((JsonObject)JsonNode.Parse(body)!, Type), version);

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
}
