using System.Text.Json.Nodes;

namespace Cluster.Grains.Indexes;

/// <summary>Index value hashes of a resource, and their differences (what a change claims and releases).</summary>
internal static class ResourceIndexing
{
    public static Dictionary<string, string[]> HashesOf(ResourceKind kind, JsonObject? resource) =>
        kind.ValuesOf(resource).ToDictionary(kv => kv.Key, kv => kv.Value.Select(IndexNames.Hash).Distinct().ToArray(), StringComparer.Ordinal);

    public static Dictionary<string, string[]> Difference(Dictionary<string, string[]> a, Dictionary<string, string[]> b) =>
        a.Select(kv => (kv.Key, Values: kv.Value.Except(b.TryGetValue(kv.Key, out var other) ? other : []).ToArray()))
         .Where(x => x.Values.Length > 0)
         .ToDictionary(x => x.Key, x => x.Values, StringComparer.Ordinal);
}
