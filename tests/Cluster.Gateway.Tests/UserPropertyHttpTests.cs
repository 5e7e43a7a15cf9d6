using System.Net;
using System.Text.Json.Nodes;
using Cluster.Scim.Tests.Properties;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>
/// The user property test of Cluster.Scim.Tests (<c>UserPatchPropertyTests</c>) through the real pipeline: random POST,
/// PUT and PATCH requests in both Entra dialects go through the gateway and the cluster, and every response — and the
/// user read back — must equal the reference model; a rejected request is the expected SCIM error and changes nothing.
/// Fewer seeds than the library-level test (each step is two HTTP calls). Failures name the seed, step and request.
/// </summary>
public sealed class UserPropertyHttpTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    private const int Seeds = 16;
    private const int Steps = 15;

    [Fact]
    public async Task RequestSequencesThroughTheGateway_MatchTheReferenceModel()
    {
        var (accepted, rejected) = (0, 0);
        for (var seed = 0; seed < Seeds; seed++)
        {
            // One tenant per seed: userNames drawn at random never collide with another seed's user.
            var tenant = await gateway.CreateTenantAsync();
            using var scim = gateway.ScimClient(tenant);
            var g = new Choices(100_000 + seed);
            var model = UserModel.Random(g);
            using var created = await scim.PostAsync("Users", ScimTestClient.Body(model.RenderBody(g).ToJsonString()));
            var user = await created.ExpectScimAsync(HttpStatusCode.Created);
            var id = user["id"].Str();
            AssertMatches(model, id, user, () => $"seed {100_000 + seed}, create");

            for (var step = 1; step <= Steps; step++)
            {
                UserModel? expected = null;
                ExpectedScimError? error = null;
                HttpRequestMessage request;
                var roll = g.Double();
                if (roll < 0.1)
                {
                    expected = UserModel.Random(g);
                    expected.Scalars["userName"] = g.Chance(0.5) ? model.Scalars["userName"] : expected.Scalars["userName"];
                    request = new HttpRequestMessage(HttpMethod.Put, $"Users/{id}") { Content = ScimTestClient.Body(expected.RenderBody(g).ToJsonString()) };
                }
                else if (roll < 0.15)
                {
                    var (body, invalid) = UserRequests.InvalidPut(g, model);
                    error = invalid;
                    request = new HttpRequestMessage(HttpMethod.Put, $"Users/{id}") { Content = ScimTestClient.Body(body.ToJsonString()) };
                }
                else
                {
                    var dialect = g.Pick(Enum.GetValues<Dialect>());
                    var ops = Enumerable.Range(0, g.Int(1, 4)).Select(_ => UserRequests.RandomOp(g, model, dialect)).ToList();
                    if (g.Chance(0.15))
                    {
                        ops.Add(g.Pick(InvalidOp.UserCatalogue));
                    }

                    expected = model.Clone();
                    try
                    {
                        ops.OfType<InvalidOp>().Where(op => op.ParseLevel).ToList().ForEach(op => op.Apply(expected));
                        ops.ForEach(op => op.Apply(expected));
                        expected.Commit();
                    }
                    catch (ExpectedScimError e)
                    {
                        (expected, error) = (null, e);
                    }

                    request = new HttpRequestMessage(HttpMethod.Patch, $"Users/{id}") { Content = ScimTestClient.Body(UserRequests.RenderPatch(g, ops, dialect).ToJsonString()) };
                }

                var text = $"{request.Method} {await request.Content!.ReadAsStringAsync()}";
                var before = await scim.GetUserAsync(id);
                string Context() => $"seed {100_000 + seed}, step {step}: {text}\nbefore: {PropertyJson.Show(before)}";
                using var response = await scim.SendAsync(request);
                request.Dispose();
                if (error is not null)
                {
                    var body = await response.ReadJsonAsync();
                    if ((int)response.StatusCode != error.Status || body["scimType"]?.GetValue<string>() != error.ScimType)
                    {
                        Assert.Fail($"{Context()}\nexpected {error.Status} {error.ScimType} ({error.Message}), got {(int)response.StatusCode} {body.ToJsonString()}");
                    }

                    Assert.True(JsonNode.DeepEquals(before, await scim.GetUserAsync(id)), $"{Context()}\na rejected request changed the user");
                    rejected++;
                    continue;
                }

                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Assert.Fail($"{Context()}\nexpected 200 with {PropertyJson.Show(expected!.Project(id))}, got {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }

                var returned = await response.ReadJsonAsync();
                AssertMatches(expected!, id, returned, Context);
                Assert.True(JsonNode.DeepEquals(returned, await scim.GetUserAsync(id)), $"{Context()}\nthe response and a later GET differ");
                model = expected!;
                accepted++;
            }
        }

        Assert.True(accepted > Seeds * Steps / 2 && rejected > 5, $"accepted {accepted}, rejected {rejected}");
    }

    private static void AssertMatches(UserModel model, string id, JsonObject returned, Func<string> context)
    {
        var actual = (JsonObject)returned.DeepClone();
        if (actual["meta"] is not JsonObject meta || meta["location"] is null || meta["version"] is null)
        {
            Assert.Fail($"{context()}\nno meta.location/version in {actual.ToJsonString()}");
        }

        actual.Remove("meta");
        var expected = model.Project(id);
        if (!PropertyJson.Same(expected, actual))
        {
            Assert.Fail($"{context()}\nexpected: {PropertyJson.Show(expected)}\nactual:   {PropertyJson.Show(actual)}");
        }
    }
}
