using System.Text.Json.Nodes;
using Cluster.TestInfrastructure;

namespace Cluster.Cli.Tests;

/// <summary>Every <c>webhook</c> command against a real receiver (Kestrel on loopback, plain HTTP: <see cref="TestEvents"/> allows it).</summary>
[Collection(CliCollection.Name)]
public sealed class WebhookCommandsTests(GatewayFactory gateway)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private readonly ScimAdmin _cli = new(gateway);

    [Fact]
    public async Task SetShowTestDeliveriesRedeliverAndDeleteAWebhook()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var tenant = await gateway.CreateTenantAsync();
        var url = receiver.Url.ToString();

        // set: a generated secret, printed once with a warning; then a chosen one, as JSON (no secret echoed).
        var set = await _cli.TableAsync("webhook", "set", tenant.TenantId, "--url", url);
        Assert.Matches($@"URL\s+{url}", set);
        Assert.Matches(@"Signing secret\s+whsec_", set);
        Assert.Contains("shown only this once", set, StringComparison.Ordinal);
        const string Secret = "cli-test-secret-0123456789abcdefghijklmnop";
        var chosen = await _cli.JsonAsync("webhook", "set", tenant.TenantId, "--url", url, "--secret", Secret);
        Assert.Equal(url, chosen["url"]!.GetValue<string>());
        Assert.Null(chosen["secret"]);

        var shown = await _cli.TableAsync("webhook", "show", tenant.TenantId);
        Assert.Matches($@"URL\s+{url}", shown);
        Assert.Matches(@"Parked events\s+0", shown);
        Assert.DoesNotContain(Secret, shown, StringComparison.Ordinal);
        Assert.Equal("0", (await _cli.JsonAsync("webhook", "show", tenant.TenantId))["cursor"]!.GetValue<string>());

        // An event reaches the receiver, signed with the chosen secret, and is listed among the deliveries.
        using (var scim = gateway.ScimClient(tenant))
        {
            await ScimAdmin.CreateUserAsync(scim, "hooked@cli.test");
        }

        var first = (await receiver.WaitForAsync(1, Wait))[0];
        Assert.True(first.HasValidSignature(Secret));
        Assert.Equal("user.created", first.EventType);
        // The receiver has the event before the webhook grain records the attempt (it records the answer): wait for the record.
        var deliveries = await _cli.TableAsync("webhook", "deliveries", tenant.TenantId);
        for (var waited = 0; !deliveries.Contains(first.EventId!, StringComparison.Ordinal) && waited < 100; waited++)
        {
            await Task.Delay(100);
            deliveries = await _cli.TableAsync("webhook", "deliveries", tenant.TenantId);
        }

        Assert.Matches(@"AT\s+EVENT ID\s+DELIVERED\s+STATUS\s+MS\s+ERROR", deliveries);
        Assert.Matches($@"{first.EventId}\s+yes\s+200", deliveries);
        var attempts = (await _cli.JsonAsync("webhook", "deliveries", tenant.TenantId))["data"]!.AsArray();
        Assert.Contains(attempts, a => a!["eventId"]!.GetValue<string>() == first.EventId && a["delivered"]!.GetValue<bool>());

        // test: a ping now; a receiver that fails it makes the command fail.
        var test = await _cli.TableAsync("webhook", "test", tenant.TenantId);
        Assert.Matches(@"Delivered\s+yes", test);
        Assert.Matches(@"Status\s+200", test);
        Assert.Equal("ping", (await receiver.WaitForAsync(2, Wait))[1].EventType);
        receiver.RespondWith(WebhookResponse.Status(500));
        var failed = await _cli.RunAsync("--json", "webhook", "test", tenant.TenantId);
        Assert.Equal(1, failed.ExitCode);
        Assert.False(JsonNode.Parse(failed.Stdout)!["delivered"]!.GetValue<bool>());
        Assert.Contains("The test event was not delivered", failed.Stderr, StringComparison.Ordinal);
        receiver.RespondWith(WebhookResponse.Ok);

        // redeliver: the same event again, from cursor 0.
        var redeliver = await _cli.TableAsync("webhook", "redeliver", tenant.TenantId, "--after", "0");
        Assert.Contains("Redelivery of the events after cursor 0 started.", redeliver, StringComparison.Ordinal);
        var again = (await receiver.WaitForAsync(4, Wait)).Skip(3).Single();
        Assert.Equal(first.EventId, again.EventId);

        // delete: gone, and the API's 404 is an exit code 1.
        Assert.Contains("Webhook deleted.", await _cli.TableAsync("webhook", "delete", tenant.TenantId), StringComparison.Ordinal);
        var afterDelete = await _cli.RunAsync("webhook", "show", tenant.TenantId);
        Assert.Equal(1, afterDelete.ExitCode);
        Assert.Contains("404", afterDelete.Stderr, StringComparison.Ordinal);
    }
}
