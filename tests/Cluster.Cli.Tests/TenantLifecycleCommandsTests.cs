using System.Net;
using Cluster.TestInfrastructure;

namespace Cluster.Cli.Tests;

/// <summary>
/// <c>tenants list|rename|suspend|resume|delete</c> and <c>oauth-clients …</c> against the real gateway pipeline: each command's
/// effect is checked through the API or the tenant's SCIM endpoint, not through the CLI's own output alone.
/// </summary>
[Collection(CliCollection.Name)]
public sealed class TenantLifecycleCommandsTests(GatewayFactory gateway)
{
    private readonly ScimAdmin _cli = new(gateway);

    [Fact]
    public async Task ListRenameSuspendResumeAndDeleteATenant()
    {
        var prefix = "Lifecycle " + Guid.NewGuid().ToString("N")[..8];
        var tenant = await _cli.JsonAsync("tenants", "create", "--name", prefix + " Contoso");
        var tenantId = tenant["tenantId"]!.GetValue<string>();
        var secret = tenant["token"]!["secret"]!.GetValue<string>();
        var scimTenant = new TestTenant(tenantId, tenant["scimUrl"]!.GetValue<string>(), "", secret);
        await _cli.JsonAsync("tenants", "create", "--name", prefix + " Fabrikam");

        // list: by name prefix, a page at a time with the cursor the table prints.
        var first = await _cli.TableAsync("tenants", "list", "--prefix", prefix, "--limit", "1");
        Assert.Matches(@"TENANT ID\s+NAME\s+USERS\s+GROUPS\s+LAST REQUEST\s+SUSPENDED", first);
        Assert.Contains(prefix + " Contoso", first, StringComparison.Ordinal);
        var cursor = (await _cli.JsonAsync("tenants", "list", "--prefix", prefix, "--limit", "1"))["nextCursor"]!.GetValue<string>();
        Assert.Contains($"--after {cursor}", first, StringComparison.Ordinal);
        var second = await _cli.JsonAsync("tenants", "list", "--prefix", prefix, "--limit", "1", "--after", cursor);
        Assert.Equal(prefix + " Fabrikam", Assert.Single(second["data"]!.AsArray())!["name"]!.GetValue<string>());

        // rename
        Assert.Contains($"renamed to '{prefix} Contoso Ltd'", await _cli.TableAsync("tenants", "rename", tenantId, "--name", prefix + " Contoso Ltd"), StringComparison.Ordinal);
        Assert.Equal(prefix + " Contoso Ltd", (await _cli.JsonAsync("tenants", "show", tenantId))["name"]!.GetValue<string>());

        // suspend: SCIM is refused; resume: it works again (this gateway drops its cached credentials at once).
        Assert.Contains("suspended", await _cli.TableAsync("tenants", "suspend", tenantId), StringComparison.Ordinal);
        Assert.Matches(@"Suspended\s+yes", await _cli.TableAsync("tenants", "show", tenantId));
        Assert.Equal(HttpStatusCode.Forbidden, await ScimStatusAsync(scimTenant));
        Assert.Contains("resumed", await _cli.TableAsync("tenants", "resume", tenantId), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await ScimStatusAsync(scimTenant));

        // delete: refused without the confirmation, then accepted; the token stops at once.
        var unconfirmed = await _cli.RunAsync("tenants", "delete", tenantId, "--confirm", "someone-else");
        Assert.Equal(2, unconfirmed.ExitCode);
        Assert.Contains("--confirm must repeat the tenant id exactly.", unconfirmed.Stderr, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await ScimStatusAsync(scimTenant));
        var deleted = await _cli.TableAsync("tenants", "delete", tenantId, "--confirm", tenantId);
        Assert.Contains("Deletion of tenant", deleted, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, await ScimStatusAsync(scimTenant));
    }

    [Fact]
    public async Task OAuthClientsAreCreatedListedRotatedAndRevoked()
    {
        var tenant = await _cli.JsonAsync("tenants", "create", "--name", "OAuth via CLI");
        var tenantId = tenant["tenantId"]!.GetValue<string>();

        var created = await _cli.TableAsync("oauth-clients", "create", tenantId);
        Assert.Matches(@"Client id\s+scimc_", created);
        Assert.Matches(@"Client secret\s+scimcs_", created);
        Assert.Matches(@"Token endpoint\s+http", created);
        Assert.Contains("shown only this once", created, StringComparison.Ordinal);
        var clientId = Assert.Single(Words(created), w => w.StartsWith("scimc_", StringComparison.Ordinal));
        var firstSecret = Assert.Single(Words(created), w => w.StartsWith("scimcs_", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, await TokenStatusAsync(clientId, firstSecret));

        // Rotation: a second secret with a chosen lifetime, then the first revoked; the list shows ids, never secrets.
        var added = await _cli.JsonAsync("oauth-clients", "add-secret", tenantId, clientId, "--expires-in-days", "30");
        var secondSecret = added["clientSecret"]!.GetValue<string>();
        Assert.InRange(added["expiresAt"]!.GetValue<DateTimeOffset>() - DateTimeOffset.UtcNow, TimeSpan.FromDays(29), TimeSpan.FromDays(31));
        var list = await _cli.JsonAsync("oauth-clients", "list", tenantId);
        var secrets = Assert.Single(list["clients"]!.AsArray())!["secrets"]!.AsArray().Select(s => s!["secretId"]!.GetValue<string>()).ToList();
        Assert.Equal(2, secrets.Count);
        var table = await _cli.TableAsync("oauth-clients", "list", tenantId);
        Assert.DoesNotContain("scimcs_", table, StringComparison.Ordinal);
        Assert.All(secrets, id => Assert.Contains(id, table, StringComparison.Ordinal));
        var firstSecretId = secrets.Single(id => id != added["secretId"]!.GetValue<string>());
        Assert.Contains("revoked", await _cli.TableAsync("oauth-clients", "revoke-secret", tenantId, clientId, firstSecretId), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, await TokenStatusAsync(clientId, firstSecret));
        Assert.Equal(HttpStatusCode.OK, await TokenStatusAsync(clientId, secondSecret));

        // A lifetime the API refuses is its 400, exit code 1; revoking the client stops the second secret too.
        var tooLong = await _cli.RunAsync("oauth-clients", "add-secret", tenantId, clientId, "--expires-in-days", "5000");
        Assert.Equal(1, tooLong.ExitCode);
        Assert.Contains("400", tooLong.Stderr, StringComparison.Ordinal);
        Assert.Contains($"OAuth client {clientId} revoked.", await _cli.TableAsync("oauth-clients", "revoke", tenantId, clientId), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, await TokenStatusAsync(clientId, secondSecret));
        Assert.Empty((await _cli.JsonAsync("oauth-clients", "list", tenantId))["clients"]!.AsArray());
    }

    private async Task<HttpStatusCode> ScimStatusAsync(TestTenant tenant)
    {
        using var scim = gateway.ScimClient(tenant);
        using var response = await scim.GetAsync("Users");
        return response.StatusCode;
    }

    private async Task<HttpStatusCode> TokenStatusAsync(string clientId, string secret)
    {
        using var http = gateway.CreateClient();
        using var response = await http.PostAsync("/oauth2/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = clientId,
            ["client_secret"] = secret,
        }));
        return response.StatusCode;
    }

    private static IEnumerable<string> Words(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
}
