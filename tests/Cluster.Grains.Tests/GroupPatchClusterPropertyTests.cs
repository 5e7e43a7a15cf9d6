using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests;

/// <summary>
/// <see cref="GroupPatchPropertyTests"/> on the two-silo cluster: the same random member and displayName sequences go to a
/// real <c>GroupGrain</c> (member partitions, journal, users' <c>groups</c>), whose reads must equal the reference model after
/// every step, a rejected request changing nothing; at the end of each sequence every user's <c>groups</c> agrees with the
/// group (invariant 7). Failures name the seed, step and request.
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed class GroupPatchClusterPropertyTests(ClusterFixture fixture)
{
    private const int Seeds = 15;
    private const int Steps = 15;

    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task GroupPatchSequencesOnTheCluster_MatchTheReferenceModel()
    {
        var (accepted, rejected) = (0, 0);
        for (var seed = 0; seed < Seeds; seed++)
        {
            var random = new Random(200_000 + seed);
            var tenantId = GrainKeys.NewTenantId();
            for (var i = 0; i < GroupPatchPropertyTests.Ids.Length; i++)
            {
                var id = GroupPatchPropertyTests.Ids[i];
                var created = await Grains.User(tenantId, id).CreateAsync(Users.Resource($"user{i}@contoso.com"));
                Assert.Equal(201, created.Status);
            }

            var model = GroupPatchPropertyTests.RandomModel(random);
            var groupId = GrainKeys.NewResourceId();
            var body = model.Attributes();
            body["members"] = new JsonArray([.. model.Members.Select(m => (JsonNode)new JsonObject { ["value"] = m })]);
            Assert.Equal(201, (await Grains.Group(tenantId, groupId).CreateAsync(body.ToJsonString())).Status);
            await AssertMatchesAsync(tenantId, groupId, model, () => $"seed {200_000 + seed}, create");

            for (var step = 1; step <= Steps; step++)
            {
                var defaultDialect = random.NextDouble() < 0.5;
                var ops = Enumerable.Range(0, random.Next(1, 5)).Select(_ => GroupPatchPropertyTests.RandomOp(random, model, defaultDialect)).ToList();
                if (random.NextDouble() < 0.15)
                {
                    ops.Add(GroupPatchPropertyTests.InvalidOp(random));
                }

                GroupPatchPropertyTests.Model? expected;
                GroupPatchPropertyTests.Expected? error = null;
                try
                {
                    ops.Where(o => o.ParseLevel).ToList().ForEach(o => o.Apply(model));
                    expected = ops.Aggregate(model.Copy(), (m, o) => o.Apply(m));
                    if (expected.DisplayName.Length == 0)
                    {
                        throw new GroupPatchPropertyTests.Expected(400, "invalidValue");
                    }
                }
                catch (GroupPatchPropertyTests.Expected e)
                {
                    (expected, error) = (null, e);
                }

                var text = new JsonObject
                {
                    ["schemas"] = new JsonArray(GroupPatchPropertyTests.PatchOp),
                    ["Operations"] = new JsonArray([.. ops.Select(o => (JsonNode)o.Json.DeepClone())]),
                }.ToJsonString();
                var before = model;
                string Context() => $"seed {200_000 + seed}, step {step}: {text}\nbefore: {before.Attributes().ToJsonString()} members [{string.Join(",", before.Members)}]";
                var result = await Grains.Group(tenantId, groupId).PatchAsync(text);
                if (error is not null)
                {
                    if (result.Status != error.Status || result.ScimType != error.ScimType)
                    {
                        Assert.Fail($"{Context()}\nexpected {error.Message}, got {result.Status} {result.ScimType} {result.Detail}");
                    }

                    await AssertMatchesAsync(tenantId, groupId, model, Context);
                    rejected++;
                    continue;
                }

                if (result.Status != 200)
                {
                    Assert.Fail($"{Context()}\nexpected success, got {result.Status} {result.ScimType} {result.Detail}");
                }

                await AssertMatchesAsync(tenantId, groupId, expected!, Context);
                model = expected!;
                accepted++;
            }

            foreach (var user in GroupPatchPropertyTests.Ids)
            {
                var groups = await Grains.GroupsOfAsync(tenantId, user);
                Assert.True(
                    groups.SequenceEqual(model.Members.Contains(user) ? [groupId] : []),
                    $"seed {200_000 + seed}: user {user} shows groups [{string.Join(",", groups)}], the group's members are [{string.Join(",", model.Members)}]");
            }
        }

        Assert.True(accepted > Seeds * Steps / 2 && rejected > 5, $"accepted {accepted}, rejected {rejected}");
    }

    private async Task AssertMatchesAsync(string tenantId, string groupId, GroupPatchPropertyTests.Model model, Func<string> context)
    {
        var read = await Grains.Group(tenantId, groupId).ReadAsync(null);
        Assert.Equal(200, read.Status);
        var group = JsonNode.Parse(read.Resource!)!.AsObject();
        var members = (group["members"] as JsonArray ?? []).Select(m => m!["value"]!.GetValue<string>()).ToList();
        var attributes = (JsonObject)group.DeepClone();
        foreach (var key in new[] { "schemas", "id", "meta", "members" })
        {
            attributes.Remove(key);
        }

        if (!JsonNode.DeepEquals(model.Attributes(), attributes) || !model.Members.SetEquals(members) || members.Count != model.Members.Count)
        {
            Assert.Fail($"{context()}\nexpected {model.Attributes().ToJsonString()} members [{string.Join(",", model.Members)}]\n"
                + $"actual   {attributes.ToJsonString()} members [{string.Join(",", members)}]");
        }
    }
}
