using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Cluster.Operations.Tests;

/// <summary>
/// An <see cref="ILoggerProvider"/> that keeps every entry written through the host's logger factory, with the
/// values of every scope active when it was written (the factory's own scopes: ASP.NET Core's request scope, the
/// gateway's SCIM request scope).
/// </summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public ConcurrentQueue<Entry> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    /// <summary>One log entry: its message, the key/value pairs of its state, and each active scope (text and key/value pairs).</summary>
    internal sealed record Entry(string Category, LogLevel Level, EventId EventId, string Message, string? Exception,
        IReadOnlyList<KeyValuePair<string, string?>> State, IReadOnlyList<Scope> Scopes)
    {
        /// <summary>The value of <paramref name="key"/> in the innermost scope that has it, or null.</summary>
        public string? ScopeValue(string key) =>
            Scopes.Reverse().SelectMany(s => s.Values).Where(v => v.Key == key).Select(v => v.Value).FirstOrDefault();

        /// <summary>Every text of the entry: message, exception, state values, scope texts and values.</summary>
        public IEnumerable<string> Texts() =>
            new[] { Message, Exception ?? "" }.Concat(State.Select(v => $"{v.Key}={v.Value}"))
                .Concat(Scopes.SelectMany(s => s.Values.Select(v => $"{v.Key}={v.Value}").Prepend(s.Text)));
    }

    internal sealed record Scope(string Text, IReadOnlyList<KeyValuePair<string, string?>> Values);

    private sealed class Logger(CapturingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => provider._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scopes = new List<Scope>();
            provider._scopes.ForEachScope((scope, list) => list.Add(new Scope(scope?.ToString() ?? "", Pairs(scope))), scopes);
            provider.Entries.Enqueue(new Entry(category, logLevel, eventId, formatter(state, exception), exception?.ToString(), Pairs(state), scopes));
        }

        private static List<KeyValuePair<string, string?>> Pairs(object? state) =>
            state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? pairs.Select(p => new KeyValuePair<string, string?>(p.Key, Convert.ToString(p.Value, System.Globalization.CultureInfo.InvariantCulture))).ToList()
                : [];
    }
}
