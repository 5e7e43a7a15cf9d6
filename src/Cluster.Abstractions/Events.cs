namespace Cluster.Abstractions;

/// <summary>
/// One effective change of a tenant's directory, as the vendor's application receives it from the event feed and from
/// webhooks (docs/architecture.md, "Events"). <see cref="Sequence"/> is assigned by the tenant's <see cref="IEventLogGrain"/>.
/// </summary>
/// <param name="Id">Unique and stable: the same change always has the same id (receivers de-duplicate by it).</param>
/// <param name="Sequence">Position in the tenant's feed (strictly increasing; 0 before the log assigns it).</param>
/// <param name="Type">One of <see cref="ScimEventTypes"/>.</param>
/// <param name="OccurredAt">When the change was made.</param>
/// <param name="ResourceType"><c>User</c> or <c>Group</c>.</param>
/// <param name="ResourceId">The user's or group's id (for member events, the group's).</param>
/// <param name="Data">JSON text: the resource after the change (before it, for a delete), or for a member event <c>{"groupId","memberId","memberType"}</c> with <c>"userId"</c> when the member is a user (a nested group's has none).</param>
/// <param name="Changed">The attributes a <c>*.updated</c> event changed; null otherwise.</param>
[GenerateSerializer, Immutable, Alias("scim.ScimEvent")]
public sealed record ScimEvent(
    [property: Id(0)] string Id,
    [property: Id(1)] long Sequence,
    [property: Id(2)] string Type,
    [property: Id(3)] DateTimeOffset OccurredAt,
    [property: Id(4)] string ResourceType,
    [property: Id(5)] string ResourceId,
    [property: Id(6)] string Data,
    [property: Id(7)] string[]? Changed);

/// <summary>The event types.</summary>
public static class ScimEventTypes
{
    public const string UserCreated = "user.created";
    public const string UserUpdated = "user.updated";
    public const string UserDeactivated = "user.deactivated";
    public const string UserReactivated = "user.reactivated";
    public const string UserDeleted = "user.deleted";
    public const string GroupCreated = "group.created";
    public const string GroupUpdated = "group.updated";
    public const string GroupDeleted = "group.deleted";
    public const string GroupMemberAdded = "group.member_added";
    public const string GroupMemberRemoved = "group.member_removed";

    /// <summary>Sent only by a webhook test, never stored in the feed.</summary>
    public const string Ping = "ping";

    /// <summary>Every type that can appear in the feed (bounded metric label values).</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        UserCreated, UserUpdated, UserDeactivated, UserReactivated, UserDeleted,
        GroupCreated, GroupUpdated, GroupDeleted, GroupMemberAdded, GroupMemberRemoved,
    ];
}

/// <summary>
/// Which commit of which resource a batch of events belongs to: the resource's version and, for a change applied in
/// several steps (a large group change), the step (0 = the commit itself). Commits of one resource are ordered by
/// (<see cref="Version"/>, <see cref="Step"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("scim.EventSource")]
public sealed record EventSource(
    [property: Id(0)] string ResourceType,
    [property: Id(1)] string ResourceId,
    [property: Id(2)] long Version,
    [property: Id(3)] int Step)
{
    /// <summary>
    /// On a prepare: the resource's last commit with events as its stored state records it (<see cref="EventAttempt.None"/>
    /// when it has none), which resolves the log's earlier attempts of this resource exactly. Null when the state does not say
    /// which attempt landed (stored before attempts were recorded): the log then infers it from the versions.
    /// </summary>
    [Id(4)]
    public EventAttempt? Committed { get; init; }

    /// <summary>The resource, as one string.</summary>
    public string ResourceKey => ResourceType + "/" + ResourceId;

    /// <summary>True when this commit comes after <paramref name="other"/> of the same resource.</summary>
    public bool IsAfter(EventSource other) => Version > other.Version || (Version == other.Version && Step > other.Step);
}

/// <summary>
/// One attempt of one commit of a resource: the commit's (<see cref="Version"/>, <see cref="Step"/>) and the sequence number
/// the log gave the attempt's first event (<see cref="From"/>), which tells attempts of the same commit apart: two
/// activations of a resource (a silo declared dead while still running) may both prepare it; storage lets one write land.
/// </summary>
[GenerateSerializer, Immutable, Alias("scim.EventAttempt")]
public sealed record EventAttempt(
    [property: Id(0)] long Version,
    [property: Id(1)] int Step,
    [property: Id(2)] long From)
{
    /// <summary>No commit with events yet.</summary>
    public static readonly EventAttempt None = new(0, 0, 0);

    /// <summary>True when the attempt that landed is known: none yet, or one with its first sequence number recorded.</summary>
    public bool IsKnown => From > 0 || Version == 0;

    /// <summary>True when this commit is (<paramref name="version"/>, <paramref name="step"/>) or comes after it.</summary>
    public bool IsAtOrAfter(long version, int step) => Version > version || (Version == version && Step >= step);
}

