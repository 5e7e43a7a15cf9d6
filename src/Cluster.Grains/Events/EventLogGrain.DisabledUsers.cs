using System.Text;
using System.Text.Json;
using Cluster.Grains.State;

namespace Cluster.Grains.Events;

/// <summary>
/// The disabled-user count of a tenant (issue 14: the portal's status shows users active and disabled), kept by its event log
/// because every change of a user's <c>active</c> passes through it exactly once: a commit's change of the count is stored
/// with the commit when it is prepared (<see cref="PreparedCommit.DisabledUsers"/>), and added to the head's count by the
/// write that drops the commit from <see cref="EventLogState.Prepared"/> as committed (confirmed, resolved as committed, or
/// passed by its resource's next commit). A discarded commit leaves a range in <see cref="EventLogState.Discarded"/> and
/// never counts. Between writes, the commits confirmed in memory are added on read, so the answer matches the readable feed.
/// </summary>
public sealed partial class EventLogGrain : IDisabledUserCount
{
    public Task<long> GetDisabledUsersAsync()
    {
        var head = _state.Value;
        var confirmed = head.Prepared.Where(p => _confirmed.Contains(ConfirmationKey(p))).Sum(p => (long)p.DisabledUsers);
        return Task.FromResult(Math.Max(0, head.DisabledUsers + confirmed));
    }

    /// <summary>
    /// Before <paramref name="next"/> replaces <paramref name="head"/>: adds the change of every commit that leaves
    /// <see cref="EventLogState.Prepared"/> without being discarded.
    /// </summary>
    private static void CountDisabledUsers(EventLogState head, EventLogState next)
    {
        var count = head.DisabledUsers;
        foreach (var left in head.Prepared)
        {
            if (left.DisabledUsers != 0
                && !next.Prepared.Any(p => p.From == left.From)
                && !next.Discarded.Any(r => r.From == left.From))
            {
                count += left.DisabledUsers;
            }
        }

        next.DisabledUsers = count;
    }

    /// <summary>What a commit's events change the disabled-user count by.</summary>
    internal static int DisabledUsersDelta(IEnumerable<ScimEvent> events)
    {
        var delta = 0;
        foreach (var e in events)
        {
            delta += e.Type switch
            {
                ScimEventTypes.UserDeactivated => 1,
                ScimEventTypes.UserReactivated => -1,
                ScimEventTypes.UserCreated when IsDisabled(e.Data) => 1,
                ScimEventTypes.UserDeleted when IsDisabled(e.Data) => -1,
                _ => 0,
            };
        }

        return delta;
    }

    /// <summary>True when a user's event data has <c>"active": false</c> at its top level (absent means active).</summary>
    private static bool IsDisabled(string data)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(data));
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isActive = reader.ValueTextEquals("active"u8);
            reader.Read();
            if (isActive)
            {
                return reader.TokenType == JsonTokenType.False;
            }

            reader.Skip();
        }

        return false;
    }
}
