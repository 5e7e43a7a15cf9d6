using Cluster.Abstractions;
using Cluster.Grains.State;

namespace Cluster.Grains.Tests;

/// <summary>Row names are stored: they must stay exactly as they are, whatever process or Orleans version computes them.</summary>
public sealed class StorageRowNamesTests
{
    [Fact]
    public void ARowNameIsTheStateNameAndTheFnv1aHashOfTheGrainKey()
    {
        // 0xaf63dc4c8601ec8c is the published 64-bit FNV-1a test vector for "a".
        Assert.Equal("user-af63dc4c8601ec8c", StorageRowNames.For("user", GrainId.Create("user", "a")));
        // The grain type is in the PartitionKey already; only the key is hashed.
        Assert.Equal("index-af63dc4c8601ec8c", StorageRowNames.For("index", GrainId.Create("indexentry", "a")));
    }

    [Fact]
    public void DifferentGrainsGetDifferentRowNames()
    {
        var names = Enumerable.Range(0, 1000)
            .Select(i => StorageRowNames.For("user", GrainId.Create("user", GrainKeys.User("tenant1", $"id{i}"))))
            .ToList();
        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
        Assert.All(names, n => Assert.StartsWith("user-", n, StringComparison.Ordinal));
    }
}
