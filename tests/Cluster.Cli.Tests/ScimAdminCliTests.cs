using System.Net;
using System.Text.Json.Nodes;
using Cluster.TestInfrastructure;

namespace Cluster.Cli.Tests;

/// <summary>The operator CLI against the real gateway pipeline: tenants and tokens, help, usage errors, keys and API errors.</summary>
[Collection(CliCollection.Name)]
public sealed class ScimAdminCliTests(GatewayFactory gateway)
{
    private readonly ScimAdmin _cli = new(gateway);

    [Fact]
    public async Task CreateShowRotateAndRevokeATenantsTokens()
    {
        var tenant = await _cli.JsonAsync("tenants", "create", "--name", "Fabrikam");
        var tenantId = tenant["tenantId"]!.GetValue<string>();
        Assert.StartsWith("scim_", tenant["token"]!["secret"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.EndsWith($"/scim/v2/tenants/{tenantId}", tenant["scimUrl"]!.GetValue<string>(), StringComparison.Ordinal);

        var secondTokenId = (await _cli.JsonAsync("tokens", "create", tenantId))["id"]!.GetValue<string>();

        var shown = await _cli.RunAsync("--json", "tenants", "show", tenantId);
        Assert.Equal(0, shown.ExitCode);
        Assert.DoesNotContain("scim_", shown.Stdout, StringComparison.Ordinal);
        var view = JsonNode.Parse(shown.Stdout)!;
        Assert.Equal("Fabrikam", view["name"]!.GetValue<string>());
        Assert.Equal(2, view["tokens"]!.AsArray().Count);
        Assert.Equal(0, view["userCount"]!.GetValue<int>());

        var revoked = await _cli.RunAsync("tokens", "revoke", tenantId, secondTokenId);
        Assert.Equal(0, revoked.ExitCode);
        Assert.Contains($"Token {secondTokenId} revoked.", revoked.Stdout, StringComparison.Ordinal);
        Assert.Single((await _cli.JsonAsync("tenants", "show", tenantId))["tokens"]!.AsArray());

        // --json prints the API's JSON: a 204 has none.
        var again = await _cli.RunAsync("--json", "tokens", "revoke", tenantId, secondTokenId);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("404", again.Stderr, StringComparison.Ordinal);
        Assert.Empty(again.Stdout);
    }

    public static TheoryData<string[]> DotIds => new()
    {
        { ["tokens", "revoke", "{tenant}", ".."] },
        { ["tokens", "revoke", "{tenant}", "."] },
        { ["oauth-clients", "revoke", "{tenant}", ".."] },
        { ["tenants", "show", ".."] },
    };

    [Theory]
    [MemberData(nameof(DotIds))]
    public async Task ADotIdIsRefusedBeforeAnythingIsSentAndTheTenantStays(string[] args)
    {
        // "tokens revoke T .." was sent as DELETE admin/tenants/T/ (the URL drops the dot segment with the one before it):
        // the tenant's delete, without its --confirm, reported as "Token .. revoked." (until 2026-12-07).
        var tenantId = (await _cli.JsonAsync("tenants", "create", "--name", "Dots"))["tenantId"]!.GetValue<string>();

        var result = await _cli.RunAsync([.. args.Select(a => a == "{tenant}" ? tenantId : a)]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("is not an id; nothing was sent", result.Stderr, StringComparison.Ordinal);
        var shown = await _cli.JsonAsync("tenants", "show", tenantId);
        Assert.Single(shown["tokens"]!.AsArray());
    }

    [Fact]
    public async Task TablesShowTheProvisioningInformationAndWarnThatASecretIsShownOnce()
    {
        var created = await _cli.TableAsync("tenants", "create", "--name", "Northwind Traders");
        var secret = Assert.Single(Words(created), w => w.StartsWith("scim_", StringComparison.Ordinal));
        var tenantUrl = Assert.Single(Words(created), w => w.Contains("/scim/v2/tenants/", StringComparison.Ordinal));
        var tenantId = tenantUrl[(tenantUrl.LastIndexOf('/') + 1)..];
        Assert.Contains("Northwind Traders", created, StringComparison.Ordinal);
        Assert.Matches(@"Tenant URL\s+http", created);
        Assert.Matches(@"Secret Token\s+scim_", created);
        Assert.Contains("shown only this once", created, StringComparison.Ordinal);

        // The printed secret is the tenant's working SCIM token.
        using (var scim = gateway.ScimClient(new TestTenant(tenantId, tenantUrl, "", secret)))
        using (var users = await scim.GetAsync("Users"))
        {
            Assert.Equal(HttpStatusCode.OK, users.StatusCode);
        }

        var issued = await _cli.TableAsync("tokens", "create", tenantId);
        Assert.Matches(@"Secret Token\s+scim_", issued);
        Assert.Contains("shown only this once", issued, StringComparison.Ordinal);

        var shown = await _cli.TableAsync("tenants", "show", tenantId);
        Assert.Matches(@"Name\s+Northwind Traders", shown);
        Assert.Matches(@"Users\s+0", shown);
        Assert.Contains(tenantUrl, shown, StringComparison.Ordinal);
        Assert.Contains("TOKEN ID", shown, StringComparison.Ordinal);
        var tokenIds = (await _cli.JsonAsync("tenants", "show", tenantId))["tokens"]!.AsArray().Select(t => t!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(2, tokenIds.Count);
        Assert.All(tokenIds, id => Assert.Contains(id, shown, StringComparison.Ordinal));
        Assert.DoesNotContain("scim_", shown, StringComparison.Ordinal);
    }

    public static TheoryData<string[], string> UsageErrors => new()
    {
        { ["tenants", "frobnicate"], "frobnicate" },
        { ["tenants", "create"], "--name" },
        { ["tenants", "show"], "tenant-id" },
        { ["tokens", "revoke", "only-a-tenant"], "token-id" },
        { ["events", "list", "t", "--limit", "0"], "--limit must be a whole number from 1 to 1000, not '0'." },
        { ["events", "list", "t", "--limit", "ten"], "--limit must be a whole number from 1 to 1000, not 'ten'." },
        { ["events", "list", "t", "--after", "-1"], "--after must be a cursor" },
        { ["events", "tail", "t", "--interval", "0"], "--interval must be more than 0 and at most 3600 seconds, not '0'." },
        { ["webhook", "set", "t"], "--url" },
        { ["webhook", "redeliver", "t"], "--after" },
        { ["webhook"], "Required command was not provided" },
        { ["tenants", "delete", "t"], "--confirm" },
        { ["tenants", "list", "--limit", "201"], "--limit must be a whole number from 1 to 200, not '201'." },
        { ["oauth-clients", "revoke-secret", "t", "c"], "secret-id" },
        { [], "Required command was not provided" },
    };

    [Theory]
    [MemberData(nameof(UsageErrors))]
    public async Task UsageErrorsExitWithTwoAndTheParsersMessageOnStderr(string[] args, string message)
    {
        var result = await _cli.RunAsync(args);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.Contains("Usage:", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task AGatewayUrlThatIsNotHttpIsAUsageError()
    {
        var result = await ScimAdmin.RunAsync(["--url", "ftp://127.0.0.1/", "--key", "k", "tenants", "show", "abc"], handler: null);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--url must be an absolute http or https URL, not 'ftp://127.0.0.1/'.", result.Stderr, StringComparison.Ordinal);
    }

    public static TheoryData<string[], string[]> HelpPages => new()
    {
        { ["events", "list", "--help"], ["<tenant-id>", "--after <CURSOR>", "--limit <N>", "--json", "--url <URL>", "--key <KEY>"] },
        { ["events", "tail", "-h"], ["--after <CURSOR>", "--interval <SECONDS>", "NDJSON"] },
        { ["webhook", "set", "--help"], ["--url <URL> (REQUIRED)", "--secret <SECRET>"] },
        { ["tenants", "create", "--help"], ["--name <NAME> (REQUIRED)", "shown once"] },
        { ["--help"], ["tenants", "tokens", "oauth-clients", "events", "webhook", "--json"] },
        { ["tenants", "--help"], ["create", "show", "list", "rename", "suspend", "resume", "delete"] },
        { ["tenants", "delete", "--help"], ["--confirm <TENANT_ID> (REQUIRED)", "cannot be undone"] },
        { ["oauth-clients", "--help"], ["list", "create", "add-secret", "revoke-secret", "revoke"] },
        { ["webhook", "--help"], ["set", "show", "delete", "test", "deliveries", "redeliver"] },
    };

    [Theory]
    [MemberData(nameof(HelpPages))]
    public async Task HelpListsACommandsArgumentsAndOptions(string[] args, string[] expected)
    {
        // Help needs no key.
        var result = await _cli.RunAsync(args, withKey: false);
        Assert.Equal(0, result.ExitCode);
        Assert.All(expected, e => Assert.Contains(e, result.Stdout, StringComparison.Ordinal));
        Assert.Contains("Usage:", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheSuggestDirectiveCompletesCommandsForDotnetSuggest()
    {
        var result = await ScimAdmin.RunAsync(["[suggest:12]", "webhook rede"], handler: null);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["redeliver"], result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [Fact]
    public async Task AWrongKeyIsA401AndAMissingKeyAUsageError()
    {
        var wrongKey = await _cli.RunAsync(["--key", "not-the-operator-key", "tenants", "create", "--name", "X"], withKey: false);
        Assert.Equal(1, wrongKey.ExitCode);
        Assert.Contains("401", wrongKey.Stderr, StringComparison.Ordinal);

        // Assumes the test process has no SCIM_ADMIN_KEY (the key's only other source).
        var noKey = await _cli.RunAsync(["tenants", "show", "abc"], withKey: false);
        Assert.Equal(2, noKey.ExitCode);
        Assert.Contains("No operator key: pass --key or set SCIM_ADMIN_KEY.", noKey.Stderr, StringComparison.Ordinal);
    }

    public static TheoryData<string[]> UnknownTenantCommands => new()
    {
        { ["tenants", "show", "0123456789abcdef0123456789abcdef"] },
        { ["tokens", "create", "0123456789abcdef0123456789abcdef"] },
        { ["events", "list", "0123456789abcdef0123456789abcdef"] },
        { ["events", "tail", "0123456789abcdef0123456789abcdef"] },
        { ["webhook", "show", "0123456789abcdef0123456789abcdef"] },
        { ["webhook", "set", "0123456789abcdef0123456789abcdef", "--url", "https://example.com/hook"] },
        { ["--json", "webhook", "deliveries", "0123456789abcdef0123456789abcdef"] },
        { ["tenants", "rename", "0123456789abcdef0123456789abcdef", "--name", "X"] },
        { ["tenants", "suspend", "0123456789abcdef0123456789abcdef"] },
        { ["tenants", "delete", "0123456789abcdef0123456789abcdef", "--confirm", "0123456789abcdef0123456789abcdef"] },
        { ["oauth-clients", "list", "0123456789abcdef0123456789abcdef"] },
        { ["oauth-clients", "create", "0123456789abcdef0123456789abcdef"] },
    };

    [Theory]
    [MemberData(nameof(UnknownTenantCommands))]
    public async Task AnUnknownTenantExitsWithOneNaming404(string[] args)
    {
        var result = await _cli.RunAsync(args);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("404 Not Found", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("No such tenant", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnreachableGatewayExitsWithOne()
    {
        var result = await ScimAdmin.RunAsync(["--url", "http://127.0.0.1:1/", "--key", "k", "tenants", "show", "abc"], handler: null);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Cannot reach the gateway at http://127.0.0.1:1/", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AGatewayThatDoesNotAnswerInTimeExitsWithOneAndSaysSo()
    {
        // What HttpClient throws when its timeout passes (the user did not cancel).
        using var handler = new AnswerHandler(_ => throw new TaskCanceledException("timed out", new TimeoutException()));
        var result = await ScimAdmin.RunAsync(["--url", "http://127.0.0.1:9/", "--key", "k", "tenants", "show", "abc"], handler);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("did not answer within", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATailRidesOutAGatewayRestartAndStopsWhereItHadGotToOnAFailureForGood()
    {
        // A page, then a gateway restarting (503, then no answer at all), then the next page from the same cursor, then the
        // operator key rotated (401): the cursor still holds, so it is told (not after a 404 or a refused cursor:
        // EventCommandsTests). Until 2026-12-07 the first 503 ended the command.
        var calls = 0;
        var cursors = new List<string?>();
        using var handler = new AnswerHandler(request =>
        {
            cursors.Add(System.Web.HttpUtility.ParseQueryString(request.RequestUri!.Query)["after"]);
            return Interlocked.Increment(ref calls) switch
            {
                1 => Json(HttpStatusCode.OK, """{"data":[],"nextCursor":"41","hasMore":true}"""),
                2 => Json(HttpStatusCode.ServiceUnavailable, """{"title":"Busy","status":503}"""),
                3 => throw new HttpRequestException("Connection refused"),
                4 => Json(HttpStatusCode.OK, """{"data":[{"sequence":42,"type":"user.created","resourceType":"User","resourceId":"u1","occurredAt":"2026-12-07T12:00:00.000Z"}],"nextCursor":"42","hasMore":true}"""),
                _ => Json(HttpStatusCode.Unauthorized, """{"title":"Unauthorized","status":401,"detail":"A valid operator key is required."}"""),
            };
        });
        var result = await ScimAdmin.RunAsync(["--url", "http://127.0.0.1:9/", "--key", "k", "events", "tail", "0123456789abcdef0123456789abcdef", "--interval", "0.05"], handler);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal([null, "41", "41", "41", "42"], cursors);
        Assert.Contains("user.created", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("503", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("Cannot reach the gateway", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("Trying again", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("401", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("To go on from here: --after 42", result.Stderr, StringComparison.Ordinal);
    }

    private static HttpResponseMessage Json(HttpStatusCode status, string body) =>
        new(status) { Content = new StringContent(body, System.Text.Encoding.UTF8, status == HttpStatusCode.OK ? "application/json" : "application/problem+json") };

    private sealed class AnswerHandler(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => Task.FromResult(answer(request));
    }

    private static string[] Words(string text) => text.Split([' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries);
}
