using System.CommandLine;

namespace Cluster.Cli.Commands;

/// <summary>
/// <c>tenants create|show</c>: a tenant and its provisioning information (Tenant URL and Secret Token); the lifecycle commands
/// (<c>list|rename|suspend|resume|delete</c>) are in <see cref="TenantLifecycleCommands"/>.
/// </summary>
internal static class TenantCommands
{
    public static Command Create(AdminCli cli)
    {
        var command = new Command("tenants", "Create, list, inspect, rename, suspend, resume and delete tenants.")
        {
            CreateTenant(cli),
            Show(cli),
        };
        foreach (var lifecycle in TenantLifecycleCommands.Create(cli))
        {
            command.Subcommands.Add(lifecycle);
        }

        return command;
    }

    private static Command CreateTenant(AdminCli cli)
    {
        var name = new Option<string>("--name") { Description = "The tenant's display name (1 to 200 characters).", HelpName = "NAME", Required = true };
        return cli.Command("create", "Create a tenant: prints its Tenant URL and its first Secret Token (shown once).", [name], async (context, cancellationToken) =>
        {
            var created = await context.Api.PostAsync("admin/tenants", new { name = context.Get(name) }, cancellationToken);
            context.Out.Show(created, tenant =>
            {
                context.Out.Note($"Tenant '{tenant.Text("name")}' created. Paste these into Entra's Provisioning blade (Admin Credentials):");
                context.Out.Note();
                context.Out.Fields(
                    ("Tenant URL", tenant.Text("scimUrl")),
                    ("Secret Token", tenant["token"].Text("secret")));
                context.Out.Note();
                context.Out.Fields(
                    ("Tenant id", tenant.Text("tenantId")),
                    ("Token id", tenant["token"].Text("id")));
                SecretWarning(context.Out, $"issue a new one with '{AdminCli.Name} tokens create {tenant.Text("tenantId")}'");
            });
        });
    }

    private static Command Show(AdminCli cli)
    {
        var tenantId = AdminCli.TenantArgument();
        return cli.Command("show", "Show a tenant: name, Tenant URL, suspension, counts, last request and token ids (never secrets); while it is deleted, the progress.", [tenantId], async (context, cancellationToken) =>
        {
            var view = await context.Api.GetAsync(AdminApi.Tenant(context.Get(tenantId)), cancellationToken);
            context.Out.Show(view, tenant =>
            {
                if (tenant["deleting"] is { } deleting)
                {
                    context.Out.Fields(
                        ("Tenant id", tenant.Text("tenantId")),
                        ("Name", tenant.Text("name")),
                        ("Deleting since", deleting.Time("startedAt")),
                        ("Phase", deleting.Text("phase")),
                        ("Rows erased", deleting.Text("rowsErased")));
                    return;
                }

                context.Out.Fields(
                    ("Tenant id", tenant.Text("tenantId")),
                    ("Name", tenant.Text("name")),
                    ("Created", tenant.Time("createdAt")),
                    ("Tenant URL", tenant.Text("scimUrl")),
                    ("Suspended", tenant.YesNo("suspended")),
                    ("Users", tenant.Text("userCount")),
                    ("Groups", tenant.Text("groupCount")),
                    ("Last request", tenant.Time("lastRequestAt") ?? "never"));
                context.Out.Note();
                context.Out.Table(
                    [new Column("TOKEN ID"), new Column("CREATED")],
                    tenant.Items("tokens").Select(t => new[] { t.Text("id"), t.Time("createdAt") }));
            });
        });
    }

    /// <summary>The warning under every secret the API hands out once.</summary>
    internal static void SecretWarning(Output output, string remedy)
    {
        output.Note();
        output.Note("WARNING: the secret is shown only this once and cannot be shown again. Store it now;");
        output.Note($"if it is lost, {remedy}.");
    }
}
