using System.Text;

namespace Cluster.Cli.Tests;

/// <summary>A <see cref="TextWriter"/> that a test can read and wait on while a command is still writing to it.</summary>
public sealed class CapturingWriter : TextWriter
{
    private readonly Lock _lock = new();
    private readonly StringBuilder _text = new();

    public override Encoding Encoding => Encoding.UTF8;

    /// <summary>Everything written so far.</summary>
    public string Text
    {
        get
        {
            lock (_lock)
            {
                return _text.ToString();
            }
        }
    }

    public override void Write(char value)
    {
        lock (_lock)
        {
            _text.Append(value);
        }
    }

    public override void Write(string? value)
    {
        lock (_lock)
        {
            _text.Append(value);
        }
    }

    /// <summary>Waits until the text contains <paramref name="expected"/>; throws <see cref="TimeoutException"/> with what came.</summary>
    public async Task WaitForAsync(string expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Text.Contains(expected, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"'{expected}' was not written within {timeout}. Written:\n{Text}");
            }

            await Task.Delay(50);
        }
    }
}
