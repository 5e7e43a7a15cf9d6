using Cluster.Abstractions;
using Cluster.Grains.State;
using Cluster.Grains.Tenants;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests.Tenants;

/// <summary>
/// Issue 13, listing tenants at a cost proportional to the page: the registry keeps every tenant's key in name order in
/// bounded buckets, pages follow an opaque cursor, a prefix finds exactly the names that start with it, renames move a
/// tenant's key and deletes remove it; stale keys are reconciled away by their tenant.
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed class TenantRegistryTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task PagesFollowTheCursorInNameOrderAcrossSplitBucketsAndNoRowOutgrowsItsBound()
    {
        // A private registry, so that other tests' tenants do not appear in it.
        var registryKey = GrainKeys.TenantRegistry("t" + GrainKeys.NewTenantId()[..12]);
        var registry = Grains.GetGrain<ITenantRegistryGrain>(registryKey);
        var random = new Random(13);
        var keys = Enumerable.Range(0, 2600)
            .Select(i => TenantListingKey.For(GrainKeys.NewTenantId(), $"Tenant {random.Next(500):D3} {(char)('a' + (i % 26))}"))
            .ToList();
        foreach (var batch in keys.OrderBy(_ => random.Next()).Chunk(100))
        {
            await Task.WhenAll(batch.Select(registry.AddAsync));
        }

        var listed = await ListAllAsync(registry, prefix: null, limit: 200);
        Assert.Equal(keys.Order(), listed);

        // Splits kept every bucket within its bound (the first of them, at least, had to split twice).
        var buckets = Enumerable.Range(0, 10)
            .Select(i => StorageProbe.LastWrittenState(GrainKeys.TenantRegistryBucket(registryKey, i), "bucket") as TenantRegistryBucketState)
            .Where(b => b is not null)
            .ToList();
        Assert.True(buckets.Count >= 3, $"{buckets.Count} buckets for {keys.Count} keys");
        Assert.All(buckets, b => Assert.InRange(b!.Entries.Count, 1, TenantRegistryGrain.MaxBucketKeys));
        Assert.Equal(keys.Count, buckets.Sum(b => b!.Entries.Count));

        // Removing every key empties the registry (empty buckets are dropped).
        foreach (var batch in keys.Chunk(100))
        {
            await Task.WhenAll(batch.Select(registry.RemoveAsync));
        }

        Assert.Empty((await registry.ListAsync(null, null, 10)).Keys);
        var root = (TenantRegistryState)StorageProbe.LastWrittenState(registryKey, "registry")!;
        Assert.Single(root.Buckets);
    }

    [Fact]
    public async Task APrefixFindsExactlyTheNamesThatStartWithItInAnySpelling()
    {
        var registry = Grains.GetGrain<ITenantRegistryGrain>(GrainKeys.TenantRegistry("p" + GrainKeys.NewTenantId()[..12]));
        var names = new[] { "Contoso", "contoso Labs", "CONTOSO-2", "Contour", "Fabrikam", "Émile & Co", "E\u0301mile Group", "Con" };
        var keys = names.Select(n => TenantListingKey.For(GrainKeys.NewTenantId(), n)).ToArray();
        await Task.WhenAll(keys.Select(registry.AddAsync));

        async Task<string[]> NamedAsync(string? q, int limit) =>
            [.. (await ListAllAsync(registry, q is null ? null : TenantListingKey.SortName(q), limit)).Select(k => names[Array.IndexOf(keys, k)])];

        Assert.Equal(["Con", "Contoso", "contoso Labs", "CONTOSO-2", "Contour"], await NamedAsync("con", 2));
        Assert.Equal(["Contoso", "contoso Labs", "CONTOSO-2", "Contour"], await NamedAsync("conto", 1));
        Assert.Equal(["Contoso", "contoso Labs", "CONTOSO-2"], await NamedAsync("CONTOS", 1));
        Assert.Equal(["Émile & Co", "E\u0301mile Group"], await NamedAsync("e\u0301MILE", 1));
        Assert.Empty(await NamedAsync("Contosoo", 5));
        Assert.Equal(names.Length, (await NamedAsync(null, 3)).Length);
    }

    [Fact]
    public async Task ATenantIsListedUnderItsNameARenameMovesItAndADeleteRemovesIt()
    {
        var run = GrainKeys.NewTenantId()[..10];
        var tenantId = GrainKeys.NewTenantId();
        var tenant = Grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenantId));
        await tenant.CreateAsync($"Zebra {run}");
        var registry = Grains.GetGrain<ITenantRegistryGrain>(GrainKeys.TenantRegistry());

        Assert.Equal([tenantId], await IdsAsync(registry, $"Zebra {run}"));

        await tenant.UpdateAsync($"Yak {run}", null);
        Assert.Empty(await IdsAsync(registry, $"Zebra {run}"));
        Assert.Equal([tenantId], await IdsAsync(registry, $"yak {run}"));

        await tenant.UpdateAsync(null, suspended: true); // not a rename: the key stays
        Assert.Equal([tenantId], await IdsAsync(registry, $"yak {run}"));

        await tenant.DeleteAsync();
        Assert.Empty(await IdsAsync(registry, $"yak {run}"));
    }

    [Fact]
    public async Task AStaleKeyIsRemovedByItsTenantAndAKeyTheTenantHoldsStays()
    {
        var run = GrainKeys.NewTenantId()[..10];
        var registry = Grains.GetGrain<ITenantRegistryGrain>(GrainKeys.TenantRegistry());
        var tenantId = GrainKeys.NewTenantId();
        var tenant = Grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenantId));
        await tenant.CreateAsync($"Held {run}");

        // As a create that crashed after listing itself, and a rename that crashed before its write.
        var ghost = TenantListingKey.For(GrainKeys.NewTenantId(), $"Ghost {run}");
        var unfinishedRename = TenantListingKey.For(tenantId, $"Renamed {run}");
        await registry.AddAsync(ghost);
        await registry.AddAsync(unfinishedRename);
        Assert.Single(await IdsAsync(registry, $"Ghost {run}"));

        await Grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(ghost.TenantId)).ReconcileListingAsync(ghost);
        await tenant.ReconcileListingAsync(unfinishedRename);
        await tenant.ReconcileListingAsync(TenantListingKey.For(tenantId, $"Held {run}"));

        await Eventually.TrueAsync(async () => (await IdsAsync(registry, $"Ghost {run}")).Length == 0 && (await IdsAsync(registry, $"Renamed {run}")).Length == 0);
        Assert.Equal([tenantId], await IdsAsync(registry, $"Held {run}"));
    }

    [Fact]
    public void CursorsRoundTripAndAnythingElseIsRefused()
    {
        var id = GrainKeys.NewTenantId();
        foreach (var key in new[] { TenantListingKey.For(id, "Contoso"), TenantListingKey.For(id, "É" + new string('x', 200)), new TenantListingKey("", id) })
        {
            Assert.True(TenantListingKey.TryParseCursor(key.ToCursor(), out var back));
            Assert.Equal(key, back);
        }

        static string Encode(byte[] bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);
        static string Text(string text) => Encode(System.Text.Encoding.UTF8.GetBytes(text));
        foreach (var bad in new[]
        {
            "", "x", "!!!!", "a b", new string('A', 2000),
            Text("CONTOSO"), Text("CONTOSO\n**"), Text("CONTOSO\n" + new string('f', 65)), Text("CON\u0001\n" + id),
            Text(new string('X', 65) + "\n" + id), Encode([0xFF, 0xFE, (byte)'\n', (byte)'a']),
        })
        {
            Assert.False(TenantListingKey.TryParseCursor(bad, out _), bad);
        }
    }

    private static async Task<string[]> IdsAsync(ITenantRegistryGrain registry, string name) =>
        [.. (await ListAllAsync(registry, TenantListingKey.SortName(name), 10)).Where(k => k.Name == TenantListingKey.SortName(name)).Select(k => k.TenantId)];

    // Every key from the start, page by page; each page is checked to be in order after the last.
    private static async Task<List<TenantListingKey>> ListAllAsync(ITenantRegistryGrain registry, string? prefix, int limit)
    {
        var all = new List<TenantListingKey>();
        TenantListingKey? after = null;
        for (var pages = 0; pages < 10_000; pages++)
        {
            var page = await registry.ListAsync(after, prefix, limit);
            Assert.True(page.Keys.Length <= limit);
            Assert.Equal(page.Keys.Order(), page.Keys);
            Assert.All(page.Keys, k => Assert.True(after is null || k > after.Value));
            all.AddRange(page.Keys);
            if (!page.HasMore)
            {
                return all;
            }

            Assert.Equal(limit, page.Keys.Length);
            after = page.Keys[^1];
        }

        throw new InvalidOperationException("The listing never ended.");
    }
}
