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

    /// <summary>
    /// True when a stored attribute (or sub-attribute) is never returned (writeOnly or <c>returned: never</c>, e.g. an
    /// operator's writeOnly extension attribute): such values must be removed before a resource leaves the silo.
    /// </summary>
    /// <remarks>Computed once: it is asked on every grain answer.</remarks>
    public bool HasHiddenStoredAttributes { get; } = AllAttributes(Schema, Extensions).Any(a => a.Stored && a.NeverReturned);

    /// <summary>True when an attribute is returned only when asked for (<c>returned: request</c>). Computed once: asked on every GET.</summary>
    public bool HasRequestOnlyAttributes { get; } = AllAttributes(Schema, Extensions).Any(a => a.Returned == Returned.Request);

    /// <summary>Finds the schema (core or extension) with this URN.</summary>
    public SchemaDefinition? FindSchema(string urn) =>
        string.Equals(Schema.Id, urn, StringComparison.OrdinalIgnoreCase) ? Schema : FindExtension(urn);

    private static IEnumerable<AttributeDefinition> AllAttributes(SchemaDefinition schema, IReadOnlyList<SchemaExtension> extensions) =>
        schema.Attributes.Concat(extensions.SelectMany(e => e.Schema.Attributes)).SelectMany(a => a.SubAttributes.Prepend(a));

    /// <summary>
    /// Resolves an attribute path against this resource type the way clients use paths; null when no such attribute.
    /// A path without a URN is looked up in the core schema, then the common attributes (<c>id</c>, <c>externalId</c>,
    /// <c>meta</c>), then each extension (Entra's legacy <c>manager</c> means the enterprise <c>manager</c>).
    /// A path with the core URN may also name a common attribute (<c>urn:…:core:2.0:User:id</c>).
    /// </summary>
    public ResolvedAttribute? Resolve(AttributePath path)
    {
        if (path.SchemaUrn is { } urn)
        {
            var schema = FindSchema(urn);
            var attribute = schema?.FindAttribute(path.AttributeName)
                ?? (ReferenceEquals(schema, Schema) ? CommonAttributes.Find(path.AttributeName) : null);
            return schema is null || attribute is null ? null : WithSub(schema, attribute, path.SubAttributeName);
        }

        if ((Schema.FindAttribute(path.AttributeName) ?? CommonAttributes.Find(path.AttributeName)) is { } core)
        {
            return WithSub(Schema, core, path.SubAttributeName);
        }

        foreach (var extension in Extensions)
        {
            if (extension.Schema.FindAttribute(path.AttributeName) is { } attribute)
            {
                return WithSub(extension.Schema, attribute, path.SubAttributeName);
            }
        }

        return null;
    }

    private static ResolvedAttribute? WithSub(SchemaDefinition schema, AttributeDefinition attribute, string? subAttributeName)
    {
        if (subAttributeName is null)
        {
            return new ResolvedAttribute(schema, attribute, null);
        }

        var sub = attribute.FindSubAttribute(subAttributeName);
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
