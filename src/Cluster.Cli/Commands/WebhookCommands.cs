using System.CommandLine;
using System.Text.Json.Nodes;

namespace Cluster.Cli.Commands;

/// <summary><c>webhook set|show|delete|test|deliveries|redeliver</c>: the tenant's webhook (issue 12), which receives every event signed.</summary>
internal static class WebhookCommands
{
    public static Command Create(AdminCli cli) => new("webhook", "Manage a tenant's webhook: the https URL every event is POSTed to, signed with its secret.")
    {
        Set(cli),
        Show(cli),
        Delete(cli),
        Test(cli),
        Deliveries(cli),
        Redeliver(cli),
    };

    private static Command Set(AdminCli cli)
    {
        var tenantId = AdminCli.TenantArgument();
        var url = new Option<string>("--url")
        {
            Description = "The webhook's https URL. (Here --url is the webhook's: give the gateway's before 'webhook', or in $" + AdminCli.UrlVariable + ".)",
            HelpName = "URL",
            Required = true,
        };
        var secret = new Option<string>("--secret") { Description = "The signing secret (default: the gateway generates one and prints it once).", HelpName = "SECRET" };
        return cli.Command("set", "Set (or replace) a tenant's webhook: a new one gets the events from now on; a replaced one keeps its place and sends what it has not delivered to the new URL.", [tenantId, url, secret], async (context, cancellationToken) =>
        {
            var webhook = await context.Api.PutAsync(
                AdminApi.Tenant(context.Get(tenantId), "webhook"), new { url = context.Get(url), secret = context.Get(secret) }, cancellationToken);
            context.Out.Show(webhook, w =>
            {
                context.Out.Note("Webhook set.");
                WriteWebhook(context.Out, w);
                if (w.Text("secret") is { } generated)
                {
                    context.Out.Note();
                    context.Out.Fields(("Signing secret", generated));
                    TenantCommands.SecretWarning(context.Out, "set the webhook again to get a new secret");
                }
            });
        });
    }

    private static Command Show(AdminCli cli)
    {
        var tenantId = AdminCli.TenantArgument();
        return cli.Command("show", "Show a tenant's webhook: URL, delivery cursor, retry state and parked events (never the secret).", [tenantId], async (context, cancellationToken) =>
        {
            var webhook = await context.Api.GetAsync(AdminApi.Tenant(context.Get(tenantId), "webhook"), cancellationToken);
            context.Out.Show(webhook, w =>
            {
                WriteWebhook(context.Out, w);
                var parked = w.Items("parked").ToList();
                if (parked.Count > 0)
                {
                    context.Out.Note();
                    context.Out.Note("Parked events (given up on; 'webhook redeliver' sends them again):");
                    context.Out.Table(
                        [new Column("SEQUENCE", RightAligned: true), new Column("EVENT ID"), new Column("PARKED AT")],
                        parked.Select(p => new[] { p.Text("sequence"), p.Text("eventId"), p.Time("parkedAt") }));
                }

                var expired = w.Items("expired").ToList();
                if (expired.Count > 0)
                {
                    context.Out.Note();
                    context.Out.Note("Never delivered: erased by retention first (read the tenant's users and groups again to mend what they changed):");
                    context.Out.Table(
                        [new Column("AFTER", RightAligned: true), new Column("THROUGH", RightAligned: true), new Column("EVENTS", RightAligned: true), new Column("SKIPPED AT")],
                        expired.Select(x => new[] { x.Text("after"), x.Text("through"), x.Text("count"), x.Time("at") }));
                }
            });
        });
    }

    private static Command Delete(AdminCli cli)
    {
        var tenantId = AdminCli.TenantArgument();
        return cli.Command("delete", "Delete a tenant's webhook: deliveries stop (the event feed stays readable).", [tenantId], async (context, cancellationToken) =>
        {
            await context.Api.DeleteAsync(AdminApi.Tenant(context.Get(tenantId), "webhook"), cancellationToken);
            context.Out.Note("Webhook deleted.");
        });
    }

    private static Command Test(AdminCli cli)
    {
        var tenantId = AdminCli.TenantArgument();
        return cli.Command("test", "Send a signed 'ping' event to the webhook now and show the attempt. Exit code 1 when it was not delivered.", [tenantId], async (context, cancellationToken) =>
        {
            var attempt = await context.Api.PostAsync(AdminApi.Tenant(context.Get(tenantId), "webhook", "test"), null, cancellationToken);
            context.Out.Show(attempt, a => context.Out.Fields(
                ("Delivered", a.YesNo("delivered")),
                ("Status", a.Text("statusCode")),
                ("Error", a.Text("error")),
                ("Duration", $"{a.Text("durationMs")} ms"),
                ("Event id", a.Text("eventId"))));
            if (attempt?["delivered"]?.GetValue<bool>() != true)
            {
                throw new CommandFailedException($"The test event was not delivered: {attempt.Text("error") ?? "status " + attempt.Text("statusCode")}.");
            }
        });
    }

    private static Command Deliveries(AdminCli cli)
    {
        var tenantId = AdminCli.TenantArgument();
        return cli.Command("deliveries", "List the webhook's recent delivery attempts, failed ones included.", [tenantId], async (context, cancellationToken) =>
        {
            var deliveries = await context.Api.GetAsync(AdminApi.Tenant(context.Get(tenantId), "webhook", "deliveries"), cancellationToken);
            context.Out.Show(deliveries, d => context.Out.Table(
                [new Column("AT"), new Column("EVENT ID"), new Column("DELIVERED"), new Column("STATUS", RightAligned: true), new Column("MS", RightAligned: true), new Column("ERROR")],
                d.Items("data").Select(a => new[] { a.Time("at"), a.Text("eventId"), a.YesNo("delivered"), a.Text("statusCode"), a.Text("durationMs"), a.Text("error") })));
        });
    }

    private static Command Redeliver(AdminCli cli)
    {
        var tenantId = AdminCli.TenantArgument();
        var after = AdminCli.CursorOption("Send again every retained event after this cursor (0: from the oldest).", required: true);
        return cli.Command("redeliver", "Send a tenant's events again, in order, from a cursor (receivers de-duplicate by event id).", [tenantId, after], async (context, cancellationToken) =>
        {
            await context.Api.PostAsync(AdminApi.Tenant(context.Get(tenantId), "webhook", "redeliver"), new { after = context.Get(after) }, cancellationToken);
            context.Out.Note($"Redelivery of the events after cursor {context.Get(after)} started.");
        });
    }

    private static void WriteWebhook(Output output, JsonNode webhook) => output.Fields(
        ("URL", webhook.Text("url")),
        ("Created", webhook.Time("createdAt")),
        ("Delivered up to", "cursor " + webhook.Text("cursor")),
        ("Retrying event", webhook.Text("retrying")),
        ("Next attempt", webhook.Time("nextAttemptAt")),
        ("Parked events", webhook.Items("parked").Count().ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ("Never delivered (erased)", webhook.Items("expired").Sum(x => x["count"]?.GetValue<long>() ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture)));
}
