using System.CommandLine;
using System.Text.Json.Nodes;

namespace Cluster.Cli.Commands;

/// <summary>
/// <c>oauth-clients list|create|add-secret|revoke-secret|revoke</c>: a tenant's OAuth 2.0 clients (client credentials, which
/// Entra's app gallery uses), and rotation of their secrets (add a secret, move Entra to it, revoke the old one).
/// </summary>
internal static class OAuthClientCommands
{
    public static Command Create(AdminCli cli) => new("oauth-clients", "Manage a tenant's OAuth 2.0 clients (client credentials) and rotate their secrets.")
    {
        List(cli),
        CreateClient(cli),
        AddSecret(cli),
        RevokeSecret(cli),
        Revoke(cli),
    };

    private static Command List(AdminCli cli)
    {
        var tenantId = AdminCli.TenantArgument();
        return cli.Command("list", "List a tenant's OAuth clients and their secrets' ids and expiry (never the secrets).", [tenantId], async (context, cancellationToken) =>
        {
            var list = await context.Api.GetAsync(AdminApi.Tenant(context.Get(tenantId), "oauth-clients"), cancellationToken);
            context.Out.Show(list, l =>
            {
                context.Out.Fields(("Token endpoint", l.Text("tokenEndpoint")));
                context.Out.Note();
                context.Out.Table(
                    [new Column("CLIENT ID"), new Column("SECRET ID"), new Column("CREATED"), new Column("EXPIRES")],
                    l.Items("clients").SelectMany(c => c.Items("secrets").DefaultIfEmpty().Select(s => new[]
                    {
                        c.Text("clientId"),
                        s.Text("secretId"),
                        (s ?? c).Time("createdAt"),
                        s.Time("expiresAt"),
                    })));
            });
        });
    }

    private static Command CreateClient(AdminCli cli)
    {
        var tenantId = AdminCli.TenantArgument();
        var expires = ExpiresOption();
        return cli.Command("create", "Create an OAuth client: prints its client id, its first secret (shown once) and the token endpoint.", [tenantId, expires], async (context, cancellationToken) =>
        {
            var created = await context.Api.PostAsync(AdminApi.Tenant(context.Get(tenantId), "oauth-clients"), Body(context.Get(expires)), cancellationToken);
            ShowSecret(context, created, $"add another with '{AdminCli.Name} oauth-clients add-secret {context.Get(tenantId)} CLIENT_ID'");
        });
    }

    private static Command AddSecret(AdminCli cli)
    {
        var tenantId = AdminCli.TenantArgument();
        var clientId = ClientArgument();
        var expires = ExpiresOption();
        return cli.Command("add-secret", "Add a secret to an OAuth client (rotation: the older secrets stay valid until revoked; at most 5).", [tenantId, clientId, expires], async (context, cancellationToken) =>
        {
            var created = await context.Api.PostAsync(AdminApi.Tenant(context.Get(tenantId), "oauth-clients", context.Get(clientId), "secrets"), Body(context.Get(expires)), cancellationToken);
            ShowSecret(context, created, "revoke this secret and add another");
        });
    }

    private static Command RevokeSecret(AdminCli cli)
    {
        var tenantId = AdminCli.TenantArgument();
        var clientId = ClientArgument();
        var secretId = new Argument<string>("secret-id") { Description = "The secret's id (from 'oauth-clients list')." };
        return cli.Command("revoke-secret", "Revoke one secret of an OAuth client: it obtains no more access tokens.", [tenantId, clientId, secretId], async (context, cancellationToken) =>
        {
            await context.Api.DeleteAsync(AdminApi.Tenant(context.Get(tenantId), "oauth-clients", context.Get(clientId), "secrets", context.Get(secretId)), cancellationToken);
            context.Out.Note($"Secret {context.Get(secretId)} of client {context.Get(clientId)} revoked.");
        });
    }

    private static Command Revoke(AdminCli cli)
    {
        var tenantId = AdminCli.TenantArgument();
        var clientId = ClientArgument();
        return cli.Command("revoke", "Revoke an OAuth client: its secrets and the access tokens it holds stop working.", [tenantId, clientId], async (context, cancellationToken) =>
        {
            await context.Api.DeleteAsync(AdminApi.Tenant(context.Get(tenantId), "oauth-clients", context.Get(clientId)), cancellationToken);
            context.Out.Note($"OAuth client {context.Get(clientId)} revoked.");
        });
    }

    private static Argument<string> ClientArgument() => new("client-id") { Description = "The OAuth client's id (scimc_…, from 'oauth-clients list')." };

    private static Option<int?> ExpiresOption() => new("--expires-in-days")
    {
        Description = "Days until the secret expires: 1 to 1095 (default 365).",
        HelpName = "DAYS",
    };

    private static object Body(int? expiresInDays) => expiresInDays is { } days ? new { expiresInDays = days } : new { };

    private static void ShowSecret(CommandContext context, JsonNode? created, string remedy) =>
        context.Out.Show(created, c =>
        {
            context.Out.Note("Paste these into Entra's Provisioning blade (Authentication method: OAuth2 client credentials grant):");
            context.Out.Note();
            context.Out.Fields(
                ("Tenant URL", c.Text("scimUrl")),
                ("Token endpoint", c.Text("tokenEndpoint")),
                ("Client id", c.Text("clientId")),
                ("Client secret", c.Text("clientSecret")));
            context.Out.Note();
            context.Out.Fields(
                ("Secret id", c.Text("secretId")),
                ("Expires", c.Time("expiresAt")));
            TenantCommands.SecretWarning(context.Out, remedy);
        });
}
