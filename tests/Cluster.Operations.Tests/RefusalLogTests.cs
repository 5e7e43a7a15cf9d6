using System.Globalization;
using System.Net;
using Cluster.Abstractions;
using Cluster.Gateway;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cluster.Operations.Tests;

/// <summary>
/// Refusals of requests without a valid credential (SCIM 2001, admin API 2007, token endpoint 2013) reach the gateway's log
/// within its <see cref="RefusalLogBudget"/>: until 2026-12-07 each wrong bearer token or made-up client id of a known tenant
/// wrote a line, at whatever rate a client without any credential sent them (a call to /admin without the operator key,
/// until 2026-12-08). No clock is faked: the budget is a token bucket that
/// refills on its own, so the test counts which of its requests were logged rather than assuming when the refill comes.
/// </summary>
public sealed class RefusalLogTests
{
    [Fact]
    public async Task RefusalsAreLoggedInABurstThenOnceASecondSayingHowManyWereLeftOut()
    {
        var logs = new CapturingLoggerProvider();
        await using var gateway = GatewayFactory.With(new Dictionary<string, string?>()).WithServices(s => s.AddSingleton<ILoggerProvider>(logs));
        var tenant = await gateway.CreateTenantAsync();
        var client = await gateway.CreateOAuthClientAsync(tenant);
        using var intruder = gateway.ScimClient(tenant, token: "scim_" + new string('A', 43));
        using var http = gateway.CreateClient();
        List<CapturingLoggerProvider.Entry> Refusals() => [.. logs.Entries.Where(e => e.EventId.Id is 2001 or 2007 or 2013)];

        // One refused request (of every five, one a made-up client id of the tenant at /oauth2/token, one an admin API call
        // without the operator key, the others a wrong bearer token): the line it wrote, or null when the budget left it out.
        // The line is written before the answer.
        var sent = 0;
        async Task<CapturingLoggerProvider.Entry?> RefuseAsync()
        {
            var before = Refusals().Count;
            using var refused = (sent++ % 5) switch
            {
                4 => await http.RequestTokenAsync(client with { ClientId = OAuthClientIds.New(tenant.TenantId) }),
                3 => await http.GetAsync("/admin/tenants"),
                _ => await intruder.GetAsync("Users"),
            };
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            var after = Refusals();
            return after.Count > before ? after[^1] : null;
        }

        // The burst: the first ten are written, none left out before them.
        for (var i = 0; i < RefusalLogBudget.Burst; i++)
        {
            var line = await RefuseAsync();
            Assert.NotNull(line);
            Assert.Equal("0", Value(line, "Unlogged"));
        }

        // Then refusals are left out until the bucket refills (one a second); the next line says exactly how many. (A refill
        // may come before the first is left out: such a line has none to tell of.)
        var leftOut = 0;
        while (true)
        {
            Assert.True(sent < 5_000, "no refusal was left out");
            if (await RefuseAsync() is not { } line)
            {
                leftOut++;
                continue;
            }

            Assert.Equal(leftOut.ToString(CultureInfo.InvariantCulture), Value(line, "Unlogged"));
            Assert.Contains($": {leftOut}.", line.Message, StringComparison.Ordinal);
            if (leftOut > 0)
            {
                break;
            }
        }

        // The metric still counts every SCIM refusal (at least these: the meter is the process's, and tests of other
        // classes running beside this one refuse tokens too).
        var metrics = await http.GetStringAsync("/metrics");
        var counted = System.Text.RegularExpressions.Regex.Matches(metrics, @"^scim_auth_failures_total\{[^}]*\} (\d+)", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        var scimRefusals = (sent / 5 * 3) + Math.Min(sent % 5, 3);
        Assert.True(counted >= scimRefusals, $"scim_auth_failures_total: {counted}, SCIM refusals sent: {scimRefusals}");
    }

    [Fact]
    public async Task ForgedSetupLinkFormsWriteNoLogLineAndNeverTheSecret()
    {
        // The setup link's form is refused without its page's antiforgery token and cookie. ASP.NET Core's antiforgery
        // would log a warning per refused post (anyone can send them, at any rate), and with logging scopes on it would
        // carry the request path, the link's secret included: the shipped levels keep it quiet.
        var logs = new CapturingLoggerProvider();
        await using var gateway = GatewayFactory.With(new Dictionary<string, string?> { ["Logging:Console:IncludeScopes"] = "true" })
            .WithServices(s => s.AddSingleton<ILoggerProvider>(logs));
        var tenant = await gateway.CreateTenantAsync();
        var link = await gateway.SetupLinkPathAsync(tenant.TenantId);
        var secret = link.Split('/')[^1];
        using var http = gateway.CreateClient(new() { AllowAutoRedirect = false });
        for (var i = 0; i < 5; i++)
        {
            using var forged = await http.PostAsync(link, new FormUrlEncodedContent([new("__RequestVerificationToken", "forged")]));
            Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        }

        // A form too large to read is refused the same way, not with a 500.
        var huge = Enumerable.Range(0, 5000).Select(i => new KeyValuePair<string, string>($"k{i}", "v"));
        using (var oversized = await http.PostAsync(link, new FormUrlEncodedContent(huge)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, oversized.StatusCode);
        }

        Assert.DoesNotContain(logs.Entries, e => e.Category.StartsWith("Microsoft.AspNetCore.Antiforgery", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Entries, e => e.Texts().Any(t => t.Contains(secret, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ASetupLinksSecretIsInNoLineWrittenWhileTheLinkIsServed()
    {
        // ASP.NET Core's request scope carries the request's path, a setup link's secret included, into every line written
        // while serving it (with scopes on, as docs/observability.md suggests). The shipped levels turn that scope off; the
        // gateway's own lines name the route's template instead. Here the tenant cannot be read, so the link's request
        // writes lines (the grain call's retries, its failure).
        var logs = new CapturingLoggerProvider();
        await using var gateway = GatewayFactory.With(new Dictionary<string, string?> { ["Logging:Console:IncludeScopes"] = "true" })
            .WithServices(s => s.AddSingleton<ILoggerProvider>(logs)).WithStorageProbe();
        var tenant = await gateway.CreateTenantAsync();
        var link = await gateway.SetupLinkPathAsync(tenant.TenantId);
        var secret = link.Split('/')[^1];
        using var http = gateway.CreateClient(new() { AllowAutoRedirect = false });
        try
        {
            await StorageProbe.FailReadsOfNextActivationAsync(gateway.Services, GrainKeys.PortalAccess(tenant.TenantId), async () =>
            {
                using var opened = await http.GetAsync(link);
                return opened.StatusCode == HttpStatusCode.ServiceUnavailable;
            });
        }
        finally
        {
            StorageProbe.FailNextReadsAsOutage(GrainKeys.PortalAccess(tenant.TenantId), 0);
        }

        // Lines were written while the link was served, each with the request's id in the gateway's own scope.
        Assert.Contains(logs.Entries, e => e.Category.StartsWith("Cluster.", StringComparison.Ordinal) && e.Level >= LogLevel.Information && e.ScopeValue("RequestId") is { Length: > 0 });
        Assert.DoesNotContain(logs.Entries, e => e.Texts().Any(t => t.Contains(secret, StringComparison.Ordinal)));
    }

    private static string? Value(CapturingLoggerProvider.Entry entry, string key) => entry.State.FirstOrDefault(p => p.Key == key).Value;
}
