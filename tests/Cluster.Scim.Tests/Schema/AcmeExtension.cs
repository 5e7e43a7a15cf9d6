using Cluster.Scim.Schema;

namespace Cluster.Scim.Tests.Schema;

/// <summary>
/// The same extensions the test hosts run with (tests/Cluster.TestInfrastructure/TestExtension.cs), built locally with
/// <see cref="ScimSchemas.Build"/> so unit tests never depend on the process-wide schema set.
/// </summary>
internal static class AcmeExtension
{
    public const string Urn = "urn:ietf:params:scim:schemas:extension:acme:2.0:User";
    public const string GroupUrn = "urn:ietf:params:scim:schemas:extension:acme:2.0:Group";

    public static List<ExtensionSchemaOptions> Options() =>
    [
        new()
        {
            Schema = Urn,
            Name = "AcmeUser",
            ResourceType = "User",
            Attributes =
            [
                new() { Name = "site", Required = true },
                new() { Name = "badgeId", Mutability = "immutable" },
                new() { Name = "pin", Mutability = "writeOnly" },
                new() { Name = "score", Type = "integer", Mutability = "readOnly" },
                new() { Name = "office", Type = "complex", SubAttributes = [new() { Name = "building" }, new() { Name = "floor", Type = "integer" }] },
                new() { Name = "tags", MultiValued = true },
            ],
        },
        new()
        {
            Schema = GroupUrn,
            ResourceType = "Group",
            Attributes = [new() { Name = "costCode" }, new() { Name = "code", Mutability = "immutable" }],
        },
    ];

    public static ScimSchemaSet Set { get; } = ScimSchemas.Build(Options());

    public static ResourceTypeDefinition User => Set.User;

    public static ResourceTypeDefinition Group => Set.Group;
}
