using System.CommandLine;
using System.Globalization;

namespace Cluster.Cli.Commands;

/// <summary>
/// The lifecycle half of <c>tenants</c> (issue 13): <c>list</c> by name with a cursor, <c>rename</c>, <c>suspend</c> and
/// <c>resume</c> (PATCH), and <c>delete</c> (offboarding: 202, then <c>tenants show</c> follows its progress).
/// </summary>
internal static class TenantLifecycleCommands
{
    public static IEnumerable<Command> Create(AdminCli cli) => [List(cli), Rename(cli), Suspend(cli, true), Suspend(cli, false), Delete(cli)];

    private static Command List(AdminCli cli)
    {
        var after = new Option<string>("--after") { Description = "Start after this cursor (a 'nextCursor' of an earlier page).", HelpName = "CURSOR" };
        var limit = AdminCli.NumberOption("--limit", "N", "Tenants in the page.", 50, "a whole number from 1 to 200", n => n is >= 1 and <= 200);
        var prefix = new Option<string>("--prefix") { Description = "Only tenants whose name starts with this (case and accents as Entra compares names).", HelpName = "NAME" };
        return cli.Command("list", "List tenants by name: id, name, users, groups, last request, suspended.", [after, limit, prefix], async (context, cancellationToken) =>
        {
            var path = AdminApi.WithQuery(
                "admin/tenants",
                ("after", context.Get(after)),
                ("limit", context.Get(limit).ToString(CultureInfo.InvariantCulture)),
                ("q", context.Get(prefix)));
            var page = await context.Api.GetAsync(path, cancellationToken);
            context.Out.Show(page, p =>
            {
                context.Out.Table(
                    [new Column("TENANT ID"), new Column("NAME"), new Column("USERS", RightAligned: true), new Column("GROUPS", RightAligned: true), new Column("LAST REQUEST"), new Column("SUSPENDED")],
                    p.Items("data").Select(t => new[] { t.Text("tenantId"), t.Text("name"), t.Text("userCount"), t.Text("groupCount"), t.Time("lastRequestAt") ?? "never", t.YesNo("suspended") }));
                if (p.Text("nextCursor") is { } next)
                {
                    context.Out.Note();
                    context.Out.Note($"More tenants: add --after {next}");
                }
            });
        });
    }

    private static Command Rename(AdminCli cli)
    {
        var tenantId = AdminCli.TenantArgument();
        var name = new Option<string>("--name") { Description = "The new display name (1 to 200 characters).", HelpName = "NAME", Required = true };
        return cli.Command("rename", "Rename a tenant (its id, Tenant URL and tokens stay).", [tenantId, name], async (context, cancellationToken) =>
        {
            var view = await context.Api.PatchAsync(AdminApi.Tenant(context.Get(tenantId)), new { name = context.Get(name) }, cancellationToken);
            context.Out.Show(view, t => context.Out.Note($"Tenant {t.Text("tenantId")} renamed to '{t.Text("name")}'."));
        });
    }

    private static Command Suspend(AdminCli cli, bool suspend)
    {
        var tenantId = AdminCli.TenantArgument();
        return cli.Command(
            suspend ? "suspend" : "resume",
            suspend
                ? "Suspend a tenant: its SCIM requests are refused (403) on every gateway within seconds; nothing is deleted."
                : "Resume a suspended tenant: its tokens and OAuth clients work again.",
            [tenantId],
            async (context, cancellationToken) =>
            {
                var view = await context.Api.PatchAsync(AdminApi.Tenant(context.Get(tenantId)), new { suspended = suspend }, cancellationToken);
                context.Out.Show(view, t => context.Out.Note($"Tenant {t.Text("tenantId")} {(suspend ? "suspended" : "resumed")}."));
            });
    }

    private static Command Delete(AdminCli cli)
    {
        var tenantId = AdminCli.TenantArgument();
        var confirm = new Option<string>("--confirm")
        {
            Description = "The tenant's id again: deletion erases every user, group, event and credential of the tenant and cannot be undone.",
            HelpName = "TENANT_ID",
            Required = true,
        };
        var command = cli.Command("delete", "Offboard a tenant: its credentials stop at once, then all its data is erased ('tenants show' follows the progress).", [tenantId, confirm], async (context, cancellationToken) =>
        {
            var view = await context.Api.DeleteAsync(AdminApi.Tenant(context.Get(tenantId)), cancellationToken);
            context.Out.Show(view, t =>
            {
                context.Out.Note($"Deletion of tenant {t.Text("tenantId")} ('{t.Text("name")}') accepted: its credentials are refused from now on.");
                context.Out.Note($"Its data is being erased; follow with '{AdminCli.Name} tenants show {t.Text("tenantId")}' until it is not found.");
            });
        });
        command.Validators.Add(result =>
        {
            if (result.GetValue(confirm) is { } given && given != result.GetValue(tenantId))
            {
                result.AddError("--confirm must repeat the tenant id exactly.");
            }
        });
        return command;
    }
}
