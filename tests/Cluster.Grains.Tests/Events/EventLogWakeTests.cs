using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests.Events;

/// <summary>
/// Invariant 11 when the event log's activation goes before it has told the webhook (its silo died, or it was collected while
/// the webhook could not be reached): until 2026-12-08 only timers of that activation resolved its commits and told the
/// webhook, and nothing activated the log again until the tenant's next change or a read of its feed (Entra's cycles send
/// nothing when nothing changed: possibly days). The log now holds a reminder while it has such work. Its own cluster (the
/// wait is a reminder's tick, about a minute), so the shared cluster's tests do not wait for it.
/// </summary>
public sealed class EventLogWakeTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task AnEventTheLogCouldNotTellBeforeItsActivationWentIsDeliveredWithoutAnyoneReadingTheFeed()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var tenantId = GrainKeys.NewTenantId();
        var webhookKey = GrainKeys.Webhook(tenantId);
        var webhook = Grains.GetGrain<IWebhookGrain>(webhookKey);
        Assert.NotNull((await webhook.SetAsync(receiver.Url.ToString(), null)).Webhook);

        // The webhook cannot be activated (its state unreadable): the log's notice of the next change fails, and is tried again
        // only by the log's activation.
        await StorageProbe.FailReadsOfNextActivationAsync(fixture.Client.ServiceProvider, webhookKey, async () =>
        {
            try
            {
                await webhook.GetAsync();
                return false;
            }
            catch (Exception)
            {
                return true;
            }
        });
        var user = await Grains.CreateUserAsync(tenantId, "wake@contoso.com");

        // The log's activation goes with its timers, as when its silo dies (HaltAsync stops them and deactivates it; what it
        // stored stays, and a new activation knows nothing of the halt), before it could tell the webhook.
        await Grains.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId)).HaltAsync();

        // The webhook can be activated again; no call reaches the log or the webhook from here.
        StorageProbe.FailNextReadsAsOutage(webhookKey, 0);
        var delivered = await receiver.WaitForAsync(1, TimeSpan.FromSeconds(180));
        Assert.Equal("user.created", delivered[0].EventType);
        Assert.Contains(user, delivered[0].BodyText, StringComparison.Ordinal);
    }
}
