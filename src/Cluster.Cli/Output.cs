using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cluster.Cli;

/// <summary>
/// How a command prints: with <c>--json</c>, exactly the API's JSON (indented, or one compact object per line for a
/// stream); otherwise readable text: aligned fields, tables and notes. Commands hand it the API's answer and say how a
/// human sees it; they never test the mode themselves.
/// </summary>
internal sealed class Output(TextWriter writer, bool json)
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>True with <c>--json</c>.</summary>
    public bool IsJson => json;

    /// <summary>Prints an answer: the JSON itself with <c>--json</c>, else what <paramref name="human"/> writes. A bodiless answer (204, 202) prints nothing.</summary>
    public void Show(JsonNode? answer, Action<JsonNode> human)
    {
        if (answer is null)
        {
            return;
        }

        if (json)
        {
            writer.WriteLine(answer.ToJsonString(Indented));
        }
        else
        {
            human(answer);
        }
    }

    /// <summary>
    /// One page of a stream: with <c>--json</c> each item as a compact JSON line (NDJSON), else as table rows (the header
    /// only when <paramref name="header"/>: the first page). Flushed, so a follower sees each page when it comes.
    /// </summary>
    public void Rows(IEnumerable<JsonNode> items, IReadOnlyList<Column> columns, Func<JsonNode, string?[]> row, bool header)
    {
        if (json)
        {
            foreach (var item in items)
            {
                writer.WriteLine(item.ToJsonString(Compact));
            }

            writer.Flush();
        }
        else
        {
            Table(columns, items.Select(row), header);
        }
    }

    /// <summary>A line for humans only (confirmations, hints): <c>--json</c> output stays the API's JSON.</summary>
    public void Note(string text = "")
    {
        if (!json)
        {
            writer.WriteLine(text);
        }
    }

    /// <summary>Labelled values, the labels padded to one width: <c>Tenant URL  https://…</c>. Null values are left out.</summary>
    public void Fields(params (string Label, string? Value)[] fields)
    {
        var shown = fields.Where(f => f.Value is not null).ToList();
        var width = shown.Count == 0 ? 0 : shown.Max(f => f.Label.Length);
        foreach (var (label, value) in shown)
        {
            writer.WriteLine($"  {label.PadRight(width)}  {value}");
        }
    }

    /// <summary>
    /// A table: a header row (unless <paramref name="header"/> is false: a stream's later pages), then one row per item,
    /// each column as wide as its widest cell or its <see cref="Column.MinWidth"/>. The last column is not padded.
    /// </summary>
    public void Table(IReadOnlyList<Column> columns, IEnumerable<string?[]> rows, bool header = true)
    {
        var cells = rows.Select(r => r.Select(c => c ?? "").ToArray()).ToList();
        var widths = columns.Select((c, i) => Math.Max(Math.Max(c.MinWidth, header ? c.Header.Length : 0), cells.Count == 0 ? 0 : cells.Max(r => r[i].Length))).ToArray();
        if (header)
        {
            WriteRow(columns.Select(c => c.Header).ToArray(), columns, widths);
        }

        foreach (var row in cells)
        {
            WriteRow(row, columns, widths);
        }

        writer.Flush();
    }

    private void WriteRow(string[] cells, IReadOnlyList<Column> columns, int[] widths)
    {
        var parts = cells.Select((cell, i) => i == cells.Length - 1 && !columns[i].RightAligned
            ? cell
            : columns[i].RightAligned ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]));
        writer.WriteLine(string.Join("  ", parts).TrimEnd());
    }
}

/// <summary>A table column: its header, whether numbers align right, and a minimum width (so a stream's pages line up).</summary>
internal sealed record Column(string Header, bool RightAligned = false, int MinWidth = 0);

/// <summary>Reading the API's JSON for display.</summary>
internal static class JsonText
{
    /// <summary>A property as text: a string as is, another value as JSON, a missing or null one as <c>null</c>.</summary>
    public static string? Text(this JsonNode? node, string property) => node?[property] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        var other => other.ToJsonString(),
    };

    /// <summary>A time property in UTC, <c>2026-12-04 09:30:00.123Z</c>; as sent when it is not a time.</summary>
    public static string? Time(this JsonNode? node, string property) =>
        DateTimeOffset.TryParse(node.Text(property), CultureInfo.InvariantCulture, DateTimeStyles.None, out var time)
            ? time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)
            : node.Text(property);

    /// <summary>A boolean property as <c>yes</c>/<c>no</c>.</summary>
    public static string YesNo(this JsonNode? node, string property) => node?[property]?.GetValue<bool>() == true ? "yes" : "no";

    /// <summary>An array property's items (none when missing).</summary>
    public static IEnumerable<JsonNode> Items(this JsonNode? node, string property) =>
        node?[property] is JsonArray array ? array.OfType<JsonNode>() : [];
}
