using System.Diagnostics;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests.Events;

/// <summary>
/// The webhook never sleeps through an event (invariant 11: delivery at least once). Found by
/// <c>Cluster.Persistence.Tests.EventFailoverTests</c>: the log tells the webhook of new events with an interleaving call,
/// and a delivery round that had just found the feed empty went on to stop its loop and drop its reminder, although the
/// log had told it of a new event meanwhile; nothing woke it again until the tenant's next change.
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed class WebhookWakeupTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task AnEventThatBecomesReadableWhileTheWebhookFindsItsFeedEmptyIsDelivered()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var tenantId = GrainKeys.NewTenantId();
        var webhook = Grains.GetGrain<IWebhookGrain>(GrainKeys.Webhook(tenantId));
        Assert.NotNull((await webhook.SetAsync(receiver.Url.ToString(), null)).Webhook);

        // The webhook's next write is the one of the round that finds the feed empty after the first event (it saves its
        // cursor, then stops): hold it there.
        var held = StorageProbe.HoldNextWrite(GrainKeys.Webhook(tenantId));
        var sinceFirst = Stopwatch.StartNew();
        await Grains.CreateUserAsync(tenantId, "first@contoso.com");
        await receiver.WaitForAsync(1, TimeSpan.FromSeconds(30));
        await held.Started.WaitAsync(TimeSpan.FromSeconds(30));

        // Meanwhile a second event becomes readable, and the log tells the webhook (from a timer, right after the confirm).
        await Grains.CreateUserAsync(tenantId, "second@contoso.com");
        var log = Grains.GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenantId));
        await Eventually.TrueAsync(async () => (await log.GetInfoAsync()).Readable >= 2, what: "the second event becomes readable");

        await Task.Delay(500);
        held.Release();

        // Delivered at once, not by the reminder's tick (a minute after the first event), nor only with the tenant's next
        // change: the wait ends well before that tick could deliver it.
        var left = TimeSpan.FromSeconds(50) - sinceFirst.Elapsed;
        Assert.True(left > TimeSpan.FromSeconds(5), $"the steps above took {sinceFirst.Elapsed}: too close to the reminder's tick to tell");
        var requests = await receiver.WaitForAsync(2, left);
        Assert.Equal(["user.created", "user.created"], requests.Select(r => r.EventType));
    }

    [Fact]
    public async Task AReceiverThatAnswersSlowlyDoesNotHoldTheWebhooksOtherCallsForAWholeBatch()
    {
        // Twelve events readable at once, a receiver that takes 1.5 s to answer 200 each: a round used to send its whole
        // page (up to 32 × the timeout) while a delete, a new URL or offboarding waited on the grain.
        await using var receiver = await WebhookReceiver.StartAsync();
        var tenantId = GrainKeys.NewTenantId();
        for (var i = 0; i < 12; i++)
        {
            await Grains.CreateUserAsync(tenantId, $"slow{i}@contoso.com");
        }

        var webhook = Grains.GetGrain<IWebhookGrain>(GrainKeys.Webhook(tenantId));
        Assert.NotNull((await webhook.SetAsync(receiver.Url.ToString(), null)).Webhook);
        receiver.RespondWith(new WebhookResponse { Delay = TimeSpan.FromSeconds(1.5) });
        Assert.Equal(RedeliverResult.Started, await webhook.RedeliverAsync(0));
        await receiver.WaitForAsync(1, TimeSpan.FromSeconds(30));

        Assert.True(await webhook.DeleteAsync());
        var sent = receiver.Requests.Count;
        Assert.True(sent < 6, $"{sent} of the 12 events were sent before the delete ran");
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(sent, receiver.Requests.Count);
    }
}
