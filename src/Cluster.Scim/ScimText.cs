namespace Cluster.Scim;

/// <summary>
/// How our messages quote what a client sent: names in single quotes, string values in double quotes, with a quote or
/// backslash inside escaped by a backslash. A reader of a message (the provisioning log's redaction) can then tell where
/// the client's text ends, whatever it contains: <c>o'brien</c> is quoted <c>'o\'brien'</c>, not <c>'o'brien'</c>.
/// </summary>
public static class ScimText
{
    /// <summary><paramref name="text"/> in single quotes, its quotes and backslashes escaped.</summary>
    public static string Quoted(string? text) => "'" + Escape(text, '\'') + "'";

    /// <summary>The text of <paramref name="value"/> (a path, a name) in single quotes, escaped as <see cref="Quoted(string?)"/>.</summary>
    public static string Quoted(object? value) => Quoted(value?.ToString());

    /// <summary><paramref name="text"/> in double quotes, its quotes and backslashes escaped.</summary>
    public static string QuotedString(string? text) => "\"" + Escape(text, '"') + "\"";

    private static string Escape(string? text, char quote) =>
        string.IsNullOrEmpty(text) || (!text.Contains(quote, StringComparison.Ordinal) && !text.Contains('\\', StringComparison.Ordinal))
            ? text ?? ""
            : text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(quote.ToString(), "\\" + quote, StringComparison.Ordinal);
}
