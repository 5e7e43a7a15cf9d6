using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Cluster.Cli.Commands;

/// <summary><c>events list|tail</c>: a tenant's event feed (issue 12), read with cursors.</summary>
internal static class EventCommands
{
    /// <summary>Events per request while <c>tail</c> catches up (the API's maximum).</summary>
    private const int TailPageSize = 1000;

    /// <summary>The first wait of <c>tail</c> before it retries a failed poll (unless --interval is longer), and the longest.</summary>
    private static readonly TimeSpan MinRetryWait = TimeSpan.FromSeconds(1), MaxRetryWait = TimeSpan.FromSeconds(30);

    /// <summary>The event table: sequence, time, type, resource, what changed. Minimum widths keep a followed stream aligned.</summary>
    private static readonly Column[] EventColumns =
    [
        new("SEQUENCE", RightAligned: true, MinWidth: 8),
        new("TIME", MinWidth: 24),
        new("TYPE", MinWidth: 20),
        new("RESOURCE", MinWidth: 38),
        new("CHANGED"),
    ];

    public static Command Create(AdminCli cli) => new("events", "Read a tenant's event feed: every effective change of its users and groups, in order.")
    {
        List(cli),
        Tail(cli),
    };

    private static Command List(AdminCli cli)
    {
        var tenantId = AdminCli.TenantArgument();
        var after = AdminCli.CursorOption("Start after this cursor (a 'nextCursor'; default: the oldest retained event).");
        var limit = AdminCli.NumberOption("--limit", "N", "Events in the page.", 100, "a whole number from 1 to 1000", n => n is >= 1 and <= 1000);
        return cli.Command("list", "List one page of a tenant's events, and the cursor to read on from.", [tenantId, after, limit], async (context, cancellationToken) =>
        {
            var path = AdminApi.WithQuery(
                AdminApi.Tenant(context.Get(tenantId), "events"),
                ("after", context.Get(after)),
                ("limit", context.Get(limit).ToString(CultureInfo.InvariantCulture)));
            var page = await context.Api.GetAsync(path, cancellationToken);
            context.Out.Show(page, p =>
            {
                context.Out.Table(EventColumns, p.Items("data").Select(EventRow));
                context.Out.Note();
                context.Out.Note($"Next cursor: {p.Text("nextCursor")}" + (p["hasMore"]?.GetValue<bool>() == true ? $" (more events: add --after {p.Text("nextCursor")})" : " (no more events yet)"));
            });
        });
    }

    private static Command Tail(AdminCli cli)
    {
        var tenantId = AdminCli.TenantArgument();
        var after = AdminCli.CursorOption("Start after this cursor (default: the oldest retained event).");
        var interval = AdminCli.NumberOption("--interval", "SECONDS", "Seconds between polls once caught up.", 2.0, "more than 0 and at most 3600 seconds", s => s is > 0 and <= 3600);
        return cli.Command("tail", "Follow a tenant's events: read every page, then poll for new ones until Ctrl-C. With --json: one event per line (NDJSON).", [tenantId, after, interval], async (context, cancellationToken) =>
        {
            var tenant = context.Get(tenantId);
            var cursor = context.Get(after);
            await context.Error.WriteLineAsync($"Following the events of tenant {tenant}; Ctrl-C stops.");
            var wait = TimeSpan.FromSeconds(context.Get(interval));
            var firstRetry = TimeSpan.FromTicks(Math.Max(wait.Ticks, MinRetryWait.Ticks));
            var retry = firstRetry;
            try
            {
                for (var first = true; ; )
                {
                    var path = AdminApi.WithQuery(AdminApi.Tenant(tenant, "events"), ("after", cursor), ("limit", TailPageSize.ToString(CultureInfo.InvariantCulture)));
                    JsonNode? page;
                    try
                    {
                        page = await context.Api.GetAsync(path, cancellationToken);
                    }
                    catch (CommandFailedException e) when (e.Transient)
                    {
                        // A gateway restarting, a failover, a limit: the feed keeps every event, so wait and ask again from
                        // the same cursor (backing off up to MaxRetryWait). Any other failure (404, 410, 401) ends the command.
                        await context.Error.WriteLineAsync($"{e.Message} Trying again in {retry.TotalSeconds:0.##} s; Ctrl-C stops.");
                        await Task.Delay(retry, cancellationToken);
                        retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, Math.Max(wait.Ticks, MaxRetryWait.Ticks)));
                        continue;
                    }

                    retry = firstRetry;
                    context.Out.Rows(page.Items("data"), EventColumns, EventRow, header: first);
                    first = false;
                    cursor = page.Text("nextCursor") ?? cursor;
                    if (page?["hasMore"]?.GetValue<bool>() != true)
                    {
                        await Task.Delay(wait, cancellationToken);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await context.Error.WriteLineAsync(cursor is null ? "Stopped." : $"Stopped. To go on from here: --after {cursor}");
            }
            catch (CommandFailedException e) when (cursor is not null && e.Status is not (400 or 404 or 410))
            {
                // A poll refused for good ends the command. Where the cursor itself is still good (a rotated admin key: 401),
                // say where it had got to, then the failure; a cursor the feed refused (410 expired, 400 past the end) or a
                // tenant that is gone (404) has nowhere to go on from, and the failure's detail says what to do instead.
                await context.Error.WriteLineAsync($"To go on from here: --after {cursor}");
                throw;
            }
        });
    }

    private static string?[] EventRow(JsonNode e) =>
    [
        e.Text("sequence"),
        e.Time("occurredAt"),
        e.Text("type"),
        $"{e.Text("resourceType")}/{e.Text("resourceId")}",
        e["changed"] is JsonArray changed
            ? string.Join(", ", changed.Select(c => c?.ToString()))
            : e.Text("type") is { } type && type.StartsWith("group.member_", StringComparison.Ordinal) ? $"member {e["data"].Text("memberType")}/{e["data"].Text("memberId")}" : null,
    ];
}
