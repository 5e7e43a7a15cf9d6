namespace Cluster.Scim.Schema;

/// <summary>A SCIM schema (RFC 7643 §7): a URN and its attributes.</summary>
public sealed record SchemaDefinition(string Id, string Name, string Description, IReadOnlyList<AttributeDefinition> Attributes)
{
    /// <summary>Finds a top-level attribute by name, case-insensitively.</summary>
    public AttributeDefinition? FindAttribute(string name)
    {
        foreach (var attribute in Attributes)
        {
            if (string.Equals(attribute.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return attribute;
            }
        }

        return null;
    }
}

/// <summary>A resource type (RFC 7643 §6): its endpoint, core schema and extensions.</summary>
public sealed record ResourceTypeDefinition(
    string Name,
    string Endpoint,
    string Description,
    SchemaDefinition Schema,
    IReadOnlyList<SchemaExtension> Extensions)
{
    /// <summary>Finds an extension schema by URN, case-insensitively.</summary>
    public SchemaDefinition? FindExtension(string urn)
    {
        foreach (var extension in Extensions)
        {
            if (string.Equals(extension.Schema.Id, urn, StringComparison.OrdinalIgnoreCase))
            {
                return extension.Schema;
            }
        }

        return null;
    }

    /// <summary>Finds the schema (core or extension) with this URN.</summary>
    public SchemaDefinition? FindSchema(string urn) =>
        string.Equals(Schema.Id, urn, StringComparison.OrdinalIgnoreCase) ? Schema : FindExtension(urn);

    /// <summary>
    /// Resolves an attribute path against this resource type. Returns null when the attribute does not exist.
    /// A path without a URN is looked up in the core schema first, then in each extension.
    /// </summary>
    public ResolvedAttribute? Resolve(AttributePath path)
    {
        SchemaDefinition? schema;
        AttributeDefinition? attribute = null;
        if (path.SchemaUrn is { } urn)
        {
            schema = FindSchema(urn);
            attribute = schema?.FindAttribute(path.AttributeName);
        }
        else
        {
            schema = Schema;
            attribute = Schema.FindAttribute(path.AttributeName) ?? CommonAttributes.Find(path.AttributeName);
        }

        if (schema is null || attribute is null)
        {
            return null;
        }

        if (path.SubAttributeName is null)
        {
            return new ResolvedAttribute(schema, attribute, null);
        }

        var sub = attribute.FindSubAttribute(path.SubAttributeName);
        return sub is null ? null : new ResolvedAttribute(schema, attribute, sub);
    }
}

/// <summary>An extension schema attached to a resource type.</summary>
public sealed record SchemaExtension(SchemaDefinition Schema, bool Required);

/// <summary>The result of resolving an <see cref="AttributePath"/>: the schema, the attribute and, if named, the sub-attribute.</summary>
public sealed record ResolvedAttribute(SchemaDefinition Schema, AttributeDefinition Attribute, AttributeDefinition? SubAttribute)
{
    /// <summary>The definition the path finally points at.</summary>
    public AttributeDefinition Target => SubAttribute ?? Attribute;

    /// <summary>True when the attribute lives in an extension schema (stored under its URN key).</summary>
    public bool IsExtension(ResourceTypeDefinition resourceType) => !ReferenceEquals(Schema, resourceType.Schema);
}
