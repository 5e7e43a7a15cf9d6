using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests;

/// <summary>
/// A POST create is retried by the gateway after an unknown outcome with the id it chose before the first attempt:
/// the repeat must be answered as the original create, and must never produce a second user or a 409 for itself.
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed class CreateRetryTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task RepeatedCreateWithIdenticalContentAnswersTheOriginal201()
    {
        var tenantId = GrainKeys.NewTenantId();
        var id = GrainKeys.NewResourceId();
        var resource = Users.Resource("retry@contoso.com", "ext-retry", "retry@contoso.com");

        var first = await Grains.User(tenantId, id).CreateAsync(resource);
        var again = await Grains.User(tenantId, id).CreateAsync(resource);

        Assert.Equal(201, first.Status);
        Assert.Equal(201, again.Status);
        Assert.Equal(first.Resource, again.Resource);
        Assert.Equal(first.Version, again.Version);
        Assert.Equal([id], await Grains.IndexEntry(tenantId, IndexNames.UserName, "retry@contoso.com").LookupAsync());
        await Invariants.AssertConsistentAsync(Grains, tenantId, [id]);
    }

    [Fact]
    public async Task ACreateWithOtherContentOnAnExistingIdIsStillAConflict()
    {
        var tenantId = GrainKeys.NewTenantId();
        var id = GrainKeys.NewResourceId();
        Assert.Equal(201, (await Grains.User(tenantId, id).CreateAsync(Users.Resource("first@contoso.com"))).Status);

        var other = await Grains.User(tenantId, id).CreateAsync(Users.Resource("second@contoso.com"));

        Assert.Equal(409, other.Status);
        Assert.Equal("first@contoso.com", Users.UserNameOf(await Grains.User(tenantId, id).GetAsync()));
        Assert.Empty(await Grains.IndexEntry(tenantId, IndexNames.UserName, "second@contoso.com").LookupAsync());
        await Invariants.AssertConsistentAsync(Grains, tenantId, [id], (IndexNames.UserName, "second@contoso.com"));
    }

    [Fact]
    public async Task ARepeatedGroupCreateWhoseMemberWasDeletedMeanwhileAnswersTheOriginal201()
    {
        // The first attempt's answer was lost; one of its members was deleted before the gateway's retry (or while the first
        // attempt added it): the group holds the other, which is what the create made of the request.
        var tenantId = GrainKeys.NewTenantId();
        var (kept, gone, other) = (await Grains.CreateUserAsync(tenantId, "kept@contoso.com"), await Grains.CreateUserAsync(tenantId, "gone@contoso.com"), await Grains.CreateUserAsync(tenantId, "other@contoso.com"));
        var id = GrainKeys.NewResourceId();
        var resource = Groups.Resource("Retried", null, kept, gone);
        Assert.Equal(201, (await Grains.Group(tenantId, id).CreateAsync(resource)).Status);
        Assert.Equal(204, (await Grains.User(tenantId, gone).DeleteAsync()).Status);

        var again = await Grains.Group(tenantId, id).CreateAsync(resource);
        Assert.Equal(201, again.Status);
        Assert.Equal([kept], await Grains.MembersAsync(tenantId, id));

        // A member that still exists but is no longer in the group: the group changed since, so a create is a conflict.
        Assert.Equal(409, (await Grains.Group(tenantId, id).CreateAsync(Groups.Resource("Retried", null, kept, other))).Status);
        Assert.Equal(200, (await Grains.Group(tenantId, id).PatchAsync(Groups.RemoveMembers(kept))).Status);
        Assert.Equal(409, (await Grains.Group(tenantId, id).CreateAsync(resource)).Status);
    }

    [Fact]
    public async Task ARetryAfterACreateThatCrashedMidClaimCompletesIt()
    {
        // The first attempt claimed the userName and died before writing the user.
        var tenantId = GrainKeys.NewTenantId();
        var id = GrainKeys.NewResourceId();
        Assert.Null(await Grains.IndexEntry(tenantId, IndexNames.UserName, "half@contoso.com").ClaimAsync(id));

        var retried = await Grains.User(tenantId, id).CreateAsync(Users.Resource("half@contoso.com"));

        Assert.Equal(201, retried.Status);
        Assert.Equal([id], await Grains.IndexEntry(tenantId, IndexNames.UserName, "half@contoso.com").LookupAsync());
        await Invariants.AssertConsistentAsync(Grains, tenantId, [id]);
    }
}
