using System.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace Cluster.Operations.Tests;

/// <summary>
/// The shipped alerting rules (deploy/prometheus/alerts.yml) through Prometheus's own tool, promtool (from Debian's
/// prometheus package, which tests/run.sh unpacks into .tools/prometheus; <c>PROMTOOL</c> overrides the path): the file and its annotation templates are valid,
/// the Prometheus configuration that loads them is, and each alert fires on the series it is meant for and not on its
/// neighbours (Alerts/alerts.test.yml, promtool's unit tests, on simulated time).
/// </summary>
public sealed class AlertRuleTests
{
    private static readonly string Rules = RepoFiles.Path("deploy/prometheus/alerts.yml");

    [Fact]
    public async Task TheRulesAndTheirTemplatesAreValid()
    {
        var (code, output) = await PromtoolAsync(Path.GetDirectoryName(Rules)!, "check", "rules", Rules);
        Assert.True(code == 0, output);
        Assert.Contains($"SUCCESS: {DeploymentManifestTests.AlertRules().Count} rules found", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThePrometheusConfigurationThatLoadsThemIsValid()
    {
        using var dir = new TempDirectory();
        File.Copy(Rules, Path.Combine(dir.Path, "alerts.yml"));
        var config = RepoFiles.Read("deploy/prometheus/prometheus.yml").Replace("/etc/prometheus/alerts.yml", Path.Combine(dir.Path, "alerts.yml"), StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(dir.Path, "prometheus.yml"), config);
        var (code, output) = await PromtoolAsync(dir.Path, "check", "config", "prometheus.yml");
        Assert.True(code == 0, output);
    }

    /// <summary>
    /// promtool compares annotations too, so the rules are tested without theirs (rendered texts would be copied into the
    /// tests word for word): what is tested is each alert's query, its <c>for</c> and its labels.
    /// </summary>
    [Fact]
    public async Task EachAlertFiresOnItsSeriesAndNotOnItsNeighbours()
    {
        using var dir = new TempDirectory();
        var stream = new YamlStream();
        using (var reader = new StringReader(await File.ReadAllTextAsync(Rules)))
        {
            stream.Load(reader);
        }

        var groups = (YamlSequenceNode)((YamlMappingNode)stream.Documents[0].RootNode).Children[new YamlScalarNode("groups")];
        var rules = groups.Cast<YamlMappingNode>().SelectMany(g => ((YamlSequenceNode)g.Children[new YamlScalarNode("rules")]).Cast<YamlMappingNode>()).ToList();
        foreach (var rule in rules)
        {
            Assert.True(rule.Children.Remove(new YamlScalarNode("annotations")), "a rule without annotations");
        }

        await using (var writer = new StreamWriter(Path.Combine(dir.Path, "alerts.yml")))
        {
            stream.Save(writer, assignAnchors: false);
        }

        var tests = RepoFiles.Read("tests/Cluster.Operations.Tests/Alerts/alerts.test.yml");
        await File.WriteAllTextAsync(Path.Combine(dir.Path, "alerts.test.yml"), tests);

        // Every alert has a test.
        Assert.All(rules, r => Assert.Contains($"alertname: {((YamlScalarNode)r.Children[new YamlScalarNode("alert")]).Value}\n", tests, StringComparison.Ordinal));
        var (code, output) = await PromtoolAsync(dir.Path, "test", "rules", "alerts.test.yml");
        Assert.True(code == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Output)> PromtoolAsync(string directory, params string[] arguments)
    {
        var promtool = Environment.GetEnvironmentVariable("PROMTOOL") is { Length: > 0 } set ? set
            : new[] { RepoFiles.Path(".tools/prometheus/usr/bin/promtool"), "/usr/bin/promtool" }.FirstOrDefault(File.Exists) ?? RepoFiles.Path(".tools/prometheus/usr/bin/promtool");
        Assert.True(File.Exists(promtool), $"{promtool} is missing: tests/run.sh unpacks it there (from Debian's prometheus package), or set PROMTOOL.");
        var start = new ProcessStartInfo(promtool) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    private sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("scim-alerts-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
