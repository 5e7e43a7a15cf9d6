namespace Cluster.Abstractions;

/// <summary>
/// One SCIM request of a tenant, as its provisioning log keeps it (issue 14; docs/architecture.md, "Provisioning log"). It
/// holds no body, no token and no attribute value except <see cref="Name"/>, the userName or displayName the response showed,
/// so that an admin can recognise the resource.
/// </summary>
/// <param name="Sequence">Position in the tenant's log, assigned by <see cref="IRequestLogGrain"/> (0 before); later is newer.</param>
/// <param name="At">When the gateway received the request.</param>
/// <param name="Method">The HTTP method.</param>
/// <param name="Operation">One of <see cref="RequestLogOperations"/>.</param>
/// <param name="ResourceType"><c>User</c> or <c>Group</c>, or null (discovery, <c>/Bulk</c>, <c>/.search</c>, an unknown path).</param>
/// <param name="ResourceId">The resource's id: from the route, a 201's new resource, or the one resource a lookup found.</param>
/// <param name="Name">The resource's userName (users) or displayName (groups), taken only from what the gateway answered.</param>
/// <param name="Status">The HTTP status the client got.</param>
/// <param name="ScimType">The SCIM error's <c>scimType</c>, if any.</param>
/// <param name="Detail">The SCIM error's <c>detail</c>, with every quoted value the client could have sent replaced by <c>…</c>.</param>
/// <param name="DurationMs">How long the gateway took to answer, in milliseconds.</param>
/// <param name="TestConnection">True for Entra's Test Connection probe: a filter on a random GUID that found nothing.</param>
/// <param name="RequestId">The gateway's request id (ASP.NET Core's <c>TraceIdentifier</c>), as in its logs.</param>
[GenerateSerializer, Immutable, Alias("scim.RequestLogEntry")]
public sealed record RequestLogEntry(
    [property: Id(0)] long Sequence,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] string Method,
    [property: Id(3)] string Operation,
    [property: Id(4)] string? ResourceType,
    [property: Id(5)] string? ResourceId,
    [property: Id(6)] string? Name,
    [property: Id(7)] int Status,
    [property: Id(8)] string? ScimType,
    [property: Id(9)] string? Detail,
    [property: Id(10)] double DurationMs,
    [property: Id(11)] bool TestConnection,
    [property: Id(12)] string? RequestId)
{
    /// <summary>Longest <see cref="Name"/> kept, in characters.</summary>
    public const int MaxNameLength = 256;

    /// <summary>Longest <see cref="Detail"/> kept, in characters.</summary>
    public const int MaxDetailLength = 512;

    /// <summary>True for a 4xx or 5xx answer.</summary>
    public bool IsError => Status >= 400;

    /// <summary>
    /// This entry with its name, detail and method cut to <see cref="MaxNameLength"/>, <see cref="MaxDetailLength"/> and
    /// <see cref="MaxMethodLength"/> (an ellipsis marks the cut): as the gateway buffers it, and as the log stores it.
    /// </summary>
    public RequestLogEntry Capped() => Name?.Length > MaxNameLength || Detail?.Length > MaxDetailLength || Method.Length > MaxMethodLength
        ? this with { Name = Cap(Name, MaxNameLength), Detail = Cap(Detail, MaxDetailLength), Method = Cap(Method, MaxMethodLength)! }
        : this;

    /// <summary>Longest <see cref="Method"/> kept (the gateway stores HTTP's own methods only; this guards the log's row).</summary>
    public const int MaxMethodLength = 16;

    private static string? Cap(string? text, int length) => text is { } t && t.Length > length ? t[..(length - 1)] + "…" : text;
}

/// <summary>The <see cref="RequestLogEntry.Operation"/> values: what a request did, as an admin reads it.</summary>
public static class RequestLogOperations
{
    /// <summary><c>POST /Users</c>, <c>POST /Groups</c>.</summary>
    public const string Create = "create";

    /// <summary>A PUT, or a PATCH that is none of the operations below.</summary>
    public const string Update = "update";

