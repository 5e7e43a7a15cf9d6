using Cluster.Abstractions;
using Cluster.Scim.Filtering;
using Cluster.Scim.Schema;
using Cluster.Scim.Tests.Properties;

namespace Cluster.Grains.Tests;

/// <summary>
/// Property test of index planning (invariants 5 and 8): when <see cref="UserIndexes.Plan"/> answers a filter with an
/// index probe, the gateway only looks at the users the probe finds, so every user the filter matches must be found by
/// it — the id itself, or a value of the probed index (<see cref="ResourceKind.ValuesIn"/>, what the gateway checks) equal after <see cref="IndexNames.Normalize"/>. Random filters around the eq
/// lookups Entra makes (userName, externalId, id, the work email in both forms) are checked against a fixed population.
/// </summary>
public sealed class IndexPlanPropertyTests
{
    private static readonly ResourceTypeDefinition Type = ScimSchemas.UserResource;
    private static readonly PopUser[] Population = [.. Enumerable.Range(0, 200).Select(i => PopUser.Create(70_000 + i))];

    [Fact]
    public void AnIndexProbeFindsEveryUserTheFilterMatches()
    {
        var (probes, hits) = (0, 0);
        for (var seed = 0; seed < 400; seed++)
        {
            var g = new Choices(seed);
            var filters = new FilterGen(g, Population);
            for (var i = 0; i < 5; i++)
            {
                var text = Compose(g, filters);
                var filter = FilterParser.Parse(text);
                FilterEvaluator.Validate(filter, Type);
                if (UserIndexes.Plan(filter) is not { } probe)
                {
                    continue;
                }

                probes++;
                foreach (var user in Population.Where(u => FilterEvaluator.Matches(filter, u.Json, Type)))
                {
                    hits++;
                    var found = probe.IndexName is null
                        ? string.Equals(user.Id, probe.Value, StringComparison.Ordinal)
                        : ResourceKind.User.ValuesIn(user.Json, probe.IndexName).Any(v => IndexNames.Normalize(v) == IndexNames.Normalize(probe.Value));
                    if (!found)
                    {
                        Assert.Fail($"seed {seed}, filter {i}: {text}\nprobe {probe} misses matching user {user.Json.ToJsonString()}");
                    }
                }
            }
        }

        Assert.True(probes > 800 && hits > 300, $"{probes} probes, {hits} matching users: the generator is not exercising the planner");
    }

    private static string Compose(Choices g, FilterGen filters)
    {
        var lookup = Lookup(g, g.Pick(Population));
        var other = filters.Next(2).Text;
        return g.Int(0, 6) switch
        {
            0 => lookup,
            1 => $"{lookup} and ({other})",
            2 => $"({other}) and {lookup}",
            3 => $"{lookup} or ({other})",
            4 => $"not ({lookup})",
            5 => $"({other}) and ({lookup} and {Lookup(g, g.Pick(Population))})",
            _ => $"{lookup} and not ({other})",
        };
    }

    /// <summary>An eq lookup as Entra makes it, on a value of <paramref name="user"/> (case varied).</summary>
    private static string Lookup(Choices g, PopUser user)
    {
        string Value(string v) => g.Quote(g.Chance(0.3) ? g.FlipCase(v) : v);
        var emails = user.Model.Lists["emails"].Select(e => e.Str("value")).OfType<string>().ToList();
        var email = emails.Count > 0 ? g.Pick(emails) : g.Email();
        var type = g.Pick(new[] { "work", "Work", "WORK", "home" });
        return g.Int(0, 6) switch
        {
            0 => $"{g.Case("userName")} eq {Value(user.Model.Scalars["userName"])}",
            1 => $"urn:ietf:params:scim:schemas:core:2.0:User:userName eq {Value(user.Model.Scalars["userName"])}",
            2 => $"{g.Case("externalId")} eq {Value(user.Model.Scalars.GetValueOrDefault("externalId", "none"))}",
            3 => $"{g.Case("id")} eq {Value(user.Id)}",
            4 => $"emails[type eq \"{type}\" and value eq {Value(email)}]",
            5 => $"emails[value eq {Value(email)} and type eq \"{type}\" and primary pr]",
            _ => $"emails[type eq \"{type}\"].value eq {Value(email)}",
        };
    }
}
