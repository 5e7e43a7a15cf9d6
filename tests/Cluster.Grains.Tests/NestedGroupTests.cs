using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Grains.State;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Cluster.Grains.Tests;

/// <summary>
/// Groups as members of groups (RFC 7643 §4.2): the member's kind is decided by the group and stored in its partition,
/// both sides agree (invariant 7), deletes cascade one level, bad input changes nothing (10), crashes repair (6).
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed class NestedGroupTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task AGroupBecomesAMemberWithKindGroupAndBothSidesAgree()
    {
        var tenantId = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "nested-user@contoso.com");
        var child = await Grains.CreateGroupAsync(tenantId, "Child", user);
        var parent = await Grains.CreateGroupAsync(tenantId, "Parent");

        // No type given: not a user, so a group.
        Assert.Equal(200, (await Grains.Group(tenantId, parent).PatchAsync(Groups.AddMembers(child, user))).Status);

        Assert.Equal(new[] { (child, "Group"), (user, "User") }.OrderBy(m => m.Item1, StringComparer.Ordinal), await MembersWithTypesAsync(tenantId, parent));
        Assert.Equal([parent], await Grains.Group(tenantId, child).GetGroupIdsAsync());
        Assert.True(await Grains.Group(tenantId, child).IsJoinedAsync(parent));

        // The membership pre-check reads the child's partition only and still knows its kind.
        var checkedMember = JsonNode.Parse((await Grains.Group(tenantId, parent).ReadAsync([child])).Resource!)!["members"]!.AsArray();
        Assert.Equal("Group", Assert.Single(checkedMember)!["type"]!.GetValue<string>());

        // A user's groups list direct memberships only: the parent reached through the child is not expanded.
        Assert.Equal(new[] { child, parent }.Order(StringComparer.Ordinal), await Grains.GroupsOfAsync(tenantId, user));
        var userOnlyInChild = await Grains.CreateUserAsync(tenantId, "only-child@contoso.com");
        Assert.Equal(200, (await Grains.Group(tenantId, child).PatchAsync(Groups.AddMembers(userOnlyInChild))).Status);
        Assert.Equal([child], await Grains.GroupsOfAsync(tenantId, userOnlyInChild));

        // Removing the child group: both sides forget.
        Assert.Equal(200, (await Grains.Group(tenantId, parent).PatchAsync(Groups.Ops($$"""{"op":"remove","path":"members[value eq \"{{child}}\"]"}"""))).Status);
        Assert.Equal([(user, "User")], await MembersWithTypesAsync(tenantId, parent));
        Assert.Empty(await Grains.Group(tenantId, child).GetGroupIdsAsync());
    }

    [Fact]
    public async Task StatedTypeOrRefDecidesTheKindAndAWrongOneIsRejected()
    {
        var tenantId = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "typed@contoso.com");
        var child = await Grains.CreateGroupAsync(tenantId, "Typed child");
        var parent = await Grains.CreateGroupAsync(tenantId, "Typed parent");
        var g = Grains.Group(tenantId, parent);

        foreach (var wrong in new[]
        {
            $$"""{"value":"{{user}}","type":"Group"}""",
            $$"""{"value":"{{child}}","type":"User"}""",
            $$"""{"value":"{{child}}","$ref":"https://example.com/scim/Users/{{child}}"}""",
            $$"""{"value":"{{child}}","type":"Group","$ref":"https://example.com/scim/Users/{{child}}"}""",
            $$"""{"value":"{{child}}","type":"Robot"}""",
        })
        {
            var result = await g.PatchAsync(Groups.Ops($$"""{"op":"add","path":"members","value":[{{wrong}}]}"""));
            Assert.True((result.Status, result.ScimType) == (400, "invalidValue"), $"{wrong}: {result.Status} {result.Detail}");
        }

        Assert.Empty(await Grains.MembersAsync(tenantId, parent));
        Assert.Empty(await Grains.Group(tenantId, child).GetGroupIdsAsync());
        Assert.Empty(await Grains.User(tenantId, user).GetGroupIdsAsync());

        var ok = await g.PatchAsync(Groups.Ops($$"""
            {"op":"add","path":"members","value":[{"value":"{{child}}","type":"group"},{"value":"{{user}}","$ref":"https://example.com/scim/v2/Users/{{user}}"}]}
            """));
        Assert.Equal(200, ok.Status);
        Assert.Equal(new[] { (child, "Group"), (user, "User") }.OrderBy(m => m.Item1, StringComparer.Ordinal), await MembersWithTypesAsync(tenantId, parent));
    }

    [Fact]
    public async Task AGroupCannotBeAMemberOfItself()
    {
        var tenantId = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "self@contoso.com");
        var group = await Grains.CreateGroupAsync(tenantId, "Narcissus", user);
        var before = await Grains.Group(tenantId, group).ReadAsync(null);

        foreach (var patch in new[] { Groups.AddMembers(group), Groups.AddMembers(user, group), Groups.Ops($$"""{"op":"add","path":"members","value":[{"value":"{{group}}","type":"Group"}]}""") })
        {
            var result = await Grains.Group(tenantId, group).PatchAsync(patch);
            Assert.Equal((400, "invalidValue"), (result.Status, result.ScimType));
        }

        // Also on create: the new group's own id among its members.
        var newId = GrainKeys.NewResourceId();
        var create = await Grains.Group(tenantId, newId).CreateAsync(Groups.Resource("Echo", null, newId));
        Assert.Equal((400, "invalidValue"), (create.Status, create.ScimType));
        Assert.Equal(404, (await Grains.Group(tenantId, newId).ReadAsync(null)).Status);
        Assert.Empty(await Grains.IndexEntry(tenantId, IndexNames.GroupDisplayName, "Echo").LookupAsync());

        var after = await Grains.Group(tenantId, group).ReadAsync(null);
        Assert.Equal(before.Resource, after.Resource);
        Assert.Equal(before.Version, after.Version);
        Assert.Empty(await Grains.Group(tenantId, group).GetGroupIdsAsync());
    }

    [Fact]
    public async Task UnknownOrForeignGroupIsRejectedAndNothingChanges()
    {
        var tenantId = GrainKeys.NewTenantId();
        var otherTenant = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "strict@contoso.com");
        var group = await Grains.CreateGroupAsync(tenantId, "Strict");
        var foreignGroup = await Grains.CreateGroupAsync(otherTenant, "Foreign");
        var deletedGroup = await Grains.CreateGroupAsync(tenantId, "Deleted");
        Assert.Equal(204, (await Grains.Group(tenantId, deletedGroup).DeleteAsync()).Status);
        var before = await Grains.Group(tenantId, group).ReadAsync(null);

        foreach (var bad in new[] { GrainKeys.NewResourceId(), foreignGroup, deletedGroup })
        {
            var result = await Grains.Group(tenantId, group).PatchAsync(Groups.AddMembers(user, bad));
            Assert.Equal((400, "invalidValue"), (result.Status, result.ScimType));
            var typed = await Grains.Group(tenantId, group).PatchAsync(Groups.Ops($$"""{"op":"add","path":"members","value":[{"value":"{{bad}}","type":"Group"}]}"""));
            Assert.Equal((400, "invalidValue"), (typed.Status, typed.ScimType));
        }

        var after = await Grains.Group(tenantId, group).ReadAsync(null);
        Assert.Equal(before.Resource, after.Resource);
        Assert.Equal(before.Version, after.Version);
        Assert.Empty(await Grains.User(tenantId, user).GetGroupIdsAsync());
        Assert.Empty(await Grains.Group(otherTenant, foreignGroup).GetGroupIdsAsync());
    }

    [Fact]
    public async Task DeletingAChildGroupRemovesItFromEveryParent()
    {
        var tenantId = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "child-member@contoso.com");
        var child = await Grains.CreateGroupAsync(tenantId, "Leaving child", user);
        var p1 = await Grains.CreateGroupAsync(tenantId, "Parent one", child, user);
        var p2 = await Grains.CreateGroupAsync(tenantId, "Parent two", child);
        Assert.Equal(new[] { p1, p2 }.Order(StringComparer.Ordinal), await Grains.Group(tenantId, child).GetGroupIdsAsync());

        Assert.Equal(204, (await Grains.Group(tenantId, child).DeleteAsync()).Status);

        Assert.Equal([user], await Grains.MembersAsync(tenantId, p1));
        Assert.Empty(await Grains.MembersAsync(tenantId, p2));
        Assert.Equal([p1], await Grains.GroupsOfAsync(tenantId, user));
        Assert.Empty(await Grains.Group(tenantId, child).GetGroupIdsAsync());
        Assert.False(await Grains.Group(tenantId, child).ExistsAsync());
        await Grains.AssertMembershipAgreesAsync(tenantId, [p1, p2], [user]);
    }

    [Fact]
    public async Task DeletingAParentMakesItsMemberGroupsForgetIt()
    {
        var tenantId = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "stays@contoso.com");
        var child = await Grains.CreateGroupAsync(tenantId, "Staying child", user);
        var doomed = await Grains.CreateGroupAsync(tenantId, "Doomed parent", child);
        var kept = await Grains.CreateGroupAsync(tenantId, "Kept parent", child);

        Assert.Equal(204, (await Grains.Group(tenantId, doomed).DeleteAsync()).Status);

        Assert.Equal([kept], await Grains.Group(tenantId, child).GetGroupIdsAsync());
        Assert.Equal([user], await Grains.MembersAsync(tenantId, child));
        Assert.Equal([child], await Grains.MembersAsync(tenantId, kept));

        // The child can be deleted afterwards, and joins new parents.
        var later = await Grains.CreateGroupAsync(tenantId, "Later parent");
        Assert.Equal(200, (await Grains.Group(tenantId, later).PatchAsync(Groups.AddMembers(child))).Status);
        Assert.Equal(new[] { kept, later }.Order(StringComparer.Ordinal), await Grains.Group(tenantId, child).GetGroupIdsAsync());
    }

    [Fact]
    public async Task CyclesAreAcceptedAndDeletesEndThem()
    {
        // RFC 7643 does not forbid cycles; nothing here walks the graph, so nothing can loop.
        var tenantId = GrainKeys.NewTenantId();
        var a = await Grains.CreateGroupAsync(tenantId, "Cycle A");
        var b = await Grains.CreateGroupAsync(tenantId, "Cycle B", a);
        var c = await Grains.CreateGroupAsync(tenantId, "Cycle C", b);
        Assert.Equal(200, (await Grains.Group(tenantId, a).PatchAsync(Groups.AddMembers(c))).Status);

        Assert.Equal([c], await Grains.MembersAsync(tenantId, a));
        Assert.Equal([b], await Grains.Group(tenantId, a).GetGroupIdsAsync());

        Assert.Equal(204, (await Grains.Group(tenantId, a).DeleteAsync()).Status);
        Assert.Empty(await Grains.MembersAsync(tenantId, b));
        Assert.Empty(await Grains.Group(tenantId, c).GetGroupIdsAsync());
        Assert.Equal([b], await Grains.MembersAsync(tenantId, c));
    }

    [Fact]
    public async Task GroupsAddingEachOtherConcurrentlyDoNotWaitOnEachOther()
    {
        // A adds B while B adds A: each calls the other's member side. Those calls interleave (they touch only the
        // parents state), so neither waits for the other's turn; a wait would end in call timeouts, not in 200s.
        var tenantId = GrainKeys.NewTenantId();
        var pairs = new List<(string A, string B)>();
        for (var i = 0; i < 10; i++)
        {
            pairs.Add((await Grains.CreateGroupAsync(tenantId, $"Mutual A{i}"), await Grains.CreateGroupAsync(tenantId, $"Mutual B{i}")));
        }

        var results = await Task.WhenAll(pairs.SelectMany(p => new[]
        {
            Grains.Group(tenantId, p.A).PatchAsync(Groups.AddMembers(p.B)),
            Grains.Group(tenantId, p.B).PatchAsync(Groups.AddMembers(p.A)),
        }));
        Assert.All(results, r => Assert.Equal(200, r.Status));

        // And both delete at once.
        var deletes = await Task.WhenAll(pairs.SelectMany(p => new[] { Grains.Group(tenantId, p.A).DeleteAsync(), Grains.Group(tenantId, p.B).DeleteAsync() }));
        Assert.All(deletes, r => Assert.Equal(204, r.Status));
        foreach (var (a, b) in pairs)
        {
            Assert.Empty(await Grains.Group(tenantId, a).GetGroupIdsAsync());
            Assert.Empty(await Grains.Group(tenantId, b).GetGroupIdsAsync());
            Assert.Empty(await Partition(tenantId, a, b).ListAsync());
            Assert.Empty(await Partition(tenantId, b, a).ListAsync());
        }
    }

    [Fact]
    public async Task ParentRecordWithoutPartitionEntryIsRepairedWhenTheChildActivates()
    {
        // Crashed after step 2 (the child recorded the parent) before step 4 (the parent's partition).
        var tenantId = GrainKeys.NewTenantId();
        var child = await Grains.CreateGroupAsync(tenantId, "Half-joined child");
        var parent = await Grains.CreateGroupAsync(tenantId, "Half-joined parent");
        var neverCreated = GrainKeys.NewResourceId();
        Assert.True(await Grains.Group(tenantId, child).JoinGroupAsync(parent));
        Assert.True(await Grains.Group(tenantId, child).JoinGroupAsync(neverCreated));
        Assert.Empty(await Grains.MembersAsync(tenantId, parent));

        await fixture.Cluster.DeactivateAsync(Grains.Group(tenantId, child));

        await AssertParentsSettleAsync(tenantId, child);

        // A later real add still works.
        Assert.Equal(200, (await Grains.Group(tenantId, parent).PatchAsync(Groups.AddMembers(child))).Status);
        Assert.Equal([parent], await Grains.Group(tenantId, child).GetGroupIdsAsync());
    }

    [Fact]
    public async Task PartitionWriteFailingAfterTheParentsWriteIsFinishedWithTheMembersKind()
    {
        // The parent's write carries the change as its journal (the commit point): the failed partition write is replayed.
        var tenantId = GrainKeys.NewTenantId();
        var child = await Grains.CreateGroupAsync(tenantId, "Flaky child");
        var parent = await Grains.CreateGroupAsync(tenantId, "Flaky parent");
        StorageProbe.FailNextWrites(GrainKeys.GroupMembers(tenantId, parent, GrainKeys.GroupMemberPartitionOf(child)));

        await Assert.ThrowsAnyAsync<Exception>(() => Grains.Group(tenantId, parent).PatchAsync(Groups.AddMembers(child)));

        Assert.Equal([(child, "Group")], await MembersWithTypesAsync(tenantId, parent));
        await AssertParentsSettleAsync(tenantId, child, parent);

        // Entra retries: nothing left to do.
        Assert.Equal(200, (await Grains.Group(tenantId, parent).PatchAsync(Groups.AddMembers(child))).Status);
        Assert.Equal([(child, "Group")], await MembersWithTypesAsync(tenantId, parent));
    }

    [Fact]
    public async Task JournaledChangeWithAGroupMemberIsReplayedWithItsKind()
    {
        // A change over two partitions is journaled; the second partition's write fails; the replay keeps the kinds.
        var tenantId = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "journal@contoso.com");
        string child;
        var i = 0;
        do
        {
            child = await Grains.CreateGroupAsync(tenantId, $"Journal child {i++}");
        }
        while (GrainKeys.GroupMemberPartitionOf(child) == GrainKeys.GroupMemberPartitionOf(user));

        var parent = await Grains.CreateGroupAsync(tenantId, "Journal parent");
        StorageProbe.FailNextWrites(GrainKeys.GroupMembers(tenantId, parent, GrainKeys.GroupMemberPartitionOf(child)));

        await Assert.ThrowsAnyAsync<Exception>(() => Grains.Group(tenantId, parent).PatchAsync(Groups.AddMembers(user, child)));

        Assert.Equal(new[] { (child, "Group"), (user, "User") }.OrderBy(m => m.Item1, StringComparer.Ordinal), await MembersWithTypesAsync(tenantId, parent));
        Assert.Equal([new MemberRef(child, MemberKind.Group)], await Partition(tenantId, parent, child).ListMembersAsync());
        Assert.Equal([parent], await Grains.Group(tenantId, child).GetGroupIdsAsync());
        await Grains.AssertMembershipAgreesAsync(tenantId, [parent], [user]);
    }

    [Fact]
    public async Task ChildDeletedWhileBeingAddedIsNotLeftInThePartition()
    {
        var tenantId = GrainKeys.NewTenantId();
        var child = await Grains.CreateGroupAsync(tenantId, "Racing child");
        var parent = await Grains.CreateGroupAsync(tenantId, "Racing parent");
        Assert.True(await Grains.Group(tenantId, child).JoinGroupAsync(parent));
        Assert.Equal(204, (await Grains.Group(tenantId, child).DeleteAsync()).Status);

        var rejected = await Partition(tenantId, parent, child).ApplyMembersAsync([new MemberRef(child, MemberKind.Group)], []);

        Assert.Equal([child], rejected);
        Assert.Empty(await Grains.MembersAsync(tenantId, parent));
        Assert.False(await Grains.Group(tenantId, child).JoinGroupAsync(parent));
    }

    [Fact]
    public void PartitionRowsWithoutKindsReadAsUsersAndUserOnlyRowsKeepTheirFormat()
    {
        var silo = fixture.Cluster.GetActiveSilos().First();
        var serializer = fixture.Cluster.GetSiloServiceProvider(silo.SiloAddress).GetRequiredService<IGrainStorageSerializer>();

        // A row written before nested groups.
        var old = serializer.Deserialize<IdSetState>(BinaryData.FromString("""{"Ids":["u1","u2"]}"""));
        Assert.Equal(["u1", "u2"], Assert.IsType<IdSetState>(old).Ids.Order(StringComparer.Ordinal));
        Assert.Null(old.GroupIds);

        // Rows without groups are written exactly as before; a group member adds its id to GroupIds.
        Assert.Equal("""{"Ids":["u1"]}""", serializer.Serialize(new IdSetState { Ids = ["u1"] }).ToString());
        var mixed = serializer.Deserialize<IdSetState>(serializer.Serialize(new IdSetState { Ids = ["u1", "g1"], GroupIds = ["g1"] }));
        Assert.Equal(["g1"], Assert.IsType<IdSetState>(mixed).GroupIds!);
        Assert.DoesNotContain("PendingGroups", serializer.Serialize(new GroupState { Json = "{}" }).ToString(), StringComparison.Ordinal);
    }

    private async Task AssertParentsSettleAsync(string tenantId, string groupId, params string[] expected)
    {
        // The repair is a one-way message to the parent: give it a moment.
        var ordered = expected.Order(StringComparer.Ordinal).ToArray();
        string[] recorded = [];
        await Eventually.TrueAsync(
            async () => (recorded = await Grains.Group(tenantId, groupId).GetGroupIdsAsync()).SequenceEqual(ordered),
            what: $"group {groupId} records the parents [{string.Join(", ", ordered)}]");
        Assert.Equal(ordered, recorded);
    }

    private async Task<(string Id, string Type)[]> MembersWithTypesAsync(string tenantId, string groupId)
    {
        var result = await Grains.Group(tenantId, groupId).ReadAsync(null);
        Assert.Equal(200, result.Status);
        var members = JsonNode.Parse(result.Resource!)!["members"] as JsonArray ?? [];
        return [.. members.Select(m => (m!["value"]!.GetValue<string>(), m["type"]!.GetValue<string>())).OrderBy(m => m.Item1, StringComparer.Ordinal)];
    }

    private IGroupMembersGrain Partition(string tenantId, string groupId, string memberId) =>
        Grains.GetGrain<IGroupMembersGrain>(GrainKeys.GroupMembers(tenantId, groupId, GrainKeys.GroupMemberPartitionOf(memberId)));
}
