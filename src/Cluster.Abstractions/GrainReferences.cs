namespace Cluster.Abstractions;

/// <summary>
/// The one way this code gets a reference to a string-keyed grain: <c>grains.Grain&lt;IUserGrain&gt;(GrainKeys.User(tenant, id))</c>.
/// Orleans' <c>GetGrain&lt;T&gt;(string)</c> resolves the interface's Orleans type on every call (its attributes by
/// reflection and its formatted type name), which the CPU profiles in docs/benchmarks.md showed at 6 % of a co-hosted
/// silo's CPU under <c>GET /Users/{id}</c>. Both types are fixed for a given interface, so they are resolved once, by
/// Orleans itself, and every later reference is made from them (<see cref="IGrainFactory.GetGrain(GrainId, GrainInterfaceType)"/>):
/// the same reference <c>GetGrain&lt;T&gt;</c> makes.
/// </summary>
public static class GrainReferences
{
    /// <summary>The reference to the grain of interface <typeparamref name="T"/> whose key is <paramref name="key"/>.</summary>
    public static T Grain<T>(this IGrainFactory grains, string key) where T : IGrainWithStringKey
    {
        var types = TypesOf<T>.Value ??= TypesOf<T>.Resolve(grains);
        return (T)grains.GetGrain(GrainId.Create(types.Grain, key), types.Interface);
    }

    private static class TypesOf<T> where T : IGrainWithStringKey
    {
        // A class, so that threads racing to resolve it publish a whole pair (both would compute the same one).
        public static Types? Value;

        public static Types Resolve(IGrainFactory grains)
        {
            var reference = (GrainReference)(object)grains.GetGrain<T>("0");
            return new Types(reference.GrainId.Type, reference.InterfaceType);
        }
    }

    private sealed record Types(GrainType Grain, GrainInterfaceType Interface);
}
