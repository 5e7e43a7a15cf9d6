using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cluster.TestInfrastructure;

namespace Cluster.Cli.Tests;

/// <summary>The CLI tests share one gateway (they run one after another) and drive the CLI through this runner.</summary>
[CollectionDefinition(Name)]
public sealed class CliCollection : ICollectionFixture<GatewayFactory>
{
    public const string Name = "scim-admin";
}

/// <summary>
/// Runs <c>scim-admin</c> in process against the gateway's test server (<see cref="Program.RunAsync"/> with the test
/// server's handler), with <c>--url</c> and the operator key unless told otherwise. Every run gets a cancellation token,
/// so none installs a process signal handler, and a hung command fails its test instead of hanging the run.
/// </summary>
public sealed class ScimAdmin(GatewayFactory gateway)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public Task<CliResult> RunAsync(params string[] args) => RunAsync(args, withKey: true);

    public Task<CliResult> RunAsync(string[] args, bool withKey) => RunAsync([.. Prefix(withKey), .. args], gateway.Server.CreateHandler());

    /// <summary>Runs exactly <paramref name="args"/>; <paramref name="handler"/> null: over the network, as the real CLI does.</summary>
    public static async Task<CliResult> RunAsync(string[] args, HttpMessageHandler? handler)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        using var timeout = new CancellationTokenSource(Timeout);
        var exitCode = await Program.RunAsync(args, handler, stdout, stderr, timeout.Token);
        return new CliResult(exitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Starts a command that runs until <paramref name="cancellationToken"/> (events tail).</summary>
    public Task<int> StartAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken) =>
        Program.RunAsync([.. Prefix(withKey: true), .. args], gateway.Server.CreateHandler(), stdout, stderr, cancellationToken);

    /// <summary>Runs with <c>--json</c>, asserts exit code 0 and returns the parsed output.</summary>
    public async Task<JsonNode> JsonAsync(params string[] args)
    {
        var result = await RunAsync(["--json", .. args]);
        Assert.True(result.ExitCode == 0, $"exit code {result.ExitCode}: {result.Stderr}");
        return JsonNode.Parse(result.Stdout) ?? throw new InvalidOperationException("null JSON");
    }

    /// <summary>Creates a user through the tenant's SCIM endpoint, as Entra would; returns its id.</summary>
    public static async Task<string> CreateUserAsync(HttpClient scim, string userName)
    {
        using var response = await scim.PostAsync("Users", new StringContent(EntraPayloads.MinimalUser(userName), Encoding.UTF8, "application/scim+json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return JsonNode.Parse(body)!["id"]!.GetValue<string>();
    }

    /// <summary>Runs in table mode, asserts exit code 0 and returns stdout.</summary>
    public async Task<string> TableAsync(params string[] args)
    {
        var result = await RunAsync(args);
        Assert.True(result.ExitCode == 0, $"exit code {result.ExitCode}: {result.Stderr}");
        return result.Stdout;
    }

    private string[] Prefix(bool withKey) => withKey
        ? ["--url", gateway.Server.BaseAddress.ToString(), "--key", GatewayFactory.AdminKey]
        : ["--url", gateway.Server.BaseAddress.ToString()];
}

/// <summary>What a run left: its exit code and both streams.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr);
