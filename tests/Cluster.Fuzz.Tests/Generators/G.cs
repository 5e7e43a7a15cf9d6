using System.Collections.Immutable;
using System.Text.Encodings.Web;
using System.Text.Json;
using CsCheck;

namespace Cluster.Fuzz.Tests.Generators;

/// <summary>
/// Small combinators over CsCheck's <see cref="Gen"/>, named for what the generators say with them. (CsCheck's
/// <c>Gen.OneOf(params T[])</c> for constants would also accept generators and yield a generator of generators, so the
/// generator forms here fix the type argument.)
/// </summary>
internal static class G
{
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>One of the constants; shrinks towards the first.</summary>
    public static Gen<T> Pick<T>(params T[] values) => Gen.OneOf<T>(values);

    /// <summary>One of the generators; shrinks towards the first.</summary>
    public static Gen<T> Any<T>(params Gen<T>[] gens) => Gen.OneOf<T>(gens);

    /// <summary>One of the generators, chosen by weight; shrinks towards the first.</summary>
    public static Gen<T> Weighted<T>(params (int Weight, Gen<T> Gen)[] gens) =>
        Gen.Frequency<T>([.. gens.Select(g => (g.Weight, (IGen<T>)g.Gen))]);

    /// <summary>The value with weight <paramref name="present"/>, else null (weight <paramref name="absent"/>).</summary>
    public static Gen<T?> Maybe<T>(Gen<T> gen, int absent = 1, int present = 1)
        where T : class =>
        Weighted((absent, Gen.Const((T?)null)), (present, gen.Select(v => (T?)v)));

    /// <summary>One value from each generator, in order.</summary>
    public static Gen<T[]> All<T>(IEnumerable<Gen<T>> gens) =>
        gens.Aggregate(Gen.Const(ImmutableList<T>.Empty), (list, gen) => list.SelectMany(l => gen.Select(l.Add))).Select(l => l.ToArray());

    /// <summary>A JSON string literal of <paramref name="value"/> (non-ASCII left as is).</summary>
    public static string Quote(string value) => JsonSerializer.Serialize(value, Relaxed);
}
