using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Cluster.TestInfrastructure;

namespace Cluster.Operations.Tests;

/// <summary>
/// The real silo host (<c>src/Cluster.Silo</c>, built with this test project) started as its own process on free
/// loopback ports — HTTP, silo and Orleans gateway — with localhost membership and memory grain storage, the operator
/// key set. Killed (with any child) when disposed, whatever happened. <see cref="With"/> gives it other settings, e.g. a
/// configuration this test process cannot host itself (the SCIM schema set is one per process).
/// </summary>
public sealed class SiloProcess : IAsyncLifetime
{
    public const string OperatorKey = "silo-operator-key-0123456789";

    private readonly ConcurrentQueue<string> _output = new();
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private Process? _process;

    public SiloProcess()
        : this(new Dictionary<string, string?>())
    {
    }

    private SiloProcess(IReadOnlyDictionary<string, string?> settings) => _settings = settings;

    /// <summary>
    /// A silo process with extra settings (configuration keys as in appsettings, e.g. <c>Storage:Provider</c>), applied
    /// after the defaults above.
    /// </summary>
    public static SiloProcess With(IReadOnlyDictionary<string, string?> settings) => new(settings);

    public int HttpPort { get; } = TestPorts.Free();

    public int GatewayPort { get; } = TestPorts.Free();

    public Uri BaseAddress => new($"http://127.0.0.1:{HttpPort}");

    /// <summary>The last lines the silo wrote (stdout and stderr), for failure messages.</summary>
    public string Output => string.Join('\n', _output.TakeLast(60));

    public Task InitializeAsync()
    {
        var configuration = typeof(SiloProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var dll = RepoFiles.Path(Path.Combine("src", "Cluster.Silo", "bin", configuration, "net10.0", "Cluster.Silo.dll"));
        Assert.True(File.Exists(dll), $"{dll} is missing: the test project builds src/Cluster.Silo (ProjectReference without output assembly).");

        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        var environment = start.Environment;
        environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        environment.Remove("KUBERNETES_SERVICE_HOST");
        environment["ASPNETCORE_URLS"] = BaseAddress.ToString().TrimEnd('/');
        environment["Cluster__Membership"] = "Localhost";
        environment["Cluster__Kubernetes"] = "false";
        environment["Cluster__SiloPort"] = TestPorts.Free().ToString(CultureInfo.InvariantCulture);
        environment["Cluster__GatewayPort"] = GatewayPort.ToString(CultureInfo.InvariantCulture);
        environment["Storage__Provider"] = "Memory";
        environment["Admin__ApiKey"] = OperatorKey;
        foreach (var (key, value) in TestEvents.Settings.Concat(_settings))
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_process is null)
        {
            return;
        }

        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // Killed but not reaped within 30 s: nothing more to do, and a test's own failure must not be hidden by this.
        }
        finally
        {
            _process.Dispose();
        }
    }

    /// <summary>An HTTP client for the silo's HTTP port.</summary>
    public HttpClient Client() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Waits until the silo's <c>/health</c> answers 200 (ready: an active member whose storage answers).</summary>
    public Task WaitUntilHealthyAsync() => WaitUntilAsync("/health = 200", async client =>
    {
        using var response = await client.GetAsync("/health");
        return response.StatusCode == System.Net.HttpStatusCode.OK;
    });

    /// <summary>Polls (bounded, about two minutes on a loaded machine) until <paramref name="condition"/> holds; fails with the silo's output otherwise.</summary>
    public Task WaitUntilAsync(string what, Func<HttpClient, Task<bool>> condition) => WaitUntilAsync(what, () => "", condition);

    /// <summary>As <see cref="WaitUntilAsync(string, Func{HttpClient, Task{bool}})"/>, with <paramref name="seen"/> describing the last observation on failure.</summary>
    public async Task WaitUntilAsync(string what, Func<string> seen, Func<HttpClient, Task<bool>> condition)
    {
        using var client = Client();
        for (var attempt = 0; attempt < 240; attempt++)
        {
            if (_process!.HasExited)
            {
                Assert.Fail($"The silo exited ({_process.ExitCode}) while waiting for {what}:\n{Output}");
            }

            try
            {
                if (await condition(client))
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(500);
        }

        Assert.Fail($"Timed out waiting for {what}. {seen()}\nSilo output:\n{Output}");
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 200 && _output.TryDequeue(out _))
        {
        }
    }
}
