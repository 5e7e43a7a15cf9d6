using Cluster.Abstractions;
using Cluster.Grains.Events.Webhooks;
using Cluster.Grains.State;
using Cluster.Grains.Tenants;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Cluster.Grains.Tests.Events;

/// <summary>
/// A webhook whose stored secret no longer decrypts (<c>Events:SecretKey</c> changed or lost, or different on one silo)
/// fails its attempts like any failing receiver, visibly: each is recorded as <c>secret-unreadable</c>, and a test ping
/// answers with that attempt. It threw instead: the ping was a 500, and delivery failed every second with nothing recorded
/// and nothing parked. Setting the webhook again with a new secret mends it.
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed class WebhookSecretUnreadableTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task AnUnreadableSecretIsAFailedAttemptUntilANewSecretIsSet()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var tenantId = GrainKeys.NewTenantId();
        var webhook = Grains.GetGrain<IWebhookGrain>(GrainKeys.Webhook(tenantId));
        Assert.NotNull((await webhook.SetAsync(receiver.Url.ToString(), null)).Webhook);

        // The secret as another key encrypted it, as storage would hold it after Events:SecretKey changed.
        var services = fixture.Cluster.GetSiloServiceProvider(fixture.Cluster.GetActiveSilos().First().SiloAddress);
        var storage = services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Default);
        var id = GrainId.Create(TenantData.GrainTypeOf(Grains, typeof(IWebhookGrain)), GrainKeys.Webhook(tenantId));
        const string stateName = "webhook"; // the silo's storage names the row itself (StorageRowNames), as for the grain
        var state = new GrainState<WebhookState>();
        await storage.ReadStateAsync(stateName, id, state);
        var stored = state.State!.ProtectedSecret.Split('.');
        state.State.ProtectedSecret = $"{stored[0]}.another-key.{stored[2]}";
        await storage.WriteStateAsync(stateName, id, state);
        await fixture.Cluster.DeactivateAsync(webhook);

        var attempt = await webhook.TestAsync();
        Assert.Equal(DeliveryErrors.SecretUnreadable, attempt!.Error);
        Assert.False(attempt.Delivered);
        Assert.Empty(receiver.Requests); // nothing was sent unsigned
        Assert.Contains(await webhook.GetDeliveriesAsync(), d => d.Error == DeliveryErrors.SecretUnreadable);

        // Events wait, retried with backoff like any failure (not sent, not lost).
        await Grains.CreateUserAsync(tenantId, "waiting@contoso.com");
        await Eventually.TrueAsync(async () => (await webhook.GetDeliveriesAsync()).Count(d => d.Error == DeliveryErrors.SecretUnreadable) >= 2, what: "the event's attempt recorded");
        Assert.Empty(receiver.Requests);

        // A new secret mends it: the waiting event is delivered, signed with it.
        var secret = WebhookSecret.New();
        Assert.NotNull((await webhook.SetAsync(receiver.Url.ToString(), secret)).Webhook);
        var delivered = await receiver.WaitForAsync(1, TimeSpan.FromSeconds(30));
        Assert.Equal(ScimEventTypes.UserCreated, delivered[0].EventType);
        Assert.True(delivered[0].HasValidSignature(secret));
    }
}
