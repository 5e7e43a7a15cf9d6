// Persisted state types of the provisioning log (issue 14). This namespace and these names are a storage contract: never
// move or rename them. New fields are nullable or default and omitted when so (see States.cs).
using System.Text.Json.Serialization;

namespace Cluster.Grains.State;

/// <summary>
/// The head of a tenant's provisioning log (<c>RequestLogGrain</c>): the sequence counter, the bounds of what is kept, the
/// entries of the open page, and the status the portal shows. Full pages live in their own rows (<see cref="RequestLogPageState"/>).
/// </summary>
[GenerateSerializer, Alias("scim.state.RequestLog")]
public sealed class RequestLogState
{
    /// <summary>The next sequence number to assign.</summary>
    [Id(0)] public long Next { get; set; } = 1;

    /// <summary>The oldest sequence number that may still be stored (everything before it was erased).</summary>
    [Id(1)] public long First { get; set; } = 1;

    /// <summary>Every page up to this sequence number is written to its page row; later entries are in <see cref="Tail"/>.</summary>
    [Id(2)] public long SealedThrough { get; set; }

    [Id(3)] public List<RequestLogRecord> Tail { get; set; } = [];

    [Id(4), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? LastRequestAt { get; set; }

    [Id(5), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? LastTestConnectionAt { get; set; }

    [Id(6), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? LastSuccessAt { get; set; }

    /// <summary>The newest entry answered 400 or above (dropped with the entries it is as old as).</summary>
    [Id(7), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public RequestLogRecord? LastError { get; set; }

    /// <summary>Entries the gateways reported lost (full buffer, failed flush).</summary>
    [Id(8), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long Dropped { get; set; }

    /// <summary>True while the retention reminder is registered (it wakes the log to erase what expired).</summary>
    [Id(9), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Reminder { get; set; }
}

/// <summary>One page row of a provisioning log: the entries of <c>RequestLogGrain.PageSize</c> sequence numbers.</summary>
[GenerateSerializer, Alias("scim.state.RequestLogPage")]
public sealed class RequestLogPageState
{
    [Id(0)] public List<RequestLogRecord> Entries { get; set; } = [];
}

/// <summary>A stored provisioning log entry (see <c>RequestLogEntry</c>): ids, codes and times, one name, no body or token.</summary>
[GenerateSerializer, Alias("scim.state.RequestLogEntry")]
public sealed class RequestLogRecord
{
    [Id(0)] public long Sequence { get; set; }

    [Id(1)] public DateTimeOffset At { get; set; }

    [Id(2)] public string Method { get; set; } = "";

    [Id(3)] public string Operation { get; set; } = "";

    [Id(4), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ResourceType { get; set; }

    [Id(5), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ResourceId { get; set; }

    [Id(6), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Name { get; set; }

    [Id(7)] public int Status { get; set; }

    [Id(8), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ScimType { get; set; }

    [Id(9), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Detail { get; set; }

    [Id(10)] public double DurationMs { get; set; }

    [Id(11), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool TestConnection { get; set; }

    [Id(12), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RequestId { get; set; }
}

/// <summary>The disabled-user count the event log keeps for the portal's status (issue 14; <c>IDisabledUserCount</c>).</summary>
public sealed partial class EventLogState
{
    /// <summary>
    /// Disabled users: the disabled-user changes of the commits resolved as committed, each added once, in the write that drops
    /// its commit from <see cref="Prepared"/>. Not written when 0. (Ids 7 and 8 are left for the user and group counts.)
    /// </summary>
    [Id(9), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long DisabledUsers { get; set; }
}

/// <summary>What a prepared commit changes the disabled-user count by (issue 14).</summary>
public sealed partial class PreparedCommit
{
    /// <summary>
    /// +1 per <c>user.deactivated</c> and per <c>user.created</c> of a disabled user, −1 per <c>user.reactivated</c> and per
    /// <c>user.deleted</c> of a disabled user; not written when 0.
    /// </summary>
    [Id(9), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int DisabledUsers { get; set; }
}
