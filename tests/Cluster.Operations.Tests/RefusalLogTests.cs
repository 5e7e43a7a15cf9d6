using System.Net;
using Cluster.Abstractions;
using Cluster.Gateway;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Cluster.Operations.Tests;

/// <summary>
/// Refusals of requests without a valid credential (SCIM 2001, token endpoint 2013) reach the gateway's log within its
/// <see cref="RefusalLogBudget"/>: until 2026-12-07 each wrong bearer token or made-up client id of a known tenant wrote a
/// line, at whatever rate a client without any credential sent them.
/// </summary>
public sealed class RefusalLogTests
{
    [Fact]
    public async Task RefusalsAreLoggedInABurstThenOnceASecondSayingHowManyWereLeftOut()
    {
        var clock = new FakeTimeProvider();
        var logs = new CapturingLoggerProvider();
        await using var gateway = GatewayFactory.With(new Dictionary<string, string?>())
            .WithServices(s => s.AddSingleton<ILoggerProvider>(logs).AddSingleton(new RefusalLogBudget(clock)));
        var tenant = await gateway.CreateTenantAsync();
        var client = await gateway.CreateOAuthClientAsync(tenant);
        using var intruder = gateway.ScimClient(tenant, token: "scim_" + new string('A', 43));
        using var http = gateway.CreateClient();

        for (var i = 0; i < 20; i++)
        {
            using var refused = await intruder.GetAsync("Users");
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        for (var i = 0; i < 5; i++)
        {
            using var refused = await http.RequestTokenAsync(client with { ClientId = OAuthClientIds.New(tenant.TenantId) });
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        List<CapturingLoggerProvider.Entry> Refusals() => [.. logs.Entries.Where(e => e.EventId.Id is 2001 or 2013)];
        Assert.Equal(RefusalLogBudget.Burst, Refusals().Count);
        Assert.All(Refusals(), e => Assert.Equal("0", Value(e, "Unlogged")));

        // A second later: one more line, which tells the 15 refusals left out; the budget then is spent again.
        clock.Advance(TimeSpan.FromSeconds(1));
        using (var token = await http.RequestTokenAsync(client with { ClientId = OAuthClientIds.New(tenant.TenantId) }))
        using (var scim = await intruder.GetAsync("Users"))
        {
            Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized], new[] { token.StatusCode, scim.StatusCode });
        }

        var later = Refusals().Skip(RefusalLogBudget.Burst).ToList();
        var line = Assert.Single(later);
        Assert.Equal(2013, line.EventId.Id);
        Assert.Equal("15", Value(line, "Unlogged"));
        Assert.Contains("15", line.Message, StringComparison.Ordinal);

        // The metric still counts every SCIM refusal (at least these 21: the meter is the process's, and tests of other
        // classes running beside this one refuse tokens too).
        var metrics = await http.GetStringAsync("/metrics");
        var counted = System.Text.RegularExpressions.Regex.Matches(metrics, @"^scim_auth_failures_total\{[^}]*\} (\d+)", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Sum(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(counted >= 21, $"scim_auth_failures_total: {counted}");
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

    private static string? Value(CapturingLoggerProvider.Entry entry, string key) => entry.State.FirstOrDefault(p => p.Key == key).Value;
}
