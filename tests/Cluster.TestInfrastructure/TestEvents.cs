using Cluster.Grains.Events;

namespace Cluster.TestInfrastructure;

/// <summary>
/// The <c>Events</c> settings every test host gets: a secret key (fresh per test process, the same for all its silos,
/// so a restarted silo still reads what another stored) and <c>AllowInsecureWebhooks</c>, because test receivers
/// (<see cref="WebhookReceiver"/>) listen on plain HTTP on loopback.
/// </summary>
public static class TestEvents
{
    /// <summary>This test process's <c>Events:SecretKey</c>.</summary>
    public static string SecretKey { get; } = EventsOptions.NewSecretKey();

    /// <summary>Configuration keys as in appsettings.</summary>
    public static IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        [$"{EventsOptions.SectionName}:{nameof(EventsOptions.SecretKey)}"] = SecretKey,
        [$"{EventsOptions.SectionName}:{nameof(EventsOptions.AllowInsecureWebhooks)}"] = "true",
    };
}
