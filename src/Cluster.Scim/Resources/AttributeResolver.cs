using Cluster.Scim.Schema;

namespace Cluster.Scim.Resources;

/// <summary>
/// Resolves attribute names against a resource type the way clients use them: a name without a URN is looked up in
/// the core schema, then the common attributes, then each extension (Entra's legacy <c>manager</c> path means the
/// enterprise <c>manager</c>).
/// </summary>
internal static class AttributeResolver
{
    public static ResolvedAttribute? Resolve(ResourceTypeDefinition type, AttributePath path)
    {
        var resolved = type.Resolve(path);
        if (resolved is not null || path.SchemaUrn is not null)
        {
            return resolved;
        }

        foreach (var extension in type.Extensions)
        {
            var attribute = extension.Schema.FindAttribute(path.AttributeName);
            if (attribute is null)
            {
                continue;
            }

            if (path.SubAttributeName is null)
            {
                return new ResolvedAttribute(extension.Schema, attribute, null);
            }

            var sub = attribute.FindSubAttribute(path.SubAttributeName);
            return sub is null ? null : new ResolvedAttribute(extension.Schema, attribute, sub);
        }

        return null;
    }

    /// <summary>Parses and resolves a name; null when it is not a valid path or names no known attribute.</summary>
    public static ResolvedAttribute? TryResolve(ResourceTypeDefinition type, string name) =>
        AttributePath.TryParse(name, out var path) ? Resolve(type, path) : null;

    /// <summary>True for keys that look like a schema URI (<c>urn:…</c>, <c>http…</c>).</summary>
    public static bool LooksLikeSchemaUri(string key) =>
        key.StartsWith("urn:", StringComparison.OrdinalIgnoreCase) || key.StartsWith("http", StringComparison.OrdinalIgnoreCase);

    /// <summary>True when the resolved attribute is stored under its extension URN key.</summary>
    public static bool IsExtension(this ResolvedAttribute resolved, ResourceTypeDefinition type) =>
        !ReferenceEquals(resolved.Schema, type.Schema);
}
