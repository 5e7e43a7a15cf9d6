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

    /// <summary>True for keys that look like a schema URI (<c>urn:…</c>, <c>http…</c>).</summary>
    public static bool LooksLikeSchemaUri(string key) =>
        key.StartsWith("urn:", StringComparison.OrdinalIgnoreCase) || key.StartsWith("http", StringComparison.OrdinalIgnoreCase);
}
