namespace Cluster.Abstractions;

/// <summary>
/// One SCIM group of one tenant: its attributes (<c>displayName</c>, <c>externalId</c>) and its membership, which
/// lives in <see cref="IGroupMembersGrain"/> partitions. Key: <see cref="GrainKeys.Group"/>.
/// </summary>
/// <remarks>
/// A group is also a member: it can belong to other groups of its tenant (RFC 7643 §4.2), so it implements the member
/// side, <see cref="IGroupMemberGrain"/>, and records the groups it belongs to.
/// </remarks>
[Alias("scim.IGroupGrain")]
public interface IGroupGrain : IIndexedResourceGrain, IGroupMemberGrain
{
    /// <summary>
    /// The group with members: all of them when <paramref name="memberIds"/> is null, otherwise only those of the given
    /// ids that are members (a membership check reads one partition per id, never the whole list). 200 or 404.
    /// </summary>
    [Alias("Read")]
    Task<ScimResult> ReadAsync(string[]? memberIds);

    /// <summary>
    /// Told by a member user that its delete removed it from this group's partition (the user writes the partition itself,
    /// see <c>UserGrain</c>): the group's membership changed, so it takes a new version. One-way, so a user being deleted
    /// never waits on a group that may be waiting on it.
    /// </summary>
    [Alias("MemberDeleted"), OneWay]
    Task MemberDeletedAsync(string memberId);

    /// <summary>
    /// The group's displayName when <paramref name="memberId"/> is a member (read from the member's partition), else null.
    /// Interleaves: members ask while they read themselves, possibly while this group is calling them.
    /// </summary>
    [Alias("DescribeMember"), AlwaysInterleave]
    Task<string?> DescribeMemberAsync(string memberId);

    /// <summary>
    /// Asked by a member whose <c>groups</c> lists this group although the partition does not list it (a crash between
    /// the member's write and the partition's): after any change in flight, makes the member forget the group unless
    /// it is really a member.
    /// </summary>
    [Alias("RepairMember"), OneWay]
    Task RepairMemberAsync(string memberId);

    /// <summary>
    /// <see cref="RepairMemberAsync"/> for a member that is a group (<paramref name="memberGroupId"/>): after any change in
    /// flight, makes that group forget this one unless it is really a member.
    /// </summary>
    [Alias("RepairGroupMember"), OneWay]
    Task RepairGroupMemberAsync(string memberGroupId);

    /// <summary>
    /// Offboarding only (the tenant is being erased): stops the group's background work (the steps of a large change or of a
    /// delete, and their reminder) and forgets the group's rows — its change chunks, index entries and member partitions, then
    /// its own — so no later activation resumes that work; deactivates.
    /// </summary>
    [Alias("Halt")]
    Task HaltAsync();
}

/// <summary>What a group member is: a user or a group (RFC 7643 §4.2 <c>members.type</c>).</summary>
[GenerateSerializer, Alias("scim.MemberKind")]
public enum MemberKind
{
    User = 0,
    Group = 1,
}

/// <summary>A member of a group: its id and its kind, which together name its grain.</summary>
[GenerateSerializer, Immutable, Alias("scim.MemberRef")]
public readonly record struct MemberRef([property: Id(0)] string Id, [property: Id(1)] MemberKind Kind)
{
    /// <summary>The SCIM <c>members.type</c> value: <c>User</c> or <c>Group</c>.</summary>
    public string TypeName => Kind == MemberKind.Group ? "Group" : "User";

    /// <summary>The member grain of this member in <paramref name="tenantId"/>.</summary>
    public IGroupMemberGrain Grain(IGrainFactory grains, string tenantId) => Kind == MemberKind.Group
        ? grains.Grain<IGroupGrain>(GrainKeys.Group(tenantId, Id))
        : grains.Grain<IUserGrain>(GrainKeys.User(tenantId, Id));
}

/// <summary>
/// One partition of a group's members (by hash of member id, <see cref="GrainKeys.GroupMemberPartitionOf"/>): the source of
/// truth of membership. A change of one member rewrites one partition, whatever the group's size.
/// Key: <see cref="GrainKeys.GroupMembers"/>.
/// <para>
/// Its group passes stamps: each write of the group's own carries the stamp of the group's commit it applies, stored with
/// the row; each of the group's reads carries the stamp the group's record holds for the partition, and an activation
/// holding an older row reads it again before it answers (an outdated activation beside a newer one that has written
/// since). 0 asks for no stamp: other callers, and rows or records stored before stamps.
/// </para>
/// </summary>
[Alias("scim.IGroupMembersGrain")]
public interface IGroupMembersGrain : IGrainWithStringKey
{
    /// <summary>
    /// Removes <paramref name="remove"/> (members of any kind) and adds the users <paramref name="add"/> in one write;
    /// <see cref="ApplyMembersAsync"/> with every added member a user.
    /// </summary>
    [Alias("Apply")]
    Task<string[]> ApplyAsync(string[] add, string[] remove);

