using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cluster.TestInfrastructure;

namespace Cluster.Cli.Tests;

/// <summary><c>events list</c> and <c>events tail</c> over changes made through a tenant's SCIM endpoint.</summary>
[Collection(CliCollection.Name)]
public sealed class EventCommandsTests(GatewayFactory gateway)
{
    /// <summary>How the tables show a time: UTC, to the millisecond.</summary>
    private const string Time = @"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z";

    private readonly ScimAdmin _cli = new(gateway);

    [Fact]
    public async Task ListShowsEachChangeAsATableRowOrTheApisJsonAndPagesWithCursors()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var ada = await ScimAdmin.CreateUserAsync(scim, "ada@events.test");
        var bob = await ScimAdmin.CreateUserAsync(scim, "bob@events.test");
        using (var patch = await scim.PatchAsync($"Users/{ada}", Scim(EntraPayloads.PatchDefaultDialect("ada.work@events.test", "Lovelace", "E-1", "Ada"))))
        {
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        }

        var all = await _cli.JsonAsync("events", "list", tenant.TenantId);
        var events = all["data"]!.AsArray();
        Assert.Equal(["user.created", "user.created", "user.updated"], events.Select(e => e!["type"]!.GetValue<string>()));
        Assert.Equal("3", all["nextCursor"]!.GetValue<string>());
        Assert.False(all["hasMore"]!.GetValue<bool>());
        var changed = string.Join(", ", events[2]!["changed"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.NotEmpty(changed);

        var table = await _cli.TableAsync("events", "list", tenant.TenantId);
        var lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Matches(@"^SEQUENCE\s+TIME\s+TYPE\s+RESOURCE\s+CHANGED$", lines[0]);
        Assert.Matches($@"^1\s+{Time}\s+user\.created\s+User/{ada}$", lines[1]);
        Assert.Matches($@"^2\s+{Time}\s+user\.created\s+User/{bob}$", lines[2]);
        Assert.Matches($@"^3\s+{Time}\s+user\.updated\s+User/{ada}\s+{Regex.Escape(changed)}$", lines[3]);
        Assert.Contains("Next cursor: 3 (no more events yet)", table, StringComparison.Ordinal);

        var firstPage = await _cli.TableAsync("events", "list", tenant.TenantId, "--limit", "2");
        Assert.DoesNotContain("user.updated", firstPage, StringComparison.Ordinal);
        Assert.Contains("Next cursor: 2 (more events: add --after 2)", firstPage, StringComparison.Ordinal);
        var secondPage = await _cli.JsonAsync("events", "list", tenant.TenantId, "--after", "2", "--limit", "2");
        Assert.Equal(3, Assert.Single(secondPage["data"]!.AsArray())!["sequence"]!.GetValue<long>());
    }

    [Fact]
    public async Task MemberEventsNameTheMemberAndItsKindUsersAndGroupsAlike()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var user = await ScimAdmin.CreateUserAsync(scim, "member@events.test");
        var inner = await CreateGroupAsync(scim, "Inner", []);
        var outer = await CreateGroupAsync(scim, "Outer", [user, inner]);

        var table = await _cli.TableAsync("events", "list", tenant.TenantId);
        var added = table.Split('\n', StringSplitOptions.TrimEntries).Where(l => l.Contains("group.member_added", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, added.Count);
        Assert.Single(added, l => Regex.IsMatch(l, $@"Group/{outer}\s+member User/{user}$"));
        Assert.Single(added, l => Regex.IsMatch(l, $@"Group/{outer}\s+member Group/{inner}$"));
    }

    private static async Task<string> CreateGroupAsync(HttpClient scim, string name, string[] members)
    {
        var body = new JsonObject
        {
            ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:Group"),
            ["displayName"] = name,
            ["members"] = new JsonArray([.. members.Select(m => (JsonNode)new JsonObject { ["value"] = m })]),
        };
        using var response = await scim.PostAsync("Groups", Scim(body.ToJsonString()));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TailPrintsTheFeedThenEventsWrittenWhileItRunsUntilCancelled(bool json)
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var before = await ScimAdmin.CreateUserAsync(scim, "before@tail.test");

        using var stdout = new CapturingWriter();
        using var stderr = new CapturingWriter();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        string[] args = ["events", "tail", tenant.TenantId, "--interval", "0.2", .. json ? new[] { "--json" } : []];
        var tail = _cli.StartAsync(args, stdout, stderr, stop.Token);

        await stdout.WaitForAsync(before, TimeSpan.FromSeconds(30));
        var during = await ScimAdmin.CreateUserAsync(scim, "during@tail.test");
        await stdout.WaitForAsync(during, TimeSpan.FromSeconds(30));
        await stop.CancelAsync();

        Assert.Equal(0, await tail.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("Stopped. To go on from here: --after 2", stderr.Text, StringComparison.Ordinal);
        var lines = stdout.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (json)
        {
            var events = lines.Select(l => JsonNode.Parse(l)!).ToList();
            Assert.Equal([before, during], events.Select(e => e["resourceId"]!.GetValue<string>()));
            Assert.Equal([1L, 2L], events.Select(e => e["sequence"]!.GetValue<long>()));
            Assert.All(events, e => Assert.Equal(tenant.TenantId, e["tenantId"]!.GetValue<string>()));
        }
        else
        {
            Assert.Equal(3, lines.Length);
            Assert.StartsWith("SEQUENCE", lines[0], StringComparison.Ordinal);
            Assert.Matches($@"^1\s+{Time}\s+user\.created\s+User/{before}$", lines[1]);
            Assert.Matches($@"^2\s+{Time}\s+user\.created\s+User/{during}$", lines[2]);
        }
    }

    [Fact]
    public async Task TailGivesNoCursorToGoOnFromWhenTheFeedRefusedIt()
    {
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        await ScimAdmin.CreateUserAsync(scim, "one@tail.test");

        // Past the end of a feed of one event: 400, and the same cursor would be refused again.
        var pastTheEnd = await _cli.RunAsync("events", "tail", tenant.TenantId, "--after", "50");

        Assert.Equal(1, pastTheEnd.ExitCode);
        Assert.Contains("400", pastTheEnd.Stderr, StringComparison.Ordinal);
        Assert.Contains("past the end of the feed", pastTheEnd.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("To go on from here", pastTheEnd.Stderr, StringComparison.Ordinal);

        // The tenant deleted: 404, nothing to go on from.
        Assert.Equal(0, (await _cli.RunAsync("tenants", "delete", tenant.TenantId, "--confirm", tenant.TenantId)).ExitCode);
        var deleted = await _cli.RunAsync("events", "tail", tenant.TenantId, "--after", "1");
        Assert.Equal(1, deleted.ExitCode);
        Assert.Contains("404", deleted.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("To go on from here", deleted.Stderr, StringComparison.Ordinal);
    }

    private static StringContent Scim(string json) => new(json, Encoding.UTF8, "application/scim+json");
}
