using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cluster.Operations.Tests;

/// <summary>
/// Structured logs of the gateway (co-hosting a silo) across a replay of Entra's requests: every entry written while
/// serving a SCIM request carries the request id and tenant id in its scope, and no entry — message, state, exception
/// or scope, any category — contains the bearer token, a userName or an email. The host runs with its shipped log
/// levels (appsettings.json) plus <c>Microsoft.AspNetCore.Routing</c> at Information, so every request writes entries, and
/// ASP.NET Core's request scope on (<c>Microsoft.AspNetCore.Hosting.Diagnostics</c>, off as shipped: it would carry a setup
/// link's secret), against which the SCIM scope's request id is checked.
/// </summary>
public sealed class LoggingTests : IAsyncLifetime
{
    private const string UserName = "log.person@contoso.example";
    private const string Email = "log.mail@contoso.example";
    private const string NewEmail = "log.newmail@contoso.example";
    private const string NewUserName = "log.renamed@contoso.example";
    private const string BadToken = "scim_log-not-a-token";
    private const string ScopePrefix = "SCIM request ";

    private readonly CapturingLoggerProvider _logs = new();
    private GatewayFactory _gateway = null!;
    private TestTenant _tenant = null!;
    private int _scimRequests;

    public async Task InitializeAsync()
    {
        _gateway = GatewayFactory.With(new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Microsoft.AspNetCore.Routing"] = "Information",
                ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Critical",
            })
            .WithServices(s => s.AddSingleton<ILoggerProvider>(_logs));
        _tenant = await _gateway.CreateTenantAsync();
        await ReplayEntraAsync();
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public void EveryRequestLogsInsideItsScopeWithRequestIdAndTenantId()
    {
        var scoped = _logs.Entries.Where(e => Ours(e) is not null).ToList();
        Assert.All(scoped, e =>
        {
            var scope = Ours(e)!;
            Assert.Equal(_tenant.TenantId, Value(scope, "TenantId"));
            // The request id is ASP.NET Core's TraceIdentifier: the same id as in ASP.NET Core's own request scope.
            Assert.False(string.IsNullOrEmpty(Value(scope, "RequestId")));
            Assert.Equal(Value(Hosting(e)!, "RequestId"), Value(scope, "RequestId"));
        });

        // Each SCIM request wrote at least one entry in its own scope, with its own request id.
        Assert.Equal(_scimRequests, scoped.Select(e => Value(Ours(e)!, "RequestId")).Distinct().Count());

        // Every entry written under a SCIM request path after routing (endpoint execution, the gateway's own messages)
        // is inside the SCIM scope.
        var underScim = _logs.Entries.Where(e => Hosting(e) is { } h && (Value(h, "RequestPath") ?? "").StartsWith("/scim/", StringComparison.Ordinal)
            && (e.Category.StartsWith("Cluster.", StringComparison.Ordinal) || e.Category == "Microsoft.AspNetCore.Routing.EndpointMiddleware")).ToList();
        Assert.NotEmpty(underScim);
        Assert.All(underScim, e => Assert.NotNull(Ours(e)));
    }

    [Fact]
    public void ARefusedTokenIsLoggedWithTheScopeButWithoutTheToken()
    {
        var refused = Assert.Single(_logs.Entries, e => e.EventId.Id == 2001);
        Assert.Equal(LogLevel.Information, refused.Level);
        Assert.Equal(_tenant.TenantId, Value(Ours(refused)!, "TenantId"));
        Assert.DoesNotContain(refused.Texts(), t => t.Contains(BadToken, StringComparison.Ordinal));

        // ASP.NET Core's own lines per refused request ("was not authenticated", "was challenged"), written under the
        // handlers' categories, stay below the shipped levels like the rest of ASP.NET Core's: 2001 says it once.
        Assert.DoesNotContain(_logs.Entries, e => e.Category.StartsWith("Cluster.Gateway.Auth.", StringComparison.Ordinal) && e.Level < LogLevel.Warning);
    }

