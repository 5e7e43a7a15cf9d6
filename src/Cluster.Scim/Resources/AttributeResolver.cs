using System.Text.Json.Nodes;
using Cluster.Scim.Schema;

namespace Cluster.Scim.Resources;

/// <summary>
/// Resolves attribute names against a resource type the way clients use them: a name without a URN is looked up in
/// the core schema, then the common attributes, then each extension (Entra's legacy <c>manager</c> path means the
/// enterprise <c>manager</c>).
/// </summary>
internal static class AttributeResolver
{
    /// <summary>Parses and resolves a name; null when it is not a valid path or names no known attribute.</summary>
    public static ResolvedAttribute? TryResolve(ResourceTypeDefinition type, string name) =>
        AttributePath.TryParse(name, out var path) ? type.Resolve(path) : null;

    /// <summary>
    /// True for a key that names no configured schema and is passed over: Entra's malformed enterprise URN of its legacy
    /// create example (<c>…enterprise:2.0User</c>, entra-scim.md §2.3: a shape to accept, whatever it carries), or any other
    /// key that looks like a schema URI (<c>urn:…</c>, <c>http…</c>) and carries nothing to store (null, or an object of
    /// nulls). Another unknown extension with values is refused by the caller: passing over it answered success and lost
    /// what the client asked to store (an attribute mapped in Entra before the operator configured its extension).
    /// </summary>
    public static bool IsPassedOver(string key, JsonNode? value) =>
        (key.Equals(MalformedEnterpriseUrn, StringComparison.OrdinalIgnoreCase) && (value is JsonObject || ScimJson.IsNull(value)))
        || (LooksLikeSchemaUri(key) && (ScimJson.IsNull(value) || value is JsonObject members && members.All(m => ScimJson.IsNull(m.Value))));

    /// <summary>True for keys that look like a schema URI (<c>urn:…</c>, <c>http…</c>).</summary>
    public static bool LooksLikeSchemaUri(string key) =>
        key.StartsWith("urn:", StringComparison.OrdinalIgnoreCase) || key.StartsWith("http", StringComparison.OrdinalIgnoreCase);

    private const string MalformedEnterpriseUrn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0User";
}
