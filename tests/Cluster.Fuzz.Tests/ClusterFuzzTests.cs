using System.Text.RegularExpressions;
using CsCheck;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Cluster.Fuzz.Tests;

/// <summary>
/// Issue 11, "nothing a client sends can break the cluster": for each surface of <see cref="FuzzSurfaces"/>, CsCheck
/// generates valid requests from the schemas and mutates their bytes and headers for the surface's share of
/// <c>FUZZ_SECONDS</c>; <see cref="FuzzHarness"/> sends each through the real pipeline and checks the invariants. A
/// failure is shrunk to the smallest failing request found, and printed with the seed that replays it.
/// </summary>
[Collection(FuzzCollection.Name)]
public sealed partial class ClusterFuzzTests(FuzzCluster cluster, ITestOutputHelper output)
{
    public static TheoryData<string> Surfaces => new(FuzzSurfaces.All.Select(s => s.Name));

    [Theory]
    [MemberData(nameof(Surfaces))]
    public async Task NothingAClientSendsBreaksTheCluster(string surface)
    {
        var fuzzed = FuzzSurfaces.Named(surface);
        var world = await cluster.SeedAsync();
        using var harness = new FuzzHarness(cluster, world, fuzzed.Errors);
        var replay = FuzzBudget.ReplaySeed is not null;
        try
        {
            await fuzzed.Requests(world).SampleAsync(
                harness.CheckAsync,
                writeLine: output.WriteLine,
                iter: replay ? 1 : -1,
                time: replay ? -1 : FuzzBudget.SecondsFor(fuzzed),
                threads: 1,
                print: request => request.ToString());
        }
        catch (CsCheckException e)
        {
            var seed = SeedPattern().Match(e.Message) is { Success: true } m ? m.Groups[1].Value : "?";
            throw new XunitException(
                $"Surface '{surface}' broke an invariant: {Describe(e.InnerException)}\n\n" +
                $"Smallest failing request found (after {harness.Total} requests; statuses {harness.Statuses}):\n{e.Message}\n\n" +
                $"Replay it against a freshly seeded tenant:\n  CsCheck_Seed={seed} dotnet test tests/Cluster.Fuzz.Tests -c Release --filter \"DisplayName~{surface}\"");
        }
        finally
        {
            var budget = replay ? $"replay of {FuzzBudget.ReplaySeed}" : $"{FuzzBudget.SecondsFor(fuzzed)} s";
            output.WriteLine($"{surface}: {harness.Total} requests ({budget}; {harness.Reading.TotalSeconds:F1} s reading state); statuses {harness.Statuses}");
            if (harness.Known.Length > 0)
            {
                output.WriteLine($"Known bugs seen (KnownFailures): {harness.Known}");
            }
        }

        if (!replay)
        {
            Assert.True(harness.Successes > 0, $"No request to '{surface}' succeeded ({harness.Statuses}): the generator only produces rejected requests.");
        }
    }

    // An invariant names itself; anything else thrown while sending (the server's exception escaping the pipeline,
    // a broken response) is shown with its type and stack.
    private static string? Describe(Exception? e) => e is InvariantViolationException ? e.Message : e?.ToString();

    [GeneratedRegex(@"CsCheck_Seed=(\S+)")]
    private static partial Regex SeedPattern();
}
