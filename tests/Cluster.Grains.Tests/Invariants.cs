using System.Text.Json.Nodes;
using Cluster.Abstractions;

namespace Cluster.Grains.Tests;

/// <summary>
/// Checks the index and directory invariants of one tenant over a known set of user ids:
/// every id an index entry holds is an existing user holding that value; every existing user's values are in the
/// index; the directory lists exactly the existing users.
/// </summary>
internal static class Invariants
{
    public static async Task AssertConsistentAsync(IGrainFactory grains, string tenantId, IEnumerable<string> knownIds, params (string Index, string Value)[] alsoCheck)
    {
        var users = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var id in knownIds.Distinct())
        {
            var result = await grains.User(tenantId, id).GetAsync();
            if (result.Status == 200)
            {
                users[id] = JsonNode.Parse(result.Resource!)!.AsObject();
            }
            else
            {
                Assert.Equal(404, result.Status);
            }
        }

        // Directory = set of existing users.
        var listed = await grains.DirectoryIdsAsync(tenantId);
        Assert.True(listed.SetEquals(users.Keys), $"directory [{string.Join(",", listed.Order())}] != users [{string.Join(",", users.Keys.Order())}]");

        var values = new HashSet<(string Index, string Normalized)>(alsoCheck.Select(v => (v.Index, IndexNames.Normalize(v.Value))));
        foreach (var (id, user) in users)
        {
            foreach (var (index, held) in ResourceKind.User.ValuesOf(user))
            {
                foreach (var value in held)
                {
                    values.Add((index, IndexNames.Normalize(value)));

                    // Each user's values are present in the index.
                    var ids = await grains.IndexEntry(tenantId, index, value).LookupAsync();
                    Assert.True(ids.Contains(id), $"{index} entry for '{value}' lacks user {id}");
                }
            }
        }

        // Every id an entry holds is an existing user that holds the value.
        foreach (var (index, normalized) in values)
        {
            foreach (var id in await grains.IndexEntry(tenantId, index, normalized).LookupAsync())
            {
                Assert.True(users.TryGetValue(id, out var user), $"{index} entry for '{normalized}' holds {id}, which is not an existing user");
                Assert.Contains(normalized, ResourceKind.User.ValuesOf(user)[index].Select(IndexNames.Normalize));
            }
        }
    }
}
