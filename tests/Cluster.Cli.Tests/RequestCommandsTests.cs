using System.Net;
using System.Text;
using Cluster.Gateway.RequestLog;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Cli.Tests;

/// <summary><c>requests</c>: a tenant's provisioning log (issue 14) after Entra-like traffic, as a table or the API's JSON, paged and filtered.</summary>
[Collection(CliCollection.Name)]
public sealed class RequestCommandsTests(GatewayFactory gateway)
{
    private readonly ScimAdmin _cli = new(gateway);

    [Fact]
    public async Task RequestsShowsTheLogNewestFirstWithTheStatusPagesAndFilters()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        using (var probe = await scim.GetAsync($"Users?filter=userName+eq+%22{Guid.NewGuid()}%22"))
        {
            Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        }

        var ada = await ScimAdmin.CreateUserAsync(scim, "ada@requests.test");
        using (var duplicate = await scim.PostAsync("Users", new StringContent(EntraPayloads.MinimalUser("ada@requests.test"), Encoding.UTF8, "application/scim+json")))
        {
            Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        }

        using (var disable = await scim.PatchAsync($"Users/{ada}", new StringContent(EntraPayloads.SetActive("Replace", "\"False\""), Encoding.UTF8, "application/scim+json")))
        {
            Assert.Equal(HttpStatusCode.OK, disable.StatusCode);
        }

        await gateway.Services.GetRequiredService<RequestLogWriter>().FlushAsync();

        var all = await _cli.JsonAsync("requests", tenant.TenantId);
        Assert.Equal(["disable", "create", "create", "lookup"], all["data"]!.AsArray().Select(e => e!["operation"]!.GetValue<string>()));
        Assert.False(all["hasMore"]!.GetValue<bool>());

        var table = await _cli.TableAsync("requests", tenant.TenantId);
        var lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Matches(@"^Connected\s+yes$", lines[0]);
        Assert.Contains(lines, l => l.StartsWith("Last error", StringComparison.Ordinal) && l.Contains("409 uniqueness", StringComparison.Ordinal));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^Users\s+1 \(0 active, 1 disabled\)$"));
        var header = Array.FindIndex(lines, l => l.StartsWith("SEQUENCE", StringComparison.Ordinal));
        Assert.Matches(@"^SEQUENCE\s+TIME\s+OPERATION\s+STATUS\s+MS\s+RESOURCE\s+NAME\s+ERROR$", lines[header]);
        Assert.Matches($@"^4\s+\S+ \S+\s+disable\s+200\s+\S+\s+User/{ada}\s+ada@requests\.test$", lines[header + 1]);
        Assert.Matches(@"^3\s+\S+ \S+\s+create\s+409\s+\S+\s+User/-\s+uniqueness: A user with this userName already exists in this tenant\.$", lines[header + 2]);
        Assert.Matches(@"^1\s+\S+ \S+\s+lookup \(Test Connection\)\s+200\s+\S+\s+User/-$", lines[header + 4]);
        Assert.Contains("No older entries.", table, StringComparison.Ordinal);

        var first = await _cli.TableAsync("requests", tenant.TenantId, "--limit", "3");
        Assert.Contains("Older entries: add --after 2", first, StringComparison.Ordinal);
        var rest = await _cli.JsonAsync("requests", tenant.TenantId, "--after", "2");
        Assert.Equal(1, Assert.Single(rest["data"]!.AsArray())!["sequence"]!.GetValue<long>());
        var continued = await _cli.TableAsync("requests", tenant.TenantId, "--after", "2");
        Assert.DoesNotContain("Connected", continued, StringComparison.Ordinal);

        var errors = await _cli.JsonAsync("requests", tenant.TenantId, "--outcome", "error");
        Assert.Equal(409, Assert.Single(errors["data"]!.AsArray())!["status"]!.GetValue<int>());
        var adas = await _cli.JsonAsync("requests", tenant.TenantId, "--resource", ada);
        Assert.Equal(["disable", "create"], adas["data"]!.AsArray().Select(e => e!["operation"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("--outcome", "fine", "fine")]
    [InlineData("--limit", "0", "--limit must be a whole number from 1 to 200")]
    [InlineData("--limit", "201", "--limit must be a whole number from 1 to 200")]
    [InlineData("--after", "x", "--after must be a cursor")]
    public async Task BadOptionsAreUsageErrors(string option, string value, string message)
    {
        var result = await _cli.RunAsync("requests", "0123456789abcdef0123456789abcdef", option, value);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABadResourceIdOrAnUnknownTenantIsAnApiError()
    {
        var tenant = await gateway.CreateTenantAsync();
        var bad = await _cli.RunAsync("requests", tenant.TenantId, "--resource", "not an id");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("400", bad.Stderr, StringComparison.Ordinal);
        var unknown = await _cli.RunAsync("requests", "0123456789abcdef0123456789abcdef");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("404", unknown.Stderr, StringComparison.Ordinal);
    }
}
