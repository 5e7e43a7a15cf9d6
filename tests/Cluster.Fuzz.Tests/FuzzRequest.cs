using System.Globalization;
using System.Text;

namespace Cluster.Fuzz.Tests;

/// <summary>
/// One HTTP request of the harness: method, target (path and query, already escaped), headers and raw body bytes.
/// Kept as data rather than an <see cref="HttpRequestMessage"/> so that generators can mutate it and a shrunk failure
/// prints readably (<see cref="ToString"/>): the body as text, with every byte that is not printable UTF-8 as <c>\xNN</c>.
/// </summary>
public sealed record FuzzRequest(string Method, string Target, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[]? Body)
{
    private const int MaxShownBodyChars = 3000;

    /// <summary>
    /// The request as <see cref="HttpClient"/> sends it. Headers are added without validation, so malformed values reach
    /// the server as generated; content headers (<c>Content-Type</c>) go with the body and are dropped when there is none.
    /// </summary>
    public HttpRequestMessage ToMessage()
    {
        var message = new HttpRequestMessage(new HttpMethod(Method), new Uri(Target, UriKind.Relative));
        if (Body is not null)
        {
            message.Content = new ByteArrayContent(Body);
        }

        foreach (var (name, value) in Headers)
        {
            if (!message.Headers.TryAddWithoutValidation(name, value))
            {
                message.Content?.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return message;
    }

    public override string ToString()
    {
        var text = new StringBuilder().Append(Method).Append(' ').Append(Target).Append('\n');
        foreach (var (name, value) in Headers)
        {
            text.Append(name).Append(": ").Append(Escape(Encoding.Latin1.GetBytes(value), int.MaxValue)).Append('\n');
        }

        if (Body is null)
        {
            return text.Append("(no body)").ToString();
        }

        return text.Append('\n').Append(Escape(Body, MaxShownBodyChars))
            .Append(CultureInfo.InvariantCulture, $"\n({Body.Length} bytes)").ToString();
    }

    /// <summary>Bytes as UTF-8 text where they are printable UTF-8, else <c>\xNN</c> per byte; cut after <paramref name="maxChars"/>.</summary>
    public static string Escape(ReadOnlySpan<byte> bytes, int maxChars)
    {
        var text = new StringBuilder();
        var i = 0;
        while (i < bytes.Length && text.Length < maxChars)
        {
            if (Rune.DecodeFromUtf8(bytes[i..], out var rune, out var consumed) == System.Buffers.OperationStatus.Done
                && !Rune.IsControl(rune) && rune.Value != 0xFEFF)
            {
                text.Append(rune.ToString());
                i += consumed;
                continue;
            }

            text.Append(bytes[i] switch
            {
                (byte)'\n' => "\\n",
                (byte)'\r' => "\\r",
                (byte)'\t' => "\\t",
                var b => string.Create(CultureInfo.InvariantCulture, $"\\x{b:X2}"),
            });
            i++;
        }

        return i < bytes.Length ? text.Append(CultureInfo.InvariantCulture, $"… ({bytes.Length - i} more bytes)").ToString() : text.ToString();
    }
}