    /// <summary>
    /// Removes <paramref name="remove"/> and adds <paramref name="add"/> (users or groups, the kind is stored) in one write.
    /// Each added member is asked whether it still has the group in its groups (it may have been deleted meanwhile); those
    /// that do not are not added and their ids are returned. The row is written with <paramref name="stamp"/> (when later than
    /// its own) even if its members do not change, so a replayed change is checked against storage's ETag too.
    /// </summary>
    [Alias("ApplyMembers")]
    Task<string[]> ApplyMembersAsync(MemberRef[] add, string[] remove, long stamp = 0);

    /// <summary>
    /// <see cref="ApplyMembersAsync"/> with nothing to remove, for a partition its group knows has no row (never written):
    /// as the activation's first call it reads nothing, and its write is an insert, which a row there after all refuses
    /// (overwriting nothing).
    /// </summary>
    [Alias("AddToNew")]
    Task<string[]> AddToNewAsync(MemberRef[] add, long stamp = 0);

    /// <summary>The given ids that are members, as of at least <paramref name="atLeast"/>.</summary>
    [Alias("Contains"), ReadOnly]
    Task<string[]> ContainsAsync(string[] memberIds, long atLeast = 0);

    /// <summary>The members among the given ids, with their kinds, as of at least <paramref name="atLeast"/>.</summary>
    [Alias("Find"), ReadOnly]
    Task<MemberRef[]> FindAsync(string[] memberIds, long atLeast = 0);

    /// <summary>The member ids (every kind).</summary>
    [Alias("List"), ReadOnly]
    Task<string[]> ListAsync();

    /// <summary>The members with their kinds, as of at least <paramref name="atLeast"/>.</summary>
    [Alias("ListMembers"), ReadOnly]
    Task<MemberRef[]> ListMembersAsync(long atLeast = 0);

    /// <summary>At most <paramref name="max"/> of the members with their kinds, as of at least <paramref name="atLeast"/>.</summary>
    [Alias("ListSomeMembers"), ReadOnly]
    Task<MemberRef[]> ListMembersAsync(long atLeast, int max);

    [Alias("Clear")]
    Task ClearAsync();
}

/// <summary>
/// The member side of group membership, implemented by users and by groups (a group can be a member of other groups).
/// A member keeps the ids of the groups it belongs to; the group's member partitions are the source of truth, and the
/// member's list is a superset of them that is verified (a user's when read, a group's when it activates).
/// </summary>
[Alias("scim.IGroupMemberGrain")]
public interface IGroupMemberGrain : IGrainWithStringKey
{
    /// <summary>True when the member exists and is not being deleted.</summary>
    [Alias("Exists"), AlwaysInterleave]
    Task<bool> ExistsAsync();

    /// <summary>Records <paramref name="groupId"/> in the member's groups (written before the group's partition). False when the member does not exist.</summary>
    [Alias("JoinGroup")]
    Task<bool> JoinGroupAsync(string groupId);

    /// <summary>Forgets <paramref name="groupId"/> (written after the group's partition).</summary>
    [Alias("LeaveGroup")]
    Task LeaveGroupAsync(string groupId);

    /// <summary>True when the member exists, is not being deleted and has <paramref name="groupId"/> in its groups.</summary>
    [Alias("IsJoined"), AlwaysInterleave]
    Task<bool> IsJoinedAsync(string groupId);

    /// <summary>The group ids the member has recorded (unverified; for repair and tests).</summary>
    [Alias("GroupIds"), AlwaysInterleave]
    Task<string[]> GetGroupIdsAsync();
}

/// <summary>
/// One chunk of a group's membership change too large for one write of the group (more than a step's worth of members):
/// the members it adds and removes. Written before the group commits the change; applied one chunk per step.
/// Key: <see cref="GrainKeys.GroupChangeChunk"/>.
/// </summary>
[Alias("scim.IGroupChangeChunkGrain")]
public interface IGroupChangeChunkGrain : IGrainWithStringKey
{
    [Alias("Write")]
    Task WriteAsync(GroupChangeChunk chunk);

    /// <summary>The chunk, or null when none is stored.</summary>
    [Alias("Read")]
    Task<GroupChangeChunk?> ReadAsync();

    [Alias("Clear")]
    Task ClearAsync();
}

/// <summary>A chunk of a membership change: of the group's change with version <see cref="Version"/>, members to add and remove.</summary>
[GenerateSerializer, Immutable, Alias("scim.GroupChangeChunk")]
public sealed record GroupChangeChunk(
    [property: Id(0)] long Version,
    [property: Id(1)] MemberRef[] Add,
    [property: Id(2)] MemberRef[] Remove);
