using System.CommandLine;
using System.CommandLine.Invocation;

namespace Cluster.Cli;

/// <summary>
/// <c>scim-admin</c>: the operator's command line over the gateway's admin API, so nobody hand-crafts HTTP.
/// The command tree is <see cref="AdminCli"/>; parsing, help, validation and <c>[suggest]</c> completion are System.CommandLine's.
/// </summary>
public static class Program
{
    public static Task<int> Main(string[] args) => RunAsync(args, null, Console.Out, Console.Error);

    /// <summary>
    /// Runs one command line and returns its exit code (<see cref="ExitCodes"/>): 0 done, 1 the API or the network
    /// failed, 2 a usage error (the parser's message, then the command's help, all on <paramref name="stderr"/>).
    /// </summary>
    /// <param name="args">The command line, e.g. <c>["--key", "…", "tenants", "show", "abc"]</c>.</param>
    /// <param name="handler">Replaces the network (tests); null for a real connection.</param>
    /// <param name="stdout">Where output goes (tables, or JSON with <c>--json</c>).</param>
    /// <param name="stderr">Where errors, usage help and progress notes go.</param>
    /// <param name="cancellationToken">
    /// Stops a running command (<c>events tail</c> ends with 0). When it cannot be cancelled (the default), Ctrl-C and
    /// SIGTERM do that instead; a caller that passes one owns cancellation and no signal handler is installed.
    /// </param>
    public static async Task<int> RunAsync(
        string[] args, HttpMessageHandler? handler, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        var parse = new AdminCli(handler).CreateRoot().Parse(args);
        var usageError = parse.Action is ParseErrorAction;
        var exitCode = await parse.InvokeAsync(
            new InvocationConfiguration
            {
                Output = usageError ? stderr : stdout,
                Error = stderr,
                ProcessTerminationTimeout = cancellationToken.CanBeCanceled ? null : TimeSpan.FromSeconds(2),
            },
            cancellationToken);
        return usageError ? ExitCodes.Usage : exitCode;
    }
}
