using System.Diagnostics;

namespace Cluster.Operations.Tests;

/// <summary>
/// deploy/local/run.sh refuses settings it cannot run before it builds or starts anything, naming the variable.
/// </summary>
public sealed class LocalRunScriptTests
{
    [Fact]
    public async Task ASplitClusterWithoutGatewaysIsRefusedBeforeAnythingStarts()
    {
        // Until 2026-12-08 it started the silos and said "SCIM cluster is up (split): … 0 gateway(s)", with nothing
        // listening where it said to send SCIM requests.
        var data = Directory.CreateTempSubdirectory("runsh-");
        try
        {
            var start = new ProcessStartInfo("bash", [RepoFiles.Path("deploy/local/run.sh")])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                Environment = { ["TOPOLOGY"] = "split", ["GATEWAYS"] = "0", ["SKIP_BUILD"] = "1", ["DATA_DIR"] = data.FullName },
            };
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);

            Assert.NotEqual(0, process.ExitCode);
            Assert.Contains("GATEWAYS", await error + await output, StringComparison.Ordinal);
            Assert.Empty(data.EnumerateFileSystemInfos()); // nothing written: no pids, no keys, no Azurite
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }
}
