namespace Cluster.Scim.Schema;

/// <summary>
/// One operator-defined extension schema, as written in configuration (section <c>Scim:Extensions</c>, an array).
/// Turned into a validated <see cref="SchemaDefinition"/> by <see cref="ScimSchemas.Build"/>; every host of a cluster
/// (silos and gateways) must be given the same list.
/// </summary>
public sealed class ExtensionSchemaOptions
{
    /// <summary>The configuration section holding the array of extensions.</summary>
    public const string SectionName = "Scim:Extensions";

    /// <summary>The schema URN, e.g. <c>urn:ietf:params:scim:schemas:extension:acme:2.0:User</c>.</summary>
    public string? Schema { get; set; }

    /// <summary>Human-readable name (<c>/Schemas</c> <c>name</c>); defaults to the URN's last segment.</summary>
    public string? Name { get; set; }

    /// <summary>Description shown in <c>/Schemas</c>.</summary>
    public string? Description { get; set; }

    /// <summary>The resource type it extends: <c>User</c> (default) or <c>Group</c>.</summary>
    public string? ResourceType { get; set; }

    /// <summary>When true, every resource of the type must carry this extension (<c>/ResourceTypes</c> <c>required</c>).</summary>
    public bool Required { get; set; }

    /// <summary>The attributes (at least one).</summary>
    public List<ExtensionAttributeOptions> Attributes { get; set; } = [];
}

/// <summary>One attribute of an <see cref="ExtensionSchemaOptions"/> (RFC 7643 §7 characteristics, camelCase or PascalCase values).</summary>
public sealed class ExtensionAttributeOptions
{
    /// <summary>RFC 7643 §2.1 attribute name: a letter, then letters, digits, <c>-</c> or <c>_</c>.</summary>
    public string? Name { get; set; }

    /// <summary><c>string</c> (default), <c>boolean</c>, <c>decimal</c>, <c>integer</c>, <c>dateTime</c>, <c>reference</c>, <c>binary</c> or <c>complex</c>.</summary>
    public string? Type { get; set; }

    /// <summary><c>readWrite</c> (default), <c>readOnly</c>, <c>immutable</c> or <c>writeOnly</c>.</summary>
    public string? Mutability { get; set; }

    /// <summary><c>default</c> (default; <c>never</c> for writeOnly), <c>always</c>, <c>never</c> or <c>request</c>.</summary>
    public string? Returned { get; set; }

    /// <summary>Only <c>none</c> is accepted: uniqueness of extension attributes is not enforced, so it is not advertised either.</summary>
    public string? Uniqueness { get; set; }

    /// <summary>Required whenever the extension is present on a resource (POST/PUT without it → 400 invalidValue).</summary>
    public bool Required { get; set; }

    public bool CaseExact { get; set; }

    public bool MultiValued { get; set; }

    public string? Description { get; set; }

    public List<string> CanonicalValues { get; set; } = [];

    public List<string> ReferenceTypes { get; set; } = [];

    /// <summary>Sub-attributes of a <c>complex</c> attribute (which themselves cannot be complex).</summary>
    public List<ExtensionAttributeOptions> SubAttributes { get; set; } = [];
}