    /// <summary>A user PATCH of <c>active</c> that leaves (or would leave) the user disabled.</summary>
    public const string Disable = "disable";

    /// <summary>A user PATCH of <c>active</c> that leaves (or would leave) the user active.</summary>
    public const string Enable = "enable";

    /// <summary>A group PATCH that adds or removes members.</summary>
    public const string Membership = "membership";

    /// <summary><c>DELETE</c>.</summary>
    public const string Delete = "delete";

    /// <summary>A GET by id, a filter or list, a <c>.search</c>.</summary>
    public const string Lookup = "lookup";

    /// <summary><c>/ServiceProviderConfig</c>, <c>/ResourceTypes</c>, <c>/Schemas</c>.</summary>
    public const string Discovery = "discovery";

    /// <summary><c>POST /Bulk</c> (one entry for the whole request).</summary>
    public const string Bulk = "bulk";

    /// <summary>A path no endpoint serves, or a method it does not allow.</summary>
    public const string Other = "other";

    /// <summary>
    /// <c>POST /oauth2/token</c> of one of the tenant's active OAuth clients, refused (401): the client secret is wrong,
    /// expired or revoked. Only refusals are logged (Entra's next SCIM request shows a token that worked).
    /// </summary>
    public const string Token = "token";
}

/// <summary>The <c>outcome</c> filter of a log read: <c>success</c> (below 400), <c>error</c> (400 and above) or a status class.</summary>
public static class RequestLogOutcomes
{
    public const string Success = "success";
    public const string Error = "error";

    /// <summary>Every accepted value.</summary>
    public static IReadOnlyList<string> All { get; } = [Success, Error, "2xx", "3xx", "4xx", "5xx"];

    /// <summary>True when <paramref name="status"/> has the <paramref name="outcome"/> (null: any).</summary>
    public static bool Matches(string? outcome, int status) => outcome switch
    {
        null => true,
        Success => status < 400,
        Error => status >= 400,
        [var digit, 'x', 'x'] => status / 100 == digit - '0',
        _ => false,
    };
}

/// <summary>What to read from a tenant's provisioning log.</summary>
/// <param name="Before">Only entries older than this cursor (a <c>nextCursor</c>); null: from the newest.</param>
/// <param name="Limit">Most entries to return (1–<see cref="MaxLimit"/>).</param>
/// <param name="Outcome">One of <see cref="RequestLogOutcomes.All"/>, or null.</param>
/// <param name="ResourceId">Only entries of this user or group, or null.</param>
[GenerateSerializer, Immutable, Alias("scim.RequestLogQuery")]
public sealed record RequestLogQuery(
    [property: Id(0)] long? Before,
    [property: Id(1)] int Limit,
    [property: Id(2)] string? Outcome,
    [property: Id(3)] string? ResourceId)
{
    /// <summary>Most entries one read returns.</summary>
    public const int MaxLimit = 200;
}

/// <summary>A page of a tenant's provisioning log, newest first.</summary>
/// <param name="Entries">Newest first.</param>
/// <param name="NextCursor">Where the next (older) page starts, or null when nothing older is left.</param>
/// <param name="HasMore">True when older entries remain to be examined. With a filter a page may hold fewer than the limit
/// (a read examines a bounded number of entries) and still have more.</param>
[GenerateSerializer, Immutable, Alias("scim.RequestLogPage")]
public sealed record RequestLogPage(
    [property: Id(0)] RequestLogEntry[] Entries,
    [property: Id(1)] long? NextCursor,
    [property: Id(2)] bool HasMore);

