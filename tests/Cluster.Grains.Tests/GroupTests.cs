using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests;

/// <summary>Groups on the two-silo cluster: displayName uniqueness (invariant 4), membership both ways (7), bad input (10).</summary>
[Collection(ClusterFixture.Collection)]
public sealed class GroupTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task AChangeNamingThousandsOfMadeUpMembersIsRefusedAfterLookingUpOneBatchOfThem()
    {
        var tenantId = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "real.member@contoso.com");
        var id = await Grains.CreateGroupAsync(tenantId, "Made Up");
        var madeUp = Enumerable.Range(0, 3000).Select(_ => GrainKeys.NewResourceId()).ToArray();

        var result = await Grains.Group(tenantId, id).PatchAsync(Groups.AddMembers([user, .. madeUp]));

        Assert.Equal((400, "invalidValue"), (result.Status, result.ScimType));
        Assert.Contains(madeUp[0], result.Detail, StringComparison.Ordinal);
        var lookedUp = madeUp.Count(m => StorageProbe.ReadsOf(GrainKeys.User(tenantId, m)) > 0);
        Assert.True(lookedUp < 256, $"{lookedUp} of the 3,000 made-up ids were looked up (each an activation and a read)");
        Assert.Empty(await Grains.MembersAsync(tenantId, id));
        Assert.Empty(await Grains.User(tenantId, user).GetGroupIdsAsync());
    }

    [Theory]
    [InlineData(" members")]
    [InlineData("Members ")]
    [InlineData("urn:ietf:params:scim:schemas:core:2.0:Group:members")]
    public async Task APathlessReplaceOfMembersUnderAnySpellingThePatchEngineReadsReplacesEveryMember(string key)
    {
        // The PATCH engine reads the key as a path (blanks around it included); which members the grain loads for it must
        // agree, or the replace would run on no members and keep every existing one.
        var tenantId = GrainKeys.NewTenantId();
        var (a, b, c) = (await Grains.CreateUserAsync(tenantId, "spelled.a@contoso.com"), await Grains.CreateUserAsync(tenantId, "spelled.b@contoso.com"), await Grains.CreateUserAsync(tenantId, "spelled.c@contoso.com"));
        var id = await Grains.CreateGroupAsync(tenantId, "Spelled", a, b);

        var patch = new JsonObject { ["Operations"] = new JsonArray(new JsonObject { ["op"] = "replace", ["value"] = new JsonObject { [key] = new JsonArray(new JsonObject { ["value"] = c }) } }) };
        Assert.Equal(200, (await Grains.Group(tenantId, id).PatchAsync(patch.ToJsonString())).Status);

        Assert.Equal([c], await Grains.MembersAsync(tenantId, id));
        await Grains.AssertMembershipAgreesAsync(tenantId, [id], [a, b, c]);
    }

    [Fact]
    public async Task FiftyConcurrentCreatesOfOneDisplayNameGiveExactlyOneWinner()
    {
        var tenantId = GrainKeys.NewTenantId();
        var ids = Enumerable.Range(0, 50).Select(_ => GrainKeys.NewResourceId()).ToArray();
        var results = await Task.WhenAll(ids.Select((id, i) =>
            Grains.Group(tenantId, id).CreateAsync(Groups.Resource(i % 2 == 0 ? "Sales Team" : "SALES team"))));

        Assert.Single(results, r => r.Status == 201);
        Assert.Equal(49, results.Count(r => r.Status == 409 && r.ScimType == "uniqueness"));
        var winner = ids[Array.FindIndex(results, r => r.Status == 201)];
        Assert.Equal([winner], await Grains.IndexEntry(tenantId, IndexNames.GroupDisplayName, "sales team").LookupAsync());
    }

    /// <summary>
    /// A user's read asks each of its groups whether it lists the user (<c>DescribeMember</c>, which interleaves with the
    /// group's own work). Asked between a membership change's record write and its partition write, when the partition is
    /// behind the record's stamp by design, the group answers from its journal and the partition as it is, without a stamp:
    /// no read fails, and the partition (inserted by the group's create, never read) is not read again.
    /// </summary>
    [Fact]
    public async Task AUserReadWhileItsGroupChangesOtherMembersOfItsPartitionNeitherFailsNorRereadsThePartition()
    {
        var tenantId = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "steady-member@contoso.com");
        var toggled = await Grains.CreateUserInPartitionOfAsync(tenantId, user);
        var id = await Grains.CreateGroupAsync(tenantId, "Busy partition", user);
        var changing = Task.Run(async () =>
        {
            for (var i = 0; i < 40; i++)
            {
                var change = i % 2 == 0 ? Groups.AddMembers(toggled) : Groups.RemoveMembers(toggled);
                Assert.Equal(200, (await Grains.Group(tenantId, id).PatchAsync(change)).Status);
            }
        });

        var reads = 0;
        while (!changing.IsCompleted)
        {
            Assert.Equal([id], await Grains.GroupsOfAsync(tenantId, user));
            reads++;
        }

        await changing;
        Assert.True(reads > 1, $"only {reads} read(s) ran beside the changes");
        Assert.Equal(0, StorageProbe.ReadsOf(GrainKeys.GroupMembers(tenantId, id, GrainKeys.GroupMemberPartitionOf(user))));
    }

    [Fact]
    public async Task EveryChangeOfAGroupIncludingMembersGivesItANewVersionAndIfMatchIsCheckedInTheGrain()
    {
        var tenantId = GrainKeys.NewTenantId();
        var ann = await Grains.CreateUserAsync(tenantId, "ann@contoso.com");
        var bob = await Grains.CreateUserAsync(tenantId, "bob@contoso.com");
        var group = await Grains.CreateGroupAsync(tenantId, "Versioned");
        var grain = Grains.Group(tenantId, group);

        // Members-only change: a new version, in meta.version too.
        var added = await grain.PatchAsync(Groups.AddMembers(ann), new ETagCondition(false, [1]));
        Assert.Equal((200, 2L), (added.Status, added.Version));
        var read = await grain.ReadAsync([]);
        Assert.Equal("W/\"2\"", JsonNode.Parse(read.Resource!)!["meta"]!["version"]!.GetValue<string>());

        // A stale tag: 412, nothing changes.
        var stale = await grain.PatchAsync(Groups.AddMembers(bob), new ETagCondition(false, [1]));
        Assert.Equal((412, "preconditionFailed"), (stale.Status, stale.ScimType));
        Assert.Equal([ann], await Grains.MembersAsync(tenantId, group));
        Assert.Equal(412, (await grain.DeleteAsync(new ETagCondition(false, [1, 3]))).Status);

        // * matches; a member's delete (it leaves the partition itself) still gives the group a new version.
        Assert.Equal((200, 3L), ((await grain.PatchAsync(Groups.AddMembers(bob), new ETagCondition(true, []))).Status, (await grain.ReadAsync([])).Version));
        Assert.Equal(204, (await Grains.User(tenantId, bob).DeleteAsync()).Status);
        // The group hears of the delete by a one-way message: give it a moment.
        await Eventually.TrueAsync(async () => (await grain.ReadAsync([])).Version != 3, what: "the group's version moves on after its member's delete");
        Assert.Equal(4L, (await grain.ReadAsync([])).Version);
        Assert.Equal([ann], await Grains.MembersAsync(tenantId, group));
        Assert.Equal(412, (await grain.DeleteAsync(new ETagCondition(false, [3]))).Status);
        Assert.Equal(204, (await grain.DeleteAsync(new ETagCondition(false, [4]))).Status);
    }

    [Fact]
    public async Task RenameToATakenDisplayNameTogetherWithMembersChangesNothing()
    {
        var tenantId = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "ann@contoso.com");
        await Grains.CreateGroupAsync(tenantId, "Taken");
        var group = await Grains.CreateGroupAsync(tenantId, "Mine");

        var result = await Grains.Group(tenantId, group).PatchAsync(Groups.Ops(
            """{"op":"add","path":"members","value":[{"value":"USER"}]}""".Replace("USER", user, StringComparison.Ordinal),
            """{"op":"replace","path":"displayName","value":"TAKEN"}"""));

        Assert.Equal((409, "uniqueness"), (result.Status, result.ScimType));
        Assert.Empty(await Grains.MembersAsync(tenantId, group));
        Assert.Empty(await Grains.GroupsOfAsync(tenantId, user));
        Assert.Equal("Mine", JsonNode.Parse((await Grains.Group(tenantId, group).ReadAsync([])).Resource!)!["displayName"]!.GetValue<string>());
    }

    [Fact]
    public async Task MembershipAgreesBothWaysThroughEveryPatchShape()
    {
        var tenantId = GrainKeys.NewTenantId();
        var users = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            users.Add(await Grains.CreateUserAsync(tenantId, $"user{i}@contoso.com"));
        }

        var group = await Grains.CreateGroupAsync(tenantId, "Engineering");
        var g = Grains.Group(tenantId, group);

        Assert.Equal(200, (await g.PatchAsync(Groups.AddMembers(users[0], users[1], users[2], users[3]))).Status);
        Assert.Equal(users.Take(4).Order(StringComparer.Ordinal), await Grains.MembersAsync(tenantId, group));
        var shown = JsonNode.Parse((await Grains.User(tenantId, users[0]).GetAsync()).Resource!)!["groups"]!.AsArray();
        Assert.Equal("Engineering", Assert.Single(shown)!["display"]!.GetValue<string>());

        Assert.Equal(200, (await g.PatchAsync(Groups.RemoveMembers(users[0], users[1]))).Status);
        Assert.Equal(users.Skip(2).Take(2).Order(StringComparer.Ordinal), await Grains.MembersAsync(tenantId, group));

        Assert.Equal(200, (await g.PatchAsync(Groups.Ops($$"""{"op":"remove","path":"members[value eq \"{{users[2]}}\"]"}"""))).Status);
        Assert.Equal([users[3]], await Grains.MembersAsync(tenantId, group));

        Assert.Equal(200, (await g.PatchAsync(Groups.Ops($$"""{"op":"replace","path":"members","value":[{"value":"{{users[4]}}"},{"value":"{{users[5]}}"}]}"""))).Status);
        Assert.Equal(new[] { users[4], users[5] }.Order(StringComparer.Ordinal), await Grains.MembersAsync(tenantId, group));

        // Add and remove of the same member in one request: applied in order.
        Assert.Equal(200, (await g.PatchAsync(Groups.Ops(
            $$"""{"op":"add","path":"members","value":[{"value":"{{users[0]}}"}]}""",
            $$"""{"op":"remove","path":"members[value eq \"{{users[0]}}\"]"}"""))).Status);
        Assert.Equal(new[] { users[4], users[5] }.Order(StringComparer.Ordinal), await Grains.MembersAsync(tenantId, group));

        // Rename shows in every member's groups.
        Assert.Equal(200, (await g.PatchAsync(Groups.Ops("""{"op":"Replace","path":"displayName","value":"Platform"}"""))).Status);
        shown = JsonNode.Parse((await Grains.User(tenantId, users[4]).GetAsync()).Resource!)!["groups"]!.AsArray();
        Assert.Equal("Platform", Assert.Single(shown)!["display"]!.GetValue<string>());

        await Grains.AssertMembershipAgreesAsync(tenantId, [group], [.. users]);
        foreach (var u in users)
        {
            await Grains.AssertRecordedGroupsSettleAsync(tenantId, u, u == users[4] || u == users[5] ? [group] : []);
        }
    }

    [Fact]
    public async Task MemberWithoutValueIsRejectedWhateverTheOtherMembers()
    {
        // Found by GroupPatchPropertyTests: a member given without "value" was matched against the loaded members' other
        // sub-attributes, so "remove members [{type: User}]" removed nothing (only the referenced partitions were loaded)
        // where loading everything would have removed every member, and "add [{value: u}, {type: User}]" passed or
        // failed depending on whether u was already a member.
        var tenantId = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "mo@contoso.com");
        var other = await Grains.CreateUserAsync(tenantId, "jo@contoso.com");
        var group = await Grains.CreateGroupAsync(tenantId, "Ops", user, other);
        var before = await Grains.Group(tenantId, group).ReadAsync(null);

        string[] bad =
        [
            """{"op":"Remove","path":"members","value":[{"type":"User"}]}""",
            """{"op":"Remove","path":"members","value":[{"$ref":null,"value":"x1"},{"$ref":null}]}""",
            $$"""{"op":"Add","path":"members","value":[{"value":"{{user}}"},{"type":"User"}]}""",
            """{"op":"Add","path":"members","value":[{"type":"User"}]}""",
            """{"op":"Replace","value":{"members":[{"display":"x"}]}}""",
        ];
        foreach (var operation in bad)
        {
            var result = await Grains.Group(tenantId, group).PatchAsync(Groups.Ops(operation));
            Assert.True((400, "invalidValue") == (result.Status, result.ScimType), $"{operation}: {result.Status} {result.ScimType} {result.Detail}");
        }

        var after = await Grains.Group(tenantId, group).ReadAsync(null);
        Assert.Equal(before.Resource, after.Resource);
        Assert.Equal(new[] { user, other }.Order(StringComparer.Ordinal), await Grains.MembersAsync(tenantId, group));
    }

    [Fact]
    public async Task UnknownOrForeignMemberIsRejectedAndNothingChanges()
    {
        var tenantId = GrainKeys.NewTenantId();
        var otherTenant = GrainKeys.NewTenantId();
        var user = await Grains.CreateUserAsync(tenantId, "bob@contoso.com");
        var foreign = await Grains.CreateUserAsync(otherTenant, "bob@fabrikam.com");
        var group = await Grains.CreateGroupAsync(tenantId, "Ops");
        var before = await Grains.Group(tenantId, group).ReadAsync(null);

        foreach (var bad in new[] { GrainKeys.NewResourceId(), foreign, "not/an-id" })
        {
            var result = await Grains.Group(tenantId, group).PatchAsync(Groups.AddMembers(user, bad));
            Assert.Equal((400, "invalidValue"), (result.Status, result.ScimType));
        }

        var create = await Grains.Group(tenantId, GrainKeys.NewResourceId()).CreateAsync(Groups.Resource("Ops2", null, user, foreign));
        Assert.Equal((400, "invalidValue"), (create.Status, create.ScimType));

        var after = await Grains.Group(tenantId, group).ReadAsync(null);
        Assert.Equal(before.Resource, after.Resource);
        Assert.Equal(before.Version, after.Version);
        Assert.Empty(await Grains.User(tenantId, user).GetGroupIdsAsync());
        Assert.Empty(await Grains.User(otherTenant, foreign).GetGroupIdsAsync());
        Assert.Empty(await Grains.IndexEntry(tenantId, IndexNames.GroupDisplayName, "Ops2").LookupAsync());
    }

    [Fact]
    public async Task DeletingAUserRemovesItFromEveryGroup()
    {
        var tenantId = GrainKeys.NewTenantId();
        var leaving = await Grains.CreateUserAsync(tenantId, "carl@contoso.com");
        var staying = await Grains.CreateUserAsync(tenantId, "dora@contoso.com");
        var a = await Grains.CreateGroupAsync(tenantId, "A", leaving, staying);
        var b = await Grains.CreateGroupAsync(tenantId, "B", leaving);

        Assert.Equal(204, (await Grains.User(tenantId, leaving).DeleteAsync()).Status);

        Assert.Equal([staying], await Grains.MembersAsync(tenantId, a));
        Assert.Empty(await Grains.MembersAsync(tenantId, b));
        await Grains.AssertMembershipAgreesAsync(tenantId, [a, b], [leaving, staying]);
    }

    [Fact]
    public async Task DeletingAGroupRemovesItFromEveryUsersGroups()
    {
        var tenantId = GrainKeys.NewTenantId();
        var u1 = await Grains.CreateUserAsync(tenantId, "eve@contoso.com");
        var u2 = await Grains.CreateUserAsync(tenantId, "fay@contoso.com");
        var doomed = await Grains.CreateGroupAsync(tenantId, "Doomed", u1, u2);
        var kept = await Grains.CreateGroupAsync(tenantId, "Kept", u1);

        Assert.Equal(204, (await Grains.Group(tenantId, doomed).DeleteAsync()).Status);

        Assert.Equal(404, (await Grains.Group(tenantId, doomed).ReadAsync(null)).Status);
        Assert.Equal([kept], await Grains.User(tenantId, u1).GetGroupIdsAsync());
        Assert.Empty(await Grains.User(tenantId, u2).GetGroupIdsAsync());
        Assert.Equal([kept], await Grains.GroupsOfAsync(tenantId, u1));
        Assert.Empty(await Grains.IndexEntry(tenantId, IndexNames.GroupDisplayName, "Doomed").LookupAsync());

        // The name is free again.
        await Grains.CreateGroupAsync(tenantId, "DOOMED");
    }

    [Fact]
    public async Task OneMemberChangeOnALargeGroupWritesOnePartitionOnly()
    {
        var tenantId = GrainKeys.NewTenantId();
        var users = new List<string>();
        for (var i = 0; i < 300; i++)
        {
            users.Add(await Grains.CreateUserAsync(tenantId, $"member{i}@contoso.com"));
        }

        var group = await Grains.CreateGroupAsync(tenantId, "Everyone");
        foreach (var batch in users.Chunk(100))
        {
            Assert.Equal(200, (await Grains.Group(tenantId, group).PatchAsync(Groups.AddMembers(batch))).Status);
        }

        var newcomer = await Grains.CreateUserAsync(tenantId, "newcomer@contoso.com");
        var partitionKeys = Enumerable.Range(0, GrainKeys.GroupMemberPartitions).Select(p => GrainKeys.GroupMembers(tenantId, group, p)).ToArray();
        var groupKey = GrainKeys.Group(tenantId, group);

        foreach (var patch in new[] { Groups.AddMembers(newcomer), Groups.RemoveMembers(users[17]), Groups.Ops($$"""{"op":"remove","path":"members[value eq \"{{users[42]}}\"]"}""") })
        {
            var before = partitionKeys.Select(StorageProbe.WritesOf).ToArray();
            var groupWrites = StorageProbe.WritesOf(groupKey);

            var versionBefore = (await Grains.Group(tenantId, group).ReadAsync([])).Version;
            var result = await Grains.Group(tenantId, group).PatchAsync(patch);
            Assert.Equal(200, result.Status);

            // One partition write, plus one write of the small group record: the new version with the change as its
            // journal (the commit point; the next write or the deactivation clears the journal once applied).
            var written = partitionKeys.Where((k, p) => StorageProbe.WritesOf(k) != before[p]).ToArray();
            Assert.Equal(1, Assert.Single(written, k => true) is { } key ? StorageProbe.WritesOf(key) - before[Array.IndexOf(partitionKeys, key)] : 0);
            Assert.Equal(groupWrites + 1, StorageProbe.WritesOf(groupKey));
            Assert.Equal(versionBefore + 1, result.Version);
        }

        Assert.Equal(300 + 1 - 2, (await Grains.MembersAsync(tenantId, group)).Length);
        await Grains.AssertMembershipAgreesAsync(tenantId, [group], [newcomer, users[17], users[42], users[0]]);
    }
}