/// <summary>What a resource says of one of its commits the event log holds as prepared.</summary>
[GenerateSerializer, Alias("scim.EventResolution")]
public enum EventResolution
{
    /// <summary>The commit's write is under way, or its outcome is not known yet: ask again later.</summary>
    Pending = 0,

    /// <summary>The write reached storage: the events are part of the feed.</summary>
    Committed = 1,

    /// <summary>The write never reached storage: the events must never appear.</summary>
    Aborted = 2,
}

/// <summary>A resource whose commits carry events: it answers for the ones the log still holds as prepared.</summary>
public interface IEventSourceGrain : IGrainWithStringKey
{
    /// <summary>
    /// Whether the attempt of this resource's commit (<paramref name="version"/>, <paramref name="step"/>) whose events the
    /// log numbered from <paramref name="from"/> reached storage. Interleaves, so it is answered while the resource waits on
    /// the log. Storage decides what the answering activation has not seen itself.
    /// </summary>
    [Alias("ResolveEvents"), AlwaysInterleave]
    Task<EventResolution> ResolveEventsAsync(long version, int step, long from);
}

/// <summary>
/// A tenant's event feed: every effective change, in one order (<see cref="ScimEvent.Sequence"/>). Resources write their
/// events here in two phases around their own storage write (docs/architecture.md, "Events"): <see cref="PrepareAsync"/>
/// before it (durable, not yet visible), <see cref="ConfirmAsync"/> after it. A prepared commit whose confirmation never
/// comes is resolved by asking the resource (<see cref="IEventSourceGrain"/>). Readers see the feed up to the first
/// unresolved commit, so nothing is ever skipped. Key: <see cref="GrainKeys.EventLog"/>.
/// </summary>
[Alias("scim.IEventLogGrain")]
public interface IEventLogGrain : IGrainWithStringKey
{
    /// <summary>
    /// Stores <paramref name="events"/> as prepared (durably) and assigns their sequence numbers. The resource's earlier
    /// prepared attempts are thereby resolved by what <paramref name="source"/> says its stored state holds
    /// (<see cref="EventSource.Committed"/>): the attempt named there is committed; every other one at or before that commit
    /// is discarded (its write never landed); one after it stays prepared (another activation's, still unknown). Without
    /// that record: committed when it comes before <paramref name="source"/>, discarded when it is the same commit again.
    /// Returns the sequence number of the first event: it names this attempt (a commit prepared again gets new numbers).
    /// Interleaves: prepares that arrive while the log is writing are stored together by its next write (group commit).
    /// </summary>
    [Alias("Prepare"), AlwaysInterleave]
    Task<long> PrepareAsync(EventSource source, ScimEvent[] events);

    /// <summary>
    /// The commit's write reached storage: its events become part of the feed (<paramref name="durable"/>: only once that is
    /// stored). <paramref name="first"/>: the attempt, as <see cref="PrepareAsync"/> numbered it — the confirmation of an
    /// earlier attempt never confirms the same commit prepared again; null confirms whichever attempt is prepared (a retried
    /// delete finishing its first attempt, which it can no longer name). Interleaves.
    /// </summary>
    [Alias("Confirm"), AlwaysInterleave]
    Task ConfirmAsync(EventSource source, long? first, bool durable);

    /// <summary>
    /// The attempt that <see cref="PrepareAsync"/> numbered from <paramref name="first"/> certainly stored nothing (it failed
    /// before the resource's own write; a write storage refused may have landed, and is left to resolution): its events are
    /// discarded, durably, so that no later answer from the resource's stored state can confirm them. Only that attempt: if the same commit was prepared again since — by another
    /// activation of the resource, whose write may be the one that landed — that one stands. Interleaves.
    /// </summary>
    [Alias("Abort"), AlwaysInterleave]
    Task AbortAsync(EventSource source, long first);

    /// <summary>Up to <paramref name="limit"/> events after sequence <paramref name="after"/> (null: from the oldest retained).</summary>
    [Alias("Read"), AlwaysInterleave]
    Task<EventPage> ReadAsync(long? after, int limit);

    /// <summary>
    /// Whether the tenant's webhook (<see cref="IWebhookGrain"/>) is told each time more events become readable. The log tells
    /// it again after any restart until the webhook has answered, so no event waits on a lost message.
    /// </summary>
    [Alias("Subscribe")]
    Task SubscribeAsync(bool subscribed);

