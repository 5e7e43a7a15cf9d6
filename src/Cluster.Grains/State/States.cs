// Persisted state types. This namespace and these names are a storage contract: never move or rename them.
using System.Text.Json.Serialization;

namespace Cluster.Grains.State;

/// <summary>A tenant's profile and its token hashes.</summary>
[GenerateSerializer, Alias("scim.state.Tenant")]
public sealed class TenantState
{
    [Id(0)] public string Name { get; set; } = "";

    [Id(1)] public DateTimeOffset CreatedAt { get; set; }

    [Id(2)] public List<TokenRecord> Tokens { get; set; } = [];

    /// <summary>True while the tenant is suspended by the operator (not written when false).</summary>
    [Id(3), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Suspended { get; set; }

    /// <summary>The tenant's OAuth clients (issue 13; not written when null, as for tenants that never had one).</summary>
    [Id(10), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<OAuthClientRecord>? OAuthClients { get; set; }
}

/// <summary>A token: its id, the SHA-256 of its secret, and when it was issued. The secret itself is never stored.</summary>
[GenerateSerializer, Alias("scim.state.Token")]
public sealed class TokenRecord
{
    [Id(0)] public string Id { get; set; } = "";

    [Id(1)] public byte[] Hash { get; set; } = [];

    [Id(2)] public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A SCIM resource: its canonical JSON (with id, meta and schemas) and its version.</summary>
[GenerateSerializer, Alias("scim.state.Resource")]
public sealed class ResourceState : IRecordsEvents
{
    [Id(0)] public string Json { get; set; } = "";

    [Id(1)] public long Version { get; set; }

    /// <summary>
    /// A tombstone: the resource is deleted (404 for everyone), kept until the log has its delete events for good (false,
    /// and not written, otherwise).
    /// </summary>
    [Id(2), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Deleted { get; set; }

    /// <summary>
    /// The version of the last commit that carried events: what the resource answers when the event log asks whether a
    /// prepared commit reached storage (a change of writeOnly values alone takes a version without events).
    /// </summary>
    [Id(3), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long EventsVersion { get; set; }

    /// <summary>
    /// Which attempt of that commit landed: the sequence number the event log gave its first event (0 in records stored
    /// before attempts were recorded).
    /// </summary>
    [Id(4), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long EventsFrom { get; set; }

    /// <summary>The last commit with events, as recorded.</summary>
    [JsonIgnore]
    public EventAttempt EventsAttempt
    {
        get => new(EventsVersion, 0, EventsFrom);
        set => (EventsVersion, EventsFrom) = (value.Version, value.From);
    }
}

/// <summary>A set of resource ids (an index entry, a directory partition, a group member partition, a member's groups).</summary>
[GenerateSerializer, Alias("scim.state.IdSet")]
public sealed class IdSetState
{
    [Id(0)] public HashSet<string> Ids { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Group member partitions only: the ids in <see cref="Ids"/> that are groups; every other member is a user. Null
    /// (and not written) when there are none, so rows written before nested groups read as "all users".
    /// </summary>
    [Id(1), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public HashSet<string>? GroupIds { get; set; }

    /// <summary>
    /// Group member partitions only: the last commit of the group (<see cref="GroupState.PartitionStamps"/>) whose member
    /// changes this row holds. 0 (and not written) in rows stored before stamps, and in every other kind of set.
    /// </summary>
    [Id(2), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long Stamp { get; set; }
}

/// <summary>
/// A group: its canonical JSON without members (members live in member partitions), its version, and the membership
/// change in flight when it spans several writes (replayed until done), or a delete in progress.
/// </summary>
[GenerateSerializer, Alias("scim.state.Group")]
public sealed class GroupState : IRecordsEvents
{
    [Id(0)] public string Json { get; set; } = "";

    [Id(1)] public long Version { get; set; }

    /// <summary>True from the first write of a delete until the group's members have forgotten it.</summary>
    [Id(2)] public bool Deleting { get; set; }

    /// <summary>Members being added by a change that is committed but not yet in every partition.</summary>
    [Id(3)] public List<string> PendingAdd { get; set; } = [];

    /// <summary>Members being removed by a change that is committed but not yet in every partition.</summary>
    [Id(4)] public List<string> PendingRemove { get; set; } = [];

    /// <summary>
    /// The ids in <see cref="PendingAdd"/> and <see cref="PendingRemove"/> that are groups; the others are users. Null (and
    /// not written) when there are none, so journals written before nested groups read as "all users".
    /// </summary>
    [Id(5), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<string>? PendingGroups { get; set; }

    /// <summary>
    /// A committed membership change too large for this record (more members than one step applies), applied chunk by
    /// chunk after the request that made it; null (and not written) when there is none. While <see cref="Deleting"/>, the
    /// delete finishes it instead (members of the chunk in flight forget the group, the chunks are dropped).
    /// </summary>
    [Id(6), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public GroupChangeState? Change { get; set; }

    /// <summary>
    /// The last commit that carried events, as (version, step): what the group answers when the event log asks whether a
    /// prepared commit reached storage (its version alone does not say: a member's delete gives it a version without events).
    /// </summary>
    [Id(7)] public long EventsVersion { get; set; }

    [Id(8), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int EventsStep { get; set; }

    /// <summary>
    /// Which attempt of that commit landed: the sequence number the event log gave its first event (0 in records stored
    /// before attempts were recorded).
    /// </summary>
    [Id(10), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long EventsFrom { get; set; }

    /// <summary>The last commit with events, as recorded.</summary>
    [JsonIgnore]
    public EventAttempt EventsAttempt
    {
        get => new(EventsVersion, EventsStep, EventsFrom);
        set => (EventsVersion, EventsStep, EventsFrom) = (value.Version, value.Step, value.From);
    }

    /// <summary>
    /// The member partitions that may have a row, one bit per partition (<see cref="GrainKeys.GroupMemberPartitions"/> = 64):
    /// a bit is set by the write that commits a change touching that partition, before the partition is written, and never
    /// cleared. A partition whose bit is clear has no row, so its first write is an insert without a read, and readers of
    /// every member skip it. Null (and not written) for groups stored before this field: any partition may have a row.
    /// </summary>
    [Id(9), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ulong? Partitions { get; set; }

    /// <summary>
    /// For each member partition, the stamp of the last commit that changed its members (<c>GroupGrain.Stamp</c>: the
    /// version and step of the commit). A partition's row carries the stamp it was written with (<see cref="IdSetState.Stamp"/>),
    /// so a partition activation that holds an older row than this record says (an outdated one, beside a newer one that has
    /// written since) reads its row again before it answers. Null (and not written) until a change touches a partition;
    /// a partition missing here (written before stamps) is taken as it is.
    /// </summary>
    [Id(11), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<int, long>? PartitionStamps { get; set; }
}

/// <summary>
/// A membership change of a group too large for one write of the group record: its members are in <see cref="Chunks"/>
/// chunk rows (<c>GroupChangeChunkGrain</c>), of which those from <see cref="Next"/> on are still to be applied.
/// </summary>
[GenerateSerializer, Alias("scim.state.GroupChange")]
public sealed class GroupChangeState
{
    /// <summary>The group version that committed the change (chunks carry it, so a stale chunk is never applied).</summary>
    [Id(0)] public long Version { get; set; }

    [Id(1)] public int Chunks { get; set; }

    [Id(2)] public int Next { get; set; }
}

/// <summary>One stored chunk of a large membership change (see <see cref="GroupChangeState"/>).</summary>
[GenerateSerializer, Alias("scim.state.GroupChangeChunk")]
public sealed class GroupChangeChunkState
{
    [Id(0)] public long Version { get; set; }

    [Id(1)] public List<string> Add { get; set; } = [];

    [Id(2)] public List<string> Remove { get; set; } = [];

    /// <summary>The ids in <see cref="Add"/> and <see cref="Remove"/> that are groups (null when none).</summary>
    [Id(3), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<string>? Groups { get; set; }
}

/// <summary>
/// A tenant's event log (the head of its feed): the sequence counter, the events of the open page, the commits prepared but
/// not yet resolved, and the sequence numbers of discarded commits (docs/architecture.md, "Events").
/// </summary>
[GenerateSerializer, Alias("scim.state.EventLog")]
public sealed partial class EventLogState
{
    /// <summary>The next sequence number to assign.</summary>
    [Id(0)] public long Next { get; set; } = 1;

    /// <summary>The oldest retained sequence number (everything before it was erased by retention).</summary>
    [Id(1)] public long First { get; set; } = 1;

    /// <summary>Every page up to this sequence number is written to its page row; later events are in <see cref="Tail"/>.</summary>
    [Id(2)] public long SealedThrough { get; set; }

    [Id(3)] public List<StoredEvent> Tail { get; set; } = [];

    [Id(4)] public List<PreparedCommit> Prepared { get; set; } = [];

    /// <summary>Sequence ranges of discarded commits (rare: a write that never reached storage); readers skip them.</summary>
    [Id(5)] public List<SequenceRange> Discarded { get; set; } = [];

    /// <summary>True while the tenant has a webhook: it is told when events become readable.</summary>
    [Id(6), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Subscribed { get; set; }

    /// <summary>
    /// Users that exist: every <c>user.created</c> minus every <c>user.deleted</c> of the commits resolved as committed (each
    /// added once, in the write that drops its commit from <see cref="Prepared"/>). Not written when 0.
    /// </summary>
    [Id(7), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long Users { get; set; }

    /// <summary>Groups that exist, counted as <see cref="Users"/>.</summary>
    [Id(8), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long Groups { get; set; }
}

/// <summary>A stored event (see <c>ScimEvent</c>).</summary>
[GenerateSerializer, Alias("scim.state.Event")]
public sealed class StoredEvent
{
    [Id(0)] public string Id { get; set; } = "";

    [Id(1)] public long Sequence { get; set; }

    [Id(2)] public string Type { get; set; } = "";

    [Id(3)] public DateTimeOffset OccurredAt { get; set; }

    [Id(4)] public string ResourceType { get; set; } = "";

    [Id(5)] public string ResourceId { get; set; } = "";

    [Id(6)] public string Data { get; set; } = "";

    [Id(7), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string[]? Changed { get; set; }
}

/// <summary>A resource's commit whose events are stored but not yet known to have reached the resource's storage.</summary>
[GenerateSerializer, Alias("scim.state.PreparedCommit")]
public sealed partial class PreparedCommit
{
    [Id(0)] public string ResourceType { get; set; } = "";

    [Id(1)] public string ResourceId { get; set; } = "";

    [Id(2)] public long Version { get; set; }

    [Id(3)] public int Step { get; set; }

    /// <summary>Its events are the sequence numbers <see cref="From"/> … <see cref="From"/> + <see cref="Count"/> − 1.</summary>
    [Id(4)] public long From { get; set; }

    [Id(5)] public int Count { get; set; }

    [Id(6)] public DateTimeOffset PreparedAt { get; set; }

    /// <summary>What the commit changes the user count by (its <c>user.created</c> minus its <c>user.deleted</c> events); not written when 0.</summary>
    [Id(7), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int Users { get; set; }

    /// <summary>What the commit changes the group count by; not written when 0.</summary>
    [Id(8), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int Groups { get; set; }
}

/// <summary>An inclusive range of sequence numbers.</summary>
[GenerateSerializer, Alias("scim.state.SequenceRange")]
public sealed class SequenceRange
{
    [Id(0)] public long From { get; set; }

    [Id(1)] public long To { get; set; }
}

/// <summary>The events of one page of a tenant's feed.</summary>
[GenerateSerializer, Alias("scim.state.EventPage")]
public sealed class EventPageState
{
    [Id(0)] public List<StoredEvent> Events { get; set; } = [];
}

/// <summary>A tenant's webhook: where to, its secret (encrypted, <c>WebhookSecretProtector</c>), and how far delivery got.</summary>
[GenerateSerializer, Alias("scim.state.Webhook")]
public sealed class WebhookState
{
    [Id(0)] public string Url { get; set; } = "";

    /// <summary>The signing secret, encrypted at rest under <c>Events:SecretKey</c> (never in clear).</summary>
    [Id(1)] public string ProtectedSecret { get; set; } = "";

    [Id(2)] public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Every event up to this sequence was delivered or parked.</summary>
    [Id(3)] public long Cursor { get; set; }

    /// <summary>Failed attempts of the event after <see cref="Cursor"/> so far (0 when none failed).</summary>
    [Id(4)] public int Attempts { get; set; }

    [Id(5)] public DateTimeOffset? FirstAttemptAt { get; set; }

    [Id(6)] public DateTimeOffset? NextAttemptAt { get; set; }

    [Id(7)] public string? RetryingEventId { get; set; }

    [Id(8)] public List<ParkedEventRecord> Parked { get; set; } = [];

    /// <summary>The most recent attempts, oldest first (bounded).</summary>
    [Id(9)] public List<DeliveryRecord> Recent { get; set; } = [];

    /// <summary>Events retention erased before this webhook delivered them, as ranges, oldest first (bounded).</summary>
    [Id(10)] public List<ExpiredEventsRecord> Expired { get; set; } = [];
}

/// <summary>Events a webhook never delivered because retention erased them first: every sequence after <see cref="After"/> up to <see cref="Through"/>.</summary>
[GenerateSerializer, Alias("scim.state.ExpiredEvents")]
public sealed class ExpiredEventsRecord
{
    [Id(0)] public long After { get; set; }

    [Id(1)] public long Through { get; set; }

    [Id(2)] public DateTimeOffset At { get; set; }
}

/// <summary>An event a webhook gave up on.</summary>
[GenerateSerializer, Alias("scim.state.ParkedEvent")]
public sealed class ParkedEventRecord
{
    [Id(0)] public string EventId { get; set; } = "";

    [Id(1)] public long Sequence { get; set; }

    [Id(2)] public DateTimeOffset ParkedAt { get; set; }
}

/// <summary>One delivery attempt (no response body: never stored).</summary>
[GenerateSerializer, Alias("scim.state.Delivery")]
public sealed class DeliveryRecord
{
    [Id(0)] public string EventId { get; set; } = "";

    [Id(1)] public DateTimeOffset At { get; set; }

    [Id(2)] public int? StatusCode { get; set; }

    [Id(3)] public string? Error { get; set; }

    [Id(4)] public double DurationMilliseconds { get; set; }

    [Id(5)] public bool Delivered { get; set; }
}

/// <summary>
/// An OAuth client of a tenant (issue 13): its id, when it was created, and its secrets (hashes only). Kept in
/// <see cref="TenantState.OAuthClients"/>.
/// </summary>
[GenerateSerializer, Alias("scim.state.OAuthClient")]
public sealed class OAuthClientRecord
{
    [Id(0)] public string ClientId { get; set; } = "";

    [Id(1)] public DateTimeOffset CreatedAt { get; set; }

    [Id(2)] public List<ClientSecretRecord> Secrets { get; set; } = [];
}

/// <summary>A client secret: its id, the SHA-256 of the secret, and its validity. The secret itself is never stored; a revoked secret is removed.</summary>
[GenerateSerializer, Alias("scim.state.ClientSecret")]
public sealed class ClientSecretRecord
{
    [Id(0)] public string Id { get; set; } = "";

    [Id(1)] public byte[] Hash { get; set; } = [];

    [Id(2)] public DateTimeOffset CreatedAt { get; set; }

    [Id(3)] public DateTimeOffset ExpiresAt { get; set; }
}

/// <summary>The cluster's access-token signing keys (one row, <c>ISigningKeySetGrain</c>).</summary>
[GenerateSerializer, Alias("scim.state.SigningKeySet")]
public sealed class SigningKeySetState
{
    [Id(0)] public List<SigningKeyRecord> Keys { get; set; } = [];
}

/// <summary>
/// One ECDSA P-256 signing key: its id, when it was made and when it signs from (it signs until the next key's
/// <see cref="SignsFrom"/>), the public coordinates (base64url) and the private scalar encrypted under the at-rest key
/// (<c>WebhookSecretProtector</c>, bound to the key id).
/// </summary>
[GenerateSerializer, Alias("scim.state.SigningKey")]
public sealed class SigningKeyRecord
{
    [Id(0)] public string KeyId { get; set; } = "";

    [Id(1)] public DateTimeOffset CreatedAt { get; set; }

    [Id(2)] public DateTimeOffset SignsFrom { get; set; }

    [Id(3)] public string X { get; set; } = "";

    [Id(4)] public string Y { get; set; } = "";

    [Id(5)] public string ProtectedD { get; set; } = "";
}

/// <summary>A tenant's setup links for the customer portal (hashes only).</summary>
[GenerateSerializer, Alias("scim.state.PortalAccess")]
public sealed class PortalAccessState
{
    [Id(0)] public List<SetupLinkRecord> Links { get; set; } = [];
}

/// <summary>A setup link: its id, the SHA-256 of its secret, and when it was made and expires. The secret is never stored.</summary>
[GenerateSerializer, Alias("scim.state.SetupLink")]
public sealed class SetupLinkRecord
{
    [Id(0)] public string Id { get; set; } = "";

    [Id(1)] public byte[] Hash { get; set; } = [];

    [Id(2)] public DateTimeOffset CreatedAt { get; set; }

    [Id(3)] public DateTimeOffset ExpiresAt { get; set; }
}

/// <summary>The gateways' Data Protection key ring: each key element's friendly name and its XML, encrypted at rest.</summary>
[GenerateSerializer, Alias("scim.state.DataProtectionKeyRing")]
public sealed class DataProtectionKeyRingState
{
    [Id(0)] public List<DataProtectionKeyRecord> Elements { get; set; } = [];
}

/// <summary>One key element of the Data Protection key ring.</summary>
[GenerateSerializer, Alias("scim.state.DataProtectionKey")]
public sealed class DataProtectionKeyRecord
{
    [Id(0)] public string Name { get; set; } = "";

    [Id(1)] public string ProtectedXml { get; set; } = "";
}

/// <summary>A resource's record: its version, and which attempt of its last commit with events landed (see <see cref="EventAttempt"/>).</summary>
public interface IRecordsEvents
{
    /// <summary>The resource's version: every write of its record takes a new one.</summary>
    long Version { get; }

    /// <summary>The last commit with events, as recorded (<see cref="EventAttempt.None"/>: none yet).</summary>
    EventAttempt EventsAttempt { get; set; }
}
