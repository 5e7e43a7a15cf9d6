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

        // The metric still counts every SCIM refusal.
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Matches(@"scim_auth_failures_total\{[^}]*\} 21\b", metrics);
    }

    private static string? Value(CapturingLoggerProvider.Entry entry, string key) => entry.State.FirstOrDefault(p => p.Key == key).Value;
}