    [Fact]
    public async Task AMadeUpMethodIsLoggedAsOtherNotAsSent()
    {
        // A refused request needs no credential: its method, up to 16 KiB of the client's own text, must not reach the log.
        var madeUp = new string('X', 4000);
        using (var intruder = _gateway.ScimClient(_tenant, token: BadToken))
        using (var response = await intruder.SendAsync(new HttpRequestMessage(new HttpMethod(madeUp), "Users")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        var refused = _logs.Entries.Where(e => e.EventId.Id == 2001).ToList();
        Assert.Equal(2, refused.Count);
        Assert.Contains(refused, e => e.Texts().Any(t => t.Contains("OTHER", StringComparison.Ordinal)));
        Assert.DoesNotContain(_logs.Entries, e => e.Texts().Any(t => t.Contains(madeUp[..64], StringComparison.Ordinal)));
    }

    [Fact]
    public void NoEntryContainsATokenAUserNameOrAnEmail()
    {
        Assert.NotEmpty(_logs.Entries);
        string[] forbidden = [_tenant.Token, BadToken, UserName, NewUserName, Email, NewEmail, "log.person", "log.renamed", "log.mail", "log.newmail"];
        foreach (var entry in _logs.Entries)
        {
            foreach (var text in entry.Texts())
            {
                Assert.False(forbidden.Any(f => text.Contains(f, StringComparison.OrdinalIgnoreCase)),
                    $"{entry.Category} {entry.EventId} logs personal data or a secret: {text}");
            }
        }
    }

    /// <summary>Entra's sequence: Test Connection, create, duplicate create, filter, PATCH (both dialect shapes), rename, disable, bad token, delete.</summary>
    private async Task ReplayEntraAsync()
    {
        using var scim = _gateway.ScimClient(_tenant);
        await Send(scim.GetAsync("Users?filter=userName+eq+%2271e3b2a8-6f2c-4c1e-9a55-0c6f3f1b2f10%22"), HttpStatusCode.OK);
        using var created = await Send(scim.PostAsync("Users", Scim(EntraPayloads.CreateUser(UserName, "ext-log-1", Email))), HttpStatusCode.Created);
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        (await Send(scim.PostAsync("Users", Scim(EntraPayloads.CreateUser(UserName, "ext-log-1", Email))), HttpStatusCode.Conflict)).Dispose();
        await Send(scim.GetAsync($"Users?filter=userName+eq+%22{Uri.EscapeDataString(UserName)}%22"), HttpStatusCode.OK);
        await Send(scim.PatchAsync($"Users/{id}", Scim(EntraPayloads.PatchDefaultDialect(NewEmail, "Wong", "E-1", "nick"))), HttpStatusCode.OK);
        await Send(scim.PatchAsync($"Users/{id}", Scim(EntraPayloads.PatchFlagDialect(NewEmail, "Display", "Given", "Family", "E-2"))), HttpStatusCode.OK);
        await Send(scim.PatchAsync($"Users/{id}", Scim(EntraPayloads.RenameUserName(NewUserName))), HttpStatusCode.OK);
        await Send(scim.PatchAsync($"Users/{id}", Scim(EntraPayloads.SetActive("Replace", "\"False\""))), HttpStatusCode.OK);
        await Send(scim.GetAsync($"Users?filter=emails%5Btype+eq+%22work%22%5D.value+eq+%22{Uri.EscapeDataString(NewEmail)}%22"), null);
        using (var intruder = _gateway.ScimClient(_tenant, token: BadToken))
        {
            await Send(intruder.GetAsync($"Users?filter=userName+eq+%22{Uri.EscapeDataString(UserName)}%22"), HttpStatusCode.Unauthorized);
        }

        await Send(scim.DeleteAsync($"Users/{id}"), HttpStatusCode.NoContent);
    }

    private async Task<HttpResponseMessage> Send(Task<HttpResponseMessage> request, HttpStatusCode? expected)
    {
        var response = await request;
        _scimRequests++;
        if (expected is { } status)
        {
            Assert.Equal(status, response.StatusCode);
        }

        return response;
    }

    private static CapturingLoggerProvider.Scope? Ours(CapturingLoggerProvider.Entry e) =>
        e.Scopes.LastOrDefault(s => s.Text.StartsWith(ScopePrefix, StringComparison.Ordinal));

    private static CapturingLoggerProvider.Scope? Hosting(CapturingLoggerProvider.Entry e) =>
        e.Scopes.FirstOrDefault(s => s.Values.Any(v => v.Key == "RequestPath"));

    private static string? Value(CapturingLoggerProvider.Scope scope, string key) =>
        scope.Values.Where(v => v.Key == key).Select(v => v.Value).FirstOrDefault();

    private static StringContent Scim(string json) => new(json, Encoding.UTF8, "application/scim+json");
}
