using System.Text.Json.Nodes;
using Cluster.TestInfrastructure;

namespace Cluster.Cli.Tests;

/// <summary>The operator CLI against the real gateway pipeline: every command an operator needs, no hand-made HTTP.</summary>
public sealed class ScimAdminCliTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    [Fact]
    public async Task CreateShowRotateAndRevokeATenantsTokens()
    {
        var created = await RunAsync("tenants", "create", "--name", "Fabrikam");
        Assert.Equal(0, created.ExitCode);
        var tenant = JsonNode.Parse(created.Stdout)!;
        var tenantId = tenant["tenantId"]!.GetValue<string>();
        Assert.StartsWith("scim_", tenant["token"]!["secret"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.EndsWith($"/scim/v2/tenants/{tenantId}", tenant["scimUrl"]!.GetValue<string>(), StringComparison.Ordinal);

        var issued = await RunAsync("tokens", "create", tenantId);
        Assert.Equal(0, issued.ExitCode);
        var secondTokenId = JsonNode.Parse(issued.Stdout)!["id"]!.GetValue<string>();

        var shown = await RunAsync("tenants", "show", tenantId);
        Assert.Equal(0, shown.ExitCode);
        Assert.DoesNotContain("scim_", shown.Stdout, StringComparison.Ordinal);
        var view = JsonNode.Parse(shown.Stdout)!;
        Assert.Equal("Fabrikam", view["name"]!.GetValue<string>());
        Assert.Equal(2, view["tokens"]!.AsArray().Count);
        Assert.Equal(0, view["userCount"]!.GetValue<int>());

        Assert.Equal(0, (await RunAsync("tokens", "revoke", tenantId, secondTokenId)).ExitCode);
        var afterRevoke = JsonNode.Parse((await RunAsync("tenants", "show", tenantId)).Stdout)!;
        Assert.Single(afterRevoke["tokens"]!.AsArray());

        var again = await RunAsync("tokens", "revoke", tenantId, secondTokenId);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("404", again.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongKeyAndBadUsageFailWithNonZeroExitCodes()
    {
        var wrongKey = await RunAsync(["--key", "not-the-operator-key", "tenants", "create", "--name", "X"], withKey: false);
        Assert.Equal(1, wrongKey.ExitCode);
        Assert.Contains("401", wrongKey.Stderr, StringComparison.Ordinal);

        var noKey = await RunAsync(["tenants", "show", "abc"], withKey: false);
        Assert.Equal(2, noKey.ExitCode);
        Assert.Contains("SCIM_ADMIN_KEY", noKey.Stderr, StringComparison.Ordinal);

        var usage = await RunAsync("tenants", "frobnicate");
        Assert.Equal(2, usage.ExitCode);
        Assert.Contains("Usage:", usage.Stderr, StringComparison.Ordinal);
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args) => RunAsync(args, withKey: true);

    private async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string[] args, bool withKey)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        string[] prefix = withKey ? ["--url", gateway.Server.BaseAddress.ToString(), "--key", GatewayFactory.AdminKey] : ["--url", gateway.Server.BaseAddress.ToString()];
        var exit = await Program.RunAsync([.. prefix, .. args], gateway.Server.CreateHandler(), stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
