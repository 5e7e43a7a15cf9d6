using System.ComponentModel.DataAnnotations;

namespace Cluster.Grains.Events;

/// <summary>The event feed and webhooks. Section <c>Events</c>.</summary>
public sealed class EventsOptions
{
    public const string SectionName = "Events";

    /// <summary>How long events are kept in a tenant's feed (default 30 days); older pages are erased and their cursors answer 410.</summary>
    [Range(1, 365)]
    public int RetentionDays { get; set; } = 30;
}