    /// <summary>The feed's bounds (for the admin API, metrics and the webhook).</summary>
    [Alias("Info"), AlwaysInterleave]
    Task<EventLogInfo> GetInfoAsync();

    /// <summary>
    /// How many users and groups the tenant has: every committed <c>*.created</c> minus every committed <c>*.deleted</c>,
    /// counted once, when its commit is confirmed or resolved as committed (a discarded commit never counts). O(1).
    /// </summary>
    [Alias("Counts"), AlwaysInterleave]
    Task<ResourceCounts> GetCountsAsync();

    /// <summary>
    /// Offboarding only (the tenant is being erased, its webhook already deleted): stops the log's timers (resolution,
    /// retention, webhook notices) and deactivates, so nothing of it writes again unless a resource prepares a new commit; its
    /// rows are erased by the sweep that follows.
    /// </summary>
    [Alias("Halt")]
    Task HaltAsync();
}

/// <summary>A page of the feed.</summary>
/// <param name="Events">In sequence order.</param>
/// <param name="Cursor">Where the next read starts (<c>after</c>): the last event's sequence, or the given cursor when none.</param>
/// <param name="HasMore">True when more events are already readable after this page.</param>
/// <param name="Expired">True when the given cursor is older than the retention window (the events after it are gone).</param>
/// <param name="Beyond">True when the given cursor is past every sequence the feed has assigned: no read gave it, and
/// reading on from it would skip the events told until the feed reaches it.</param>
[GenerateSerializer, Immutable, Alias("scim.EventPage")]
public sealed record EventPage(
    [property: Id(0)] ScimEvent[] Events,
    [property: Id(1)] long Cursor,
    [property: Id(2)] bool HasMore,
    [property: Id(3)] bool Expired,
    [property: Id(4)] bool Beyond = false);

/// <summary>The bounds of a tenant's feed.</summary>
/// <param name="First">The oldest retained sequence.</param>
/// <param name="Readable">Every event up to this sequence is readable (it is one less than the first unresolved commit).</param>
/// <param name="Next">The next sequence to assign.</param>
/// <param name="OldestUnresolvedAt">When the oldest unresolved commit was prepared, or null.</param>
/// <param name="Waiting">Prepares that have reached the log and wait for its next write (group commit).</param>
[GenerateSerializer, Immutable, Alias("scim.EventLogInfo")]
public sealed record EventLogInfo(
    [property: Id(0)] long First,
    [property: Id(1)] long Readable,
    [property: Id(2)] long Next,
    [property: Id(3)] DateTimeOffset? OldestUnresolvedAt,
    [property: Id(4)] int Waiting = 0);

/// <summary>A tenant's user and group counts (<see cref="IEventLogGrain.GetCountsAsync"/>).</summary>
[GenerateSerializer, Immutable, Alias("scim.ResourceCounts")]
public sealed record ResourceCounts(
    [property: Id(0)] long Users,
    [property: Id(1)] long Groups);

/// <summary>One page of a tenant's feed: the events of a fixed range of sequence numbers. Key: <see cref="GrainKeys.EventPage"/>.</summary>
[Alias("scim.IEventPageGrain")]
public interface IEventPageGrain : IGrainWithStringKey
{
    [Alias("Write")]
    Task WriteAsync(ScimEvent[] events);

    [Alias("Read"), ReadOnly]
    Task<ScimEvent[]> ReadAsync();

    [Alias("Clear")]
    Task ClearAsync();
}

/// <summary>
/// The wire form of an event, the same in the feed (<c>GET /admin/tenants/{tenantId}/events</c>) and in a webhook's body:
/// <c>{"id","tenantId","sequence","type","occurredAt","resourceType","resourceId","data",("changed")}</c>.
/// </summary>
public static class ScimEventJson
{
    /// <summary>The event as a JSON object (<c>changed</c> only on <c>*.updated</c> events).</summary>
    public static System.Text.Json.Nodes.JsonObject ToJson(string tenantId, ScimEvent e)
    {
        var json = new System.Text.Json.Nodes.JsonObject
        {
            ["id"] = e.Id,
            ["tenantId"] = tenantId,
            ["sequence"] = e.Sequence,
            ["type"] = e.Type,
            ["occurredAt"] = e.OccurredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
            ["resourceType"] = e.ResourceType,
            ["resourceId"] = e.ResourceId,
            ["data"] = System.Text.Json.Nodes.JsonNode.Parse(e.Data),
        };
        if (e.Changed is { } changed)
        {
            json["changed"] = new System.Text.Json.Nodes.JsonArray([.. changed.Select(c => (System.Text.Json.Nodes.JsonNode?)c)]);
        }

        return json;
    }
}
