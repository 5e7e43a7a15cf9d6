using System.Globalization;
using CsCheck;

namespace Cluster.Fuzz.Tests;

/// <summary>
/// How long the harness runs: <c>FUZZ_SECONDS</c> in total (default <see cref="DefaultSeconds"/>, so the whole project
/// takes about a minute), shared between the surfaces by weight. With <c>CsCheck_Seed</c> set, each surface runs only
/// that seed: a replay.
/// </summary>
public static class FuzzBudget
{
    public const int DefaultSeconds = 45;

    public static int TotalSeconds =>
        int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SECONDS"), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? seconds
            : DefaultSeconds;

    /// <summary>The seed to replay (CsCheck reads <c>CsCheck_Seed</c>), or null.</summary>
    public static string? ReplaySeed => Check.Seed;

    public static int SecondsFor(FuzzSurface surface) =>
        Math.Max(1, (int)Math.Round(TotalSeconds * (double)surface.Weight / FuzzSurfaces.All.Sum(s => s.Weight)));
}
