namespace Cluster.Abstractions;

/// <summary>
/// The lookup indexes a tenant has. Each index maps a normalized (case-folded) attribute value to the ids
/// of the resources that hold it; <see cref="IsUnique"/> indexes also enforce uniqueness.
/// </summary>
public static class IndexNames
{
    /// <summary><c>userName</c>, unique per tenant, case-insensitive.</summary>
    public const string UserName = "user-userName";

    /// <summary><c>externalId</c> of users (not unique).</summary>
    public const string UserExternalId = "user-externalId";

    /// <summary><c>emails[type eq "work"].value</c> (not unique).</summary>
    public const string UserWorkEmail = "user-workEmail";

    /// <summary>Group <c>displayName</c>, unique per tenant, case-insensitive.</summary>
    public const string GroupDisplayName = "group-displayName";

    /// <summary><c>externalId</c> of groups (not unique).</summary>
    public const string GroupExternalId = "group-externalId";

    public static IReadOnlyList<string> UserIndexes { get; } = [UserName, UserExternalId, UserWorkEmail];

    public static IReadOnlyList<string> GroupIndexes { get; } = [GroupDisplayName, GroupExternalId];

    public static bool IsUnique(string indexName) => indexName is UserName or GroupDisplayName;

    /// <summary>
    /// The normalized form of a value for every index: its canonical form (<see cref="Cluster.Scim.Resources.ScimIdentity.Canonical"/>:
    /// NFC, case-folded), the same one uniqueness and filters compare (SCIM string lookups Entra makes are case-insensitive).
    /// </summary>
    public static string Normalize(string value) => Cluster.Scim.Resources.ScimIdentity.Canonical(value);

    /// <summary>The string value of a top-level attribute of a resource as a one-value array, or empty when absent or not a string.</summary>
    internal static string[] StringAt(System.Text.Json.Nodes.JsonObject? resource, string attribute) =>
        resource?[attribute] is System.Text.Json.Nodes.JsonValue value && value.TryGetValue<string>(out var text) ? [text] : [];

    /// <summary>The hash that stands for a value in index keys: SHA-256 of the normalized value.</summary>
    public static string Hash(string value) => GrainKeys.HashValue(Normalize(value));
}
