using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests.Events;

/// <summary>
/// A webhook and the log's subscription to it are two writes. A failure between them must never leave a stored webhook
/// that the log does not tell of changes (nothing would subscribe it again until the vendor set it once more): a set tells
/// the log first, a delete removes the webhook first.
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed class WebhookSubscriptionTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task ASetWhoseSubscriptionFailedStoresNoWebhook()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var tenantId = GrainKeys.NewTenantId();
        var webhook = Grains.GetGrain<IWebhookGrain>(GrainKeys.Webhook(tenantId));

        StorageProbe.FailNextWrites(GrainKeys.EventLog(tenantId)); // the log's subscription
        await Assert.ThrowsAnyAsync<Exception>(() => webhook.SetAsync(receiver.Url.ToString(), null));
        Assert.Null(await webhook.GetAsync());

        // Set again, it hears of the next change.
        Assert.NotNull((await webhook.SetAsync(receiver.Url.ToString(), null)).Webhook);
        await Grains.CreateUserAsync(tenantId, "after.set@contoso.com");
        Assert.Equal(["user.created"], (await receiver.WaitForAsync(1, TimeSpan.FromSeconds(30))).Select(r => r.EventType));
    }

    [Fact]
    public async Task ADeleteThatFailedLeavesAWebhookThatStillHearsOfChanges()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var tenantId = GrainKeys.NewTenantId();
        var webhook = Grains.GetGrain<IWebhookGrain>(GrainKeys.Webhook(tenantId));
        Assert.NotNull((await webhook.SetAsync(receiver.Url.ToString(), null)).Webhook);

        StorageProbe.FailNextWrites(GrainKeys.Webhook(tenantId)); // the webhook's removal
        await Assert.ThrowsAnyAsync<Exception>(() => webhook.DeleteAsync());
        Assert.NotNull(await webhook.GetAsync());

        // Not removed, so still told: the next change is delivered without anyone setting the webhook again.
        await Grains.CreateUserAsync(tenantId, "after.delete@contoso.com");
        Assert.Equal(["user.created"], (await receiver.WaitForAsync(1, TimeSpan.FromSeconds(20))).Select(r => r.EventType));
    }

    [Fact]
    public async Task AnEventThatBecomesReadableWhileANewWebhookIsStoredIsDelivered()
    {
        // The log is subscribed before the webhook is stored: its notice of an event written meanwhile finds no webhook and
        // is dropped. The set looks again once stored (without that, the event waited for the tenant's next change).
        await using var receiver = await WebhookReceiver.StartAsync();
        var tenantId = GrainKeys.NewTenantId();
        await Grains.CreateUserAsync(tenantId, "before@contoso.com");
        var log = Grains.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId));
        await Eventually.TrueAsync(async () => (await log.GetInfoAsync()).Readable >= 1, what: "the first event becomes readable");
        var webhook = Grains.GetGrain<IWebhookGrain>(GrainKeys.Webhook(tenantId));
        var held = StorageProbe.HoldNextWrite(GrainKeys.Webhook(tenantId));
        var set = webhook.SetAsync(receiver.Url.ToString(), null);
        await held.Started.WaitAsync(TimeSpan.FromSeconds(30));

        await Grains.CreateUserAsync(tenantId, "meanwhile@contoso.com");
        await Eventually.TrueAsync(async () => (await log.GetInfoAsync()).Readable >= 2, what: "the second event becomes readable");
        await Task.Delay(500); // the log's notice reaches the webhook, which has no state yet
        held.Release();
        Assert.NotNull((await set).Webhook);

        var delivered = await receiver.WaitForAsync(1, TimeSpan.FromSeconds(20));
        Assert.Equal(["user.created"], delivered.Select(r => r.EventType));
    }
}
