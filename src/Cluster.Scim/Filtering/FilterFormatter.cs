using System.Text.Encodings.Web;
using System.Text.Json;

namespace Cluster.Scim.Filtering;

/// <summary>
/// Renders a <see cref="FilterNode"/> back to filter syntax, fully parenthesised (<c>(a eq "x" and b pr)</c>),
/// so that the output re-parses to the same tree. Meant for logs, diagnostics and tests.
/// </summary>
public static class FilterFormatter
{
    private static readonly JsonSerializerOptions LiteralOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Formats <paramref name="filter"/> in canonical, fully parenthesised form.</summary>
    public static string Format(FilterNode filter) => filter switch
    {
        ComparisonFilter c => $"{c.Path} {c.Operator.ToString().ToLowerInvariant()} {(c.Value is null ? "null" : c.Value.ToJsonString(LiteralOptions))}",
        PresentFilter p => $"{p.Path} pr",
        AndFilter a => $"({Format(a.Left)} and {Format(a.Right)})",
        OrFilter o => $"({Format(o.Left)} or {Format(o.Right)})",
        NotFilter n => $"not ({Format(n.Inner)})",
        ValuePathFilter v => $"{v.Path}[{Format(v.Filter)}]",
        _ => "?",
    };
}
