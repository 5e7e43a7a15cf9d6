using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cluster.Scim;

/// <summary>How SCIM JSON is written, in storage and on the wire: UTF-8 as sent, without escaping quotes or non-ASCII letters.</summary>
public static class ScimSerializer
{
    /// <summary>Relaxed escaping: safe for JSON bodies (never embedded in HTML).</summary>
    public static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Serialize(JsonNode node) => node.ToJsonString(Options);
}
