namespace Cluster.Scim.Schema;

/// <summary>RFC 7643 §2.3 attribute data types.</summary>
public enum AttributeType
{
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Complex,
    Binary,
}

/// <summary>RFC 7643 §7 mutability.</summary>
public enum Mutability
{
    ReadWrite,
    ReadOnly,
    Immutable,
    WriteOnly,
}

/// <summary>RFC 7643 §7 returned.</summary>
public enum Returned
{
    Default,
    Always,
    Never,
    Request,
}

/// <summary>RFC 7643 §7 uniqueness.</summary>
public enum Uniqueness
{
    None,
    Server,
    Global,
}

/// <summary>
/// One attribute of a schema (RFC 7643 §7). The same definitions drive validation, filtering, PATCH,
/// projection and the <c>/Schemas</c> discovery document, so they cannot disagree.
/// </summary>
public sealed record AttributeDefinition
{
    public required string Name { get; init; }

    public AttributeType Type { get; init; } = AttributeType.String;

    public bool MultiValued { get; init; }

    public string Description { get; init; } = "";

    public bool Required { get; init; }

    public bool CaseExact { get; init; }

    public Mutability Mutability { get; init; } = Mutability.ReadWrite;

    public Returned Returned { get; init; } = Returned.Default;

    public Uniqueness Uniqueness { get; init; } = Uniqueness.None;

    public IReadOnlyList<string> CanonicalValues { get; init; } = [];

    public IReadOnlyList<string> ReferenceTypes { get; init; } = [];

    public IReadOnlyList<AttributeDefinition> SubAttributes { get; init; } = [];

    /// <summary>
    /// False for an attribute that is accepted on input and then dropped, never stored (the core <c>password</c>: this
    /// service authenticates nobody). Other <c>writeOnly</c> attributes (operator extensions) are stored and never returned.
    /// Not part of the RFC 7643 schema representation, so not shown in <c>/Schemas</c>.
    /// </summary>
    public bool Stored { get; init; } = true;

    /// <summary>
    /// False for a value the stored resource does not hold: the gateway adds it when it renders the resource from its base URL
    /// (<c>meta.location</c>, a member's <c>$ref</c>; a user's <c>groups.$ref</c> is not even rendered). Filters and
    /// <c>sortBy</c> look at stored resources, so they refuse it instead of never matching. Not part of the RFC 7643 schema
    /// representation.
    /// </summary>
    public bool Queryable { get; init; } = true;

    /// <summary>True when the value never leaves the server (<c>returned: never</c> or writeOnly): it may not be filtered or sorted on either.</summary>
    public bool NeverReturned => Returned == Returned.Never || Mutability == Mutability.WriteOnly;

    /// <summary>Finds a sub-attribute by name, case-insensitively (RFC 7643 §2.1).</summary>
    public AttributeDefinition? FindSubAttribute(string name)
    {
        foreach (var sub in SubAttributes)
        {
            if (string.Equals(sub.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return sub;
            }
        }

        return null;
    }
}
