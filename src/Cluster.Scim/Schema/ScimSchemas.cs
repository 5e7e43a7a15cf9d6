namespace Cluster.Scim.Schema;

/// <summary>
/// The built-in schemas (RFC 7643 §4.1 User, §4.2 Group, §4.3 Enterprise User) and the served resource types, which
/// also carry the operator-defined extensions installed once per process by <see cref="Configure"/> (see
/// ScimSchemas.Extensions.cs and docs/architecture.md, "Extension schemas").
/// </summary>
public static partial class ScimSchemas
{
    private static AttributeDefinition Str(string name, string description = "", bool caseExact = false, bool required = false) =>
        new() { Name = name, Description = description, CaseExact = caseExact, Required = required };

    private static AttributeDefinition MultiValuedComplex(string name, string description, params AttributeDefinition[] subAttributes) => new()
    {
        Name = name,
        Type = AttributeType.Complex,
        MultiValued = true,
        Description = description,
        SubAttributes = subAttributes,
    };

    private static readonly AttributeDefinition Primary = new() { Name = "primary", Type = AttributeType.Boolean };

    private static AttributeDefinition TypeAttribute(params string[] canonical) => new() { Name = "type", CanonicalValues = canonical };

    private static AttributeDefinition[] ValueDisplayTypePrimary(string[] canonicalTypes, AttributeType valueType = AttributeType.String) =>
    [
        new() { Name = "value", Type = valueType, ReferenceTypes = valueType == AttributeType.Reference ? ["external"] : [] },
        Str("display"),
        TypeAttribute(canonicalTypes),
        Primary,
    ];

    public static readonly SchemaDefinition User = new(
        ScimConstants.UserSchema,
        "User",
        "User Account",
        [
            new()
            {
                Name = "userName",
                Description = "Unique identifier for the User, used to authenticate. Unique per tenant, case-insensitive.",
                Required = true,
                Uniqueness = Uniqueness.Server,
            },
            new()
            {
                Name = "name",
                Type = AttributeType.Complex,
                Description = "The components of the user's real name.",
                SubAttributes =
                [
                    Str("formatted"), Str("familyName"), Str("givenName"), Str("middleName"),
                    Str("honorificPrefix"), Str("honorificSuffix"),
                ],
            },
            Str("displayName"),
            Str("nickName"),
            new() { Name = "profileUrl", Type = AttributeType.Reference, ReferenceTypes = ["external"] },
            Str("title"),
            Str("userType"),
            Str("preferredLanguage"),
            Str("locale"),
            Str("timezone"),
            new() { Name = "active", Type = AttributeType.Boolean, Description = "The user's administrative status." },
            new() { Name = "password", Mutability = Mutability.WriteOnly, Returned = Returned.Never, CaseExact = true, Stored = false },
            MultiValuedComplex("emails", "Email addresses for the user.", ValueDisplayTypePrimary(["work", "home", "other"])),
            MultiValuedComplex("phoneNumbers", "Phone numbers for the user.", ValueDisplayTypePrimary(["work", "home", "mobile", "fax", "pager", "other"])),
            MultiValuedComplex("ims", "Instant messaging addresses.", ValueDisplayTypePrimary(["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"])),
            MultiValuedComplex("photos", "URLs of photos of the user.", ValueDisplayTypePrimary(["photo", "thumbnail"], AttributeType.Reference)),
            MultiValuedComplex(
                "addresses",
                "A physical mailing address for this user.",
                Str("formatted"), Str("streetAddress"), Str("locality"), Str("region"), Str("postalCode"), Str("country"),
                TypeAttribute("work", "home", "other"), Primary),
            new()
            {
                Name = "groups",
                Type = AttributeType.Complex,
                MultiValued = true,
                Mutability = Mutability.ReadOnly,
                Description = "Groups the user belongs to, directly or indirectly.",
                SubAttributes =
                [
                    new() { Name = "value", Mutability = Mutability.ReadOnly },
                    new() { Name = "$ref", Type = AttributeType.Reference, Mutability = Mutability.ReadOnly, ReferenceTypes = ["User", "Group"], Queryable = false },
                    new() { Name = "display", Mutability = Mutability.ReadOnly },
                    new() { Name = "type", Mutability = Mutability.ReadOnly, CanonicalValues = ["direct", "indirect"] },
                ],
            },
            MultiValuedComplex("entitlements", "Entitlements for the user.", ValueDisplayTypePrimary([])),
            MultiValuedComplex("roles", "Roles for the user.", ValueDisplayTypePrimary([])),
            MultiValuedComplex("x509Certificates", "X.509 certificates.", ValueDisplayTypePrimary([], AttributeType.Binary)),
        ]);

    public static readonly SchemaDefinition EnterpriseUser = new(
        ScimConstants.EnterpriseUserSchema,
        "EnterpriseUser",
        "Enterprise User",
        [
            Str("employeeNumber"),
            Str("costCenter"),
            Str("organization"),
            Str("division"),
            Str("department"),
            new()
            {
                Name = "manager",
                Type = AttributeType.Complex,
                Description = "The user's manager: 'value' is the manager's id in this service.",
                SubAttributes =
                [
                    new() { Name = "value", CaseExact = true },
                    new() { Name = "$ref", Type = AttributeType.Reference, ReferenceTypes = ["User"] },
                    new() { Name = "displayName", Mutability = Mutability.ReadOnly },
                ],
            },
        ]);

    public static readonly SchemaDefinition Group = new(
        ScimConstants.GroupSchema,
        "Group",
        "Group",
        [
            new() { Name = "displayName", Required = true, Uniqueness = Uniqueness.Server, Description = "Human-readable name; unique per tenant, case-insensitive." },
            new()
            {
                Name = "members",
                Type = AttributeType.Complex,
                MultiValued = true,
                Description = "A list of members of the Group.",
                SubAttributes =
                [
                    new() { Name = "value", CaseExact = true, Mutability = Mutability.Immutable },
                    new() { Name = "$ref", Type = AttributeType.Reference, Mutability = Mutability.Immutable, ReferenceTypes = ["User", "Group"], Queryable = false },
                    new() { Name = "display", Mutability = Mutability.ReadOnly },
                    new() { Name = "type", Mutability = Mutability.Immutable, CanonicalValues = ["User", "Group"] },
                ],
            },
        ]);

    /// <summary>The User resource type: core schema, Enterprise User and the configured User extensions.</summary>
    public static ResourceTypeDefinition UserResource => Current.User;

    /// <summary>The Group resource type: core schema and the configured Group extensions.</summary>
    public static ResourceTypeDefinition GroupResource => Current.Group;

    /// <summary>The served resource types.</summary>
    public static IReadOnlyList<ResourceTypeDefinition> ResourceTypes => [Current.User, Current.Group];

    /// <summary>Every served schema: core, Enterprise User and the configured extensions.</summary>
    public static IReadOnlyList<SchemaDefinition> All => Current.Schemas;
}
