using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Cluster.Cli.Commands;

/// <summary><c>requests TENANT_ID</c>: a tenant's provisioning log (issue 14), newest first, and its connection status.</summary>
internal static class RequestCommands
{
    private static readonly string[] Outcomes = ["success", "error", "2xx", "3xx", "4xx", "5xx"];

    private static readonly Column[] RequestColumns =
    [
        new("SEQUENCE", RightAligned: true),
        new("TIME"),
        new("OPERATION"),
        new("STATUS", RightAligned: true),
        new("MS", RightAligned: true),
        new("RESOURCE"),
        new("NAME"),
        new("ERROR"),
    ];

    public static Command Create(AdminCli cli)
    {
        var tenantId = AdminCli.TenantArgument();
        var after = AdminCli.CursorOption("Continue with the entries older than this cursor (a 'nextCursor'; default: the newest).");
        var limit = AdminCli.NumberOption("--limit", "N", "Entries in the page.", 50, "a whole number from 1 to 200", n => n is >= 1 and <= 200);
        var outcome = new Option<string>("--outcome")
        {
            Description = "Only requests with this outcome: success (below 400), error (400 and above), or a status class.",
            HelpName = "OUTCOME",
        };
        outcome.AcceptOnlyFromAmong(Outcomes);
        var resource = new Option<string>("--resource") { Description = "Only requests about this user or group id.", HelpName = "ID" };
        return cli.Command(
            "requests",
            "Show a tenant's provisioning log: its recent SCIM requests, newest first (no bodies, tokens or attribute values; one name per resource). The first page also shows the tenant's connection status.",
            [tenantId, after, limit, outcome, resource],
            async (context, cancellationToken) =>
            {
                var tenant = context.Get(tenantId);
                var path = AdminApi.WithQuery(
                    AdminApi.Tenant(tenant, "requests"),
                    ("after", context.Get(after)),
                    ("limit", context.Get(limit).ToString(CultureInfo.InvariantCulture)),
                    ("outcome", context.Get(outcome)),
                    ("resourceId", context.Get(resource)));
                var page = await context.Api.GetAsync(path, cancellationToken);
                if (!context.Out.IsJson && context.Get(after) is null)
                {
                    ShowStatus(context, await context.Api.GetAsync(AdminApi.Tenant(tenant, "status"), cancellationToken));
                }

                context.Out.Show(page, p =>
                {
                    context.Out.Table(RequestColumns, p.Items("data").Select(RequestRow));
                    context.Out.Note();
                    context.Out.Note(p["hasMore"]?.GetValue<bool>() == true
                        ? $"Older entries: add --after {p.Text("nextCursor")}"
                        : "No older entries.");
                });
            });
    }

    private static void ShowStatus(CommandContext context, JsonNode? status)
    {
        if (status is null)
        {
            return;
        }

        var error = status["lastError"];
        context.Out.Fields(
            ("Connected", status.YesNo("connected")),
            ("Last request", status.Time("lastRequestAt") ?? "never"),
            ("Last Test Connection", status.Time("lastTestConnectionAt") ?? "never"),
            ("Last error", error is null ? "none" : $"{error.Time("at")} {error.Text("status")} {Error(error)}".TrimEnd()),
            ("Users", $"{status["users"].Text("total")} ({status["users"].Text("active")} active, {status["users"].Text("disabled")} disabled)"),
            ("Groups", status["groups"].Text("total")));
        context.Out.Note();
    }

    private static string?[] RequestRow(JsonNode e) =>
    [
        e.Text("sequence"),
        e.Time("at"),
        e.YesNo("testConnection") == "yes" ? $"{e.Text("operation")} (Test Connection)" : e.Text("operation"),
        e.Text("status"),
        e.Text("durationMs"),
        e.Text("resourceType") is { } type ? $"{type}/{e.Text("resourceId") ?? "-"}" : null,
        e.Text("name"),
        Error(e),
    ];

    private static string Error(JsonNode e) => string.Join(": ", new[] { e.Text("scimType"), e.Text("detail") }.Where(t => t is not null));
}
