namespace Cluster.Scim.Schema;

/// <summary>RFC 7643 §3.1 attributes every resource has: <c>id</c>, <c>externalId</c>, <c>meta</c> (and <c>schemas</c>).</summary>
public static class CommonAttributes
{
    public static readonly AttributeDefinition Id = new()
    {
        Name = "id",
        Description = "Unique identifier for the resource, assigned by the service provider.",
        CaseExact = true,
        Mutability = Mutability.ReadOnly,
        Returned = Returned.Always,
        Uniqueness = Uniqueness.Server,
    };

    public static readonly AttributeDefinition ExternalId = new()
    {
        Name = "externalId",
        Description = "Identifier of the resource as defined by the provisioning client.",
        CaseExact = true,
    };

    public static readonly AttributeDefinition Meta = new()
    {
        Name = "meta",
        Type = AttributeType.Complex,
        Description = "Resource metadata.",
        Mutability = Mutability.ReadOnly,
        SubAttributes =
        [
            new() { Name = "resourceType", CaseExact = true, Mutability = Mutability.ReadOnly },
            new() { Name = "created", Type = AttributeType.DateTime, Mutability = Mutability.ReadOnly },
            new() { Name = "lastModified", Type = AttributeType.DateTime, Mutability = Mutability.ReadOnly },
            new() { Name = "location", Type = AttributeType.Reference, CaseExact = true, Mutability = Mutability.ReadOnly, ReferenceTypes = ["uri"], Queryable = false },
            new() { Name = "version", CaseExact = true, Mutability = Mutability.ReadOnly },
        ],
    };

    public static readonly AttributeDefinition Schemas = new()
    {
        Name = "schemas",
        MultiValued = true,
        CaseExact = true,
        Mutability = Mutability.ReadOnly,
        Returned = Returned.Always,
        Type = AttributeType.Reference,
        ReferenceTypes = ["uri"],
    };

    private static readonly AttributeDefinition[] All = [Id, ExternalId, Meta, Schemas];

    /// <summary>Finds a common attribute by name, case-insensitively.</summary>
    public static AttributeDefinition? Find(string name)
    {
        foreach (var attribute in All)
        {
            if (string.Equals(attribute.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return attribute;
            }
        }

        return null;
    }
}