/// <summary>
/// A tenant's connection status as its provisioning log knows it, for the customer portal and operators: whether any
/// authenticated request ever came, when the last one and the last Test Connection came, and the last error.
/// </summary>
/// <param name="LastRequestAt">The newest authenticated SCIM request, or null (never connected).</param>
/// <param name="LastTestConnectionAt">The newest Test Connection probe, or null.</param>
/// <param name="LastSuccessAt">The newest request answered below 400, or null.</param>
/// <param name="LastError">The newest request answered 400 or above, within the retention window, or null.</param>
/// <param name="DroppedEntries">Entries the gateways could not keep (a full buffer, a failed flush): the log may miss that many.</param>
[GenerateSerializer, Immutable, Alias("scim.RequestLogStatus")]
public sealed record RequestLogStatus(
    [property: Id(0)] DateTimeOffset? LastRequestAt,
    [property: Id(1)] DateTimeOffset? LastTestConnectionAt,
    [property: Id(2)] DateTimeOffset? LastSuccessAt,
    [property: Id(3)] RequestLogEntry? LastError,
    [property: Id(4)] long DroppedEntries);

/// <summary>
/// A tenant's provisioning log (issue 14; docs/architecture.md, "Provisioning log"): its recent SCIM requests, newest first,
/// kept for <c>Portal:LogRetentionDays</c>. Gateways append in batches, off the request path, at most once per entry.
/// Key: <see cref="GrainKeys.RequestLog"/>.
/// </summary>
[Alias("scim.IRequestLogGrain")]
public interface IRequestLogGrain : IGrainWithStringKey
{
    /// <summary>
    /// Most entries one append stores in one write (its head row holds them until their pages are written): gateways send
    /// at most this many per call, so every call is stored whole or not at all; a larger batch is stored in several writes.
    /// </summary>
    public const int MaxEntriesPerAppend = 256;

    /// <summary>
    /// Appends a gateway's batch of this tenant's entries (their <see cref="RequestLogEntry.Sequence"/> is assigned here) and
    /// counts <paramref name="dropped"/> entries that gateway lost since its last batch. Ignored while the log is being erased.
    /// </summary>
    [Alias("Append")]
    Task AppendAsync(RequestLogEntry[] entries, long dropped);

    /// <summary>A page of entries, newest first.</summary>
    [Alias("Read"), AlwaysInterleave]
    Task<RequestLogPage> ReadAsync(RequestLogQuery query);

    /// <summary>What the log knows of the tenant's connection (O(1): from its head row).</summary>
    [Alias("Status"), AlwaysInterleave]
    Task<RequestLogStatus> GetStatusAsync();

    /// <summary>
    /// <b>Offboarding:</b> erases the log — a bounded number of page rows per call, oldest first, then the head row — and stops
    /// its retention timer and reminder. Call it until it returns true (each call resumes where the last stopped, also after
    /// a crash). From the first call on, appends are ignored until the activation ends. Call it once the tenant's credentials
    /// have stopped and the gateways have flushed (<c>Portal:RequestLogFlushSeconds</c>): an entry flushed later would start a
    /// new log.
    /// </summary>
    [Alias("Erase")]
    Task<bool> EraseAsync();
}

/// <summary>One page row of a tenant's provisioning log: the entries of a fixed range of sequence numbers. Key: <see cref="GrainKeys.RequestLogPage"/>.</summary>
[Alias("scim.IRequestLogPageGrain")]
public interface IRequestLogPageGrain : IGrainWithStringKey
{
    [Alias("Write")]
    Task WriteAsync(RequestLogEntry[] entries);

    [Alias("Read"), ReadOnly]
    Task<RequestLogEntry[]> ReadAsync();

    [Alias("Clear")]
    Task ClearAsync();
}

/// <summary>
/// How many of a tenant's users are disabled (<c>active</c> false), kept by its event log (<see cref="IEventLogGrain"/>, the
/// same grain and key, <see cref="GrainKeys.EventLog"/>) from the committed <c>user.created</c>, <c>user.deactivated</c>,
/// <c>user.reactivated</c> and <c>user.deleted</c> events, like the feed itself: each commit counts once, when it is
/// confirmed or resolved as committed; a discarded one never. O(1).
/// </summary>
[Alias("scim.IDisabledUserCount")]
public interface IDisabledUserCount : IGrainWithStringKey
{
    [Alias("DisabledUsers"), AlwaysInterleave]
    Task<long> GetDisabledUsersAsync();
}
