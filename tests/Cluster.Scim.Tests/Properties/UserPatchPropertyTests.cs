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
        for (var seed = 0; seed < 1_500; seed++)
        {
            var g = new Gen(seed);
            var model = UserModel.Random(g);
            var stored = Stamp(ResourceNormalizer.Normalize(model.RenderBody(g), Type), 1);
            var dialect = g.Pick(Enum.GetValues<Dialect>());
            var ops = Enumerable.Range(0, g.Int(1, 3)).Select(_ => UserRequests.RandomOp(g, model, dialect)).ToList();
            var body = UserRequests.RenderPatch(g, ops, dialect);
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
                var (body, error) = UserRequests.InvalidPut(g, model);
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
                    ops.Add(UserRequests.RandomOp(g, model, dialect));
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

                var text = UserRequests.RenderPatch(g, ops, dialect).ToJsonString();
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
}
