using Cluster.Fuzz.Tests.Generators;
using Cluster.Scim.Schema;
using CsCheck;

namespace Cluster.Fuzz.Tests;

/// <summary>
/// One fuzzed surface: a name (the test case), its share of the time budget, the error format its responses must
/// keep, and the generator of its requests for a seeded <see cref="FuzzWorld"/>.
/// </summary>
public sealed record FuzzSurface(string Name, int Weight, ErrorContract Errors, Func<FuzzWorld, Gen<FuzzRequest>> Requests)
{
    public override string ToString() => Name;
}

/// <summary>
/// Every surface the harness fuzzes. To fuzz a new endpoint, add its generator under <c>Generators/</c> and one line
/// here (with a new <see cref="ErrorContract"/> if its errors have their own format); it gets its own test case and a
/// share of <c>FUZZ_SECONDS</c>.
/// </summary>
public static class FuzzSurfaces
{
    public static IReadOnlyList<FuzzSurface> All { get; } =
    [
        new("Users", 3, ErrorContract.Scim, world => new ScimRequests(world).Resources(ScimSchemas.UserResource)),
        new("Groups", 3, ErrorContract.Scim, world => new ScimRequests(world).Resources(ScimSchemas.GroupResource)),
        new("Queries", 2, ErrorContract.Scim, world => new ScimRequests(world).Queries()),
        new("Bulk", 2, ErrorContract.Scim, world => new ScimRequests(world).Bulk()),
        new("Discovery", 1, ErrorContract.Scim, world => new ScimRequests(world).Discovery()),
        new("Admin", 1, ErrorContract.ProblemDetails, world => new AdminRequests(world).All()),
        new("OAuth", 1, ErrorContract.OAuth, world => new OAuthRequests(world).All()),
        new("Portal", 1, ErrorContract.Html, world => new PortalRequests(world).All()),
    ];

    public static FuzzSurface Named(string name) => All.Single(s => s.Name == name);
}
