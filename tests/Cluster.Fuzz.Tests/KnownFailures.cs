namespace Cluster.Fuzz.Tests;

/// <summary>
/// Product bugs the harness found that are reported and not fixed yet. A violation one of them explains is counted (the
/// test output lists it) instead of failing the surface, so the harness keeps finding everything else. Each entry is
/// as narrow as the bug; remove it with the fix.
/// </summary>
internal static class KnownFailures
{
    private sealed record Known(string Bug, Func<FuzzRequest, int, string, bool> Explains);

    private static readonly Known[] Entries =
    [
    ];

    /// <summary>The known bug that explains <paramref name="violation"/> of a response with <paramref name="status"/>, or null.</summary>
    public static string? Explain(FuzzRequest request, int status, string violation) =>
        Entries.FirstOrDefault(k => k.Explains(request, status, violation))?.Bug;
}
