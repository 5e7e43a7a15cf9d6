using System.CommandLine;

namespace Cluster.Cli.Commands;

/// <summary><c>tokens create|revoke</c>: rotate a tenant's Secret Tokens.</summary>
internal static class TokenCommands
{
    public static Command Create(AdminCli cli) => new("tokens", "Issue and revoke a tenant's Secret Tokens (rotation: older tokens stay valid until revoked).")
    {
        Issue(cli),
        Revoke(cli),
    };

    private static Command Issue(AdminCli cli)
    {
        var tenantId = AdminCli.TenantArgument();
        return cli.Command("create", "Issue another Secret Token for a tenant (shown once; at most 10 per tenant).", [tenantId], async (context, cancellationToken) =>
        {
            var token = await context.Api.PostAsync(AdminApi.Tenant(context.Get(tenantId), "tokens"), null, cancellationToken);
            context.Out.Show(token, t =>
            {
                context.Out.Fields(
                    ("Secret Token", t.Text("secret")),
                    ("Token id", t.Text("id")),
                    ("Created", t.Time("createdAt")));
                TenantCommands.SecretWarning(context.Out, "revoke this token and issue another");
            });
        });
    }

    private static Command Revoke(AdminCli cli)
    {
        var tenantId = AdminCli.TenantArgument();
        var tokenId = new Argument<string>("token-id") { Description = "The token's id (from 'tenants show')." };
        return cli.Command("revoke", "Revoke a tenant's token: it fails on every gateway within seconds.", [tenantId, tokenId], async (context, cancellationToken) =>
        {
            await context.Api.DeleteAsync(AdminApi.Tenant(context.Get(tenantId), "tokens", context.Get(tokenId)), cancellationToken);
            context.Out.Note($"Token {context.Get(tokenId)} revoked.");
        });
    }
}
