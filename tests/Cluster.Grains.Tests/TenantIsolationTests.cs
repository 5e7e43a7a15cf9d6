using Cluster.Abstractions;
using Cluster.Gateway.Querying;
using Cluster.Scim.Filtering;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests;

[Collection(ClusterFixture.Collection)]
public sealed class TenantIsolationTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task TheSameUserNameInTwoTenantsBothSucceed()
    {
        var (a, b) = (GrainKeys.NewTenantId(), GrainKeys.NewTenantId());
        var inA = await Grains.CreateUserAsync(a, "shared@contoso.com", externalId: "ext");
        var inB = await Grains.CreateUserAsync(b, "SHARED@contoso.com", externalId: "ext");

        Assert.Equal([inA], await Grains.IndexEntry(a, IndexNames.UserName, "shared@contoso.com").LookupAsync());
        Assert.Equal([inB], await Grains.IndexEntry(b, IndexNames.UserName, "shared@contoso.com").LookupAsync());
        Assert.Equal([inA], await Grains.IndexEntry(a, IndexNames.UserExternalId, "ext").LookupAsync());
        Assert.Equal([inB], await Grains.IndexEntry(b, IndexNames.UserExternalId, "ext").LookupAsync());
    }

    [Fact]
    public async Task AUserOfTenantAAddressedUnderTenantBDoesNotExist()
    {
        var (a, b) = (GrainKeys.NewTenantId(), GrainKeys.NewTenantId());
        var id = await Grains.CreateUserAsync(a, "alice@contoso.com");
        var before = await Grains.User(a, id).GetAsync();

        var underB = Grains.User(b, id);
        Assert.Equal(404, (await underB.GetAsync()).Status);
        Assert.Equal(404, (await underB.PatchAsync(Users.RenamePatch("mallory@contoso.com"))).Status);
        Assert.Equal(404, (await underB.ReplaceAsync(Users.Resource("mallory@contoso.com"))).Status);
        Assert.Equal(404, (await underB.DeleteAsync()).Status);
        Assert.False(await underB.OwnsIndexValueAsync(IndexNames.UserName, IndexNames.Hash("alice@contoso.com")));

        var after = await Grains.User(a, id).GetAsync();
        Assert.Equal((200, before.Resource, before.Version), (after.Status, after.Resource, after.Version));
        Assert.Empty(await Grains.DirectoryIdsAsync(b));
        Assert.Empty(await Grains.IndexEntry(b, IndexNames.UserName, "mallory@contoso.com").LookupAsync());
    }

    [Fact]
    public async Task IndexLookupsAndListingInTenantBDoNotSeeTenantAUsers()
    {
        var (a, b) = (GrainKeys.NewTenantId(), GrainKeys.NewTenantId());
        var id = await Grains.CreateUserAsync(a, "alice@contoso.com", externalId: "ext-a", workEmail: "alice@contoso.com");
        var queries = new ResourceQueries(Grains);

        foreach (var filter in new[] { $"id eq \"{id}\"", "userName eq \"alice@contoso.com\"", "externalId eq \"ext-a\"", "emails[type eq \"work\" and value eq \"alice@contoso.com\"]" })
        {
            var inA = await queries.QueryAsync(ResourceKind.User, a, FilterParser.Parse(filter), 1, 100);
            var inB = await queries.QueryAsync(ResourceKind.User, b, FilterParser.Parse(filter), 1, 100);
            Assert.Equal(1, inA.Total);
            Assert.Equal(id, inA.Page[0]["id"]!.GetValue<string>());
            Assert.Equal(0, inB.Total);
            Assert.Empty(inB.Page);
        }

        Assert.Equal(0, (await queries.QueryAsync(ResourceKind.User, b, null, 1, 100)).Total);
        Assert.Equal(0, await queries.CountAsync(ResourceKind.User, b));
        Assert.Equal(1, await queries.CountAsync(ResourceKind.User, a));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("/")]
    [InlineData("a b")]
    [InlineData("a.b")]
    [InlineData("é")]
    [InlineData("a\0")]
    public void GrainKeysRejectInvalidIds(string bad)
    {
        Assert.False(GrainKeys.IsValidId(bad));
        Assert.Throws<ArgumentException>(() => GrainKeys.Tenant(bad));
        Assert.Throws<ArgumentException>(() => GrainKeys.User(bad, "u1"));
        Assert.Throws<ArgumentException>(() => GrainKeys.User("t1", bad));
        Assert.Throws<ArgumentException>(() => GrainKeys.IndexEntry(bad, IndexNames.UserName, IndexNames.Hash("x")));
        Assert.Throws<ArgumentException>(() => GrainKeys.IndexEntry("t1", IndexNames.UserName, bad));
        Assert.Throws<ArgumentException>(() => GrainKeys.Directory(bad, "users", 0));
    }

    [Fact]
    public void GrainKeysRejectNullAndOverlongIds()
    {
        Assert.False(GrainKeys.IsValidId(null));
        Assert.True(GrainKeys.IsValidId(new string('a', 64)));
        Assert.False(GrainKeys.IsValidId(new string('a', 65)));
        Assert.Throws<ArgumentException>(() => GrainKeys.User("t1", new string('a', 65)));
        Assert.Throws<ArgumentException>(() => GrainKeys.User(new string('a', 65), "u1"));
        Assert.Equal("t1/" + new string('a', 64), GrainKeys.User("t1", new string('a', 64)));
        Assert.Throws<ArgumentOutOfRangeException>(() => GrainKeys.Directory("t1", "users", GrainKeys.DirectoryPartitions));
        Assert.Throws<ArgumentOutOfRangeException>(() => GrainKeys.Directory("t1", "users", -1));
    }

    [Fact]
    public void RandomTenantAndResourceIdsNeverForgeAnotherTenantsKey()
    {
        const string alphabet = "aAzZ09-_/.\\ %:é\0";
        var random = new Random(20261129);
        string RandomString() => new([.. Enumerable.Range(0, random.Next(0, 70)).Select(_ => random.Next(30) == 0 ? alphabet[random.Next(alphabet.Length)] : (char)('a' + random.Next(3)))]);

        var built = 0;
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < 20000; i++)
        {
            var (tenant, id) = (RandomString(), RandomString());
            string key;
            try
            {
                key = GrainKeys.User(tenant, id);
            }
            catch (ArgumentException)
            {
                Assert.False(GrainKeys.IsValidId(tenant) && GrainKeys.IsValidId(id));
                continue;
            }

            built++;
            Assert.Equal((tenant, id), GrainKeys.ParseResourceKey(key));
            Assert.Equal(tenant, GrainKeys.TenantOfKey(key));
            Assert.Equal(tenant, GrainKeys.ParseIndexEntryKey(GrainKeys.IndexEntry(tenant, IndexNames.UserName, IndexNames.Hash(id))).TenantId);
            Assert.Equal(tenant, GrainKeys.TenantOfKey(GrainKeys.Directory(tenant, "users", GrainKeys.DirectoryPartitionOf(id))));

            // One key, one tenant: no two different tenants ever produce the same key.
            if (keys.TryGetValue(key, out var owner))
            {
                Assert.Equal(owner, tenant);
            }

            keys[key] = tenant;
        }

        Assert.True(built > 1000, $"only {built} valid pairs generated");
    }
}
