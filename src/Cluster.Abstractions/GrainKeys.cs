using System.Security.Cryptography;
using System.Text;

namespace Cluster.Abstractions;

/// <summary>
/// The one place that builds and parses grain keys. Every resource grain key starts with its tenant id, and
/// every component is checked, so no tenant id or resource id taken from a request can forge another tenant's key.
/// </summary>
public static class GrainKeys
{
    private const char Separator = '/';

    /// <summary>Number of partitions of a tenant's resource directory (listing and counting). Fixed per deployment.</summary>
    public const int DirectoryPartitions = 64;

    /// <summary>True when <paramref name="id"/> can be a tenant id or resource id: 1–64 characters of [A-Za-z0-9_-].</summary>
    public static bool IsValidId(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 64)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Key of the one <c>ISigningKeySetGrain</c> of the cluster (OAuth access-token signing keys): cluster-wide, so it starts
    /// with <see cref="ClusterWidePrefix"/>.
    /// </summary>
    public const string SigningKeySet = "~oauth-signing-keys";

    /// <summary>Key of the one <c>IDataProtectionKeyRingGrain</c> of the cluster (the gateways' ASP.NET Core Data Protection keys): cluster-wide.</summary>
    public const string DataProtectionKeyRing = "~dataprotection-keys";

    /// <summary>A new tenant id: 128 random bits as 32 lowercase hex characters.</summary>
    public static string NewTenantId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>A new resource id: a time-ordered GUID (v7) as 32 lowercase hex characters.</summary>
    public static string NewResourceId() => Guid.CreateVersion7().ToString("N");

    /// <summary>The key of a tenant grain.</summary>
    public static string Tenant(string tenantId) => Check(tenantId, nameof(tenantId));

    /// <summary>The key of a user grain: <c>{tenantId}/{userId}</c>.</summary>
    public static string User(string tenantId, string userId) =>
        string.Concat(Check(tenantId, nameof(tenantId)), "/", Check(userId, nameof(userId)));

    /// <summary>The key of a group grain: <c>{tenantId}/{groupId}</c>.</summary>
    public static string Group(string tenantId, string groupId) =>
        string.Concat(Check(tenantId, nameof(tenantId)), "/", Check(groupId, nameof(groupId)));

    /// <summary>Number of member partitions of every group (by hash of member id). Fixed per deployment: changing it moves members.</summary>
    public const int GroupMemberPartitions = 64;

    /// <summary>The key of one member partition of a group: <c>{tenantId}/{groupId}/members/{partition}</c>.</summary>
    public static string GroupMembers(string tenantId, string groupId, int partition)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(partition, GroupMemberPartitions);
        return string.Concat(Check(tenantId, nameof(tenantId)), "/", Check(groupId, nameof(groupId)), "/members/", partition.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// The key of one chunk of a group's membership change that is too large for one write of the group:
    /// <c>{tenantId}/{groupId}/change/{index}</c>.
    /// </summary>
    public static string GroupChangeChunk(string tenantId, string groupId, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return string.Concat(Check(tenantId, nameof(tenantId)), "/", Check(groupId, nameof(groupId)), "/change/", index.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The key of a tenant's event log (the head of its feed): <c>{tenantId}/events</c>.</summary>
    public static string EventLog(string tenantId) => Check(tenantId, nameof(tenantId)) + "/events";

    /// <summary>The key of a tenant's portal access (setup links): <c>{tenantId}/portal</c>.</summary>
    public static string PortalAccess(string tenantId) => Check(tenantId, nameof(tenantId)) + "/portal";

    /// <summary>The key of a tenant's webhook: <c>{tenantId}/webhook</c>.</summary>
    public static string Webhook(string tenantId) => Check(tenantId, nameof(tenantId)) + "/webhook";

    /// <summary>The key of one page of a tenant's feed: <c>{tenantId}/events/{page}</c>.</summary>
    public static string EventPage(string tenantId, long page)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(page);
        return string.Concat(Check(tenantId, nameof(tenantId)), "/events/", page.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// First character of every key of a cluster-wide grain (one that belongs to no tenant, e.g. the tenant registry). No
    /// tenant id can hold it (<see cref="IsValidId"/>), so such a key is never a tenant's key nor starts with
    /// <c>{tenantId}/</c>: nothing that works on a tenant's key prefix (offboarding's erase) can reach it.
    /// </summary>
    public const char ClusterWidePrefix = '~';

    /// <summary>The name of the tenant registry the tenant grains keep (<see cref="TenantRegistry"/>).</summary>
    public const string TenantRegistryName = "tenants";

    /// <summary>
    /// The key of the root of a tenant registry (the sorted list of tenants for listing): <c>~tenants</c> for the one the
    /// tenant grains keep; tests name a private one.
    /// </summary>
    public static string TenantRegistry(string name = TenantRegistryName) => ClusterWidePrefix + Check(name, nameof(name));

    /// <summary>The key of bucket <paramref name="bucket"/> of the tenant registry whose root key is <paramref name="registryKey"/>: <c>~tenants/{bucket}</c>.</summary>
    public static string TenantRegistryBucket(string registryKey, int bucket)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bucket);
        if (!IsClusterWide(registryKey) || !IsValidId(registryKey[1..]))
        {
            throw new ArgumentException($"'{registryKey}' is not a tenant registry key.", nameof(registryKey));
        }

        return string.Concat(registryKey, "/", bucket.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>True when <paramref name="key"/> is the key of a cluster-wide grain (<see cref="ClusterWidePrefix"/>).</summary>
    public static bool IsClusterWide(string key) => key.Length > 0 && key[0] == ClusterWidePrefix;

    /// <summary>
    /// True when <paramref name="key"/> is a key of one of <paramref name="tenantId"/>'s resources or data (<c>{tenantId}/…</c>),
    /// not the tenant grain's own key.
    /// </summary>
    public static bool IsOfTenant(string key, string tenantId) =>
        key.Length > tenantId.Length + 1 && key[tenantId.Length] == Separator && key.StartsWith(tenantId, StringComparison.Ordinal);

    /// <summary>The member partition of a member id.</summary>
    public static int GroupMemberPartitionOf(string memberId) => (int)(HashOf(memberId) % GroupMemberPartitions);

    /// <summary>Splits a group member partition key into tenant id and group id.</summary>
    public static (string TenantId, string GroupId) ParseGroupMembersKey(string key)
    {
        var parts = key.Split(Separator);
        if (parts.Length != 4 || parts[2] != "members")
        {
            throw new ArgumentException($"'{key}' is not a group member partition key.", nameof(key));
        }

        return (parts[0], parts[1]);
    }

    /// <summary>
    /// The key of the index entry for one value: <c>{tenantId}/{index}/{valueHash}</c>, where the hash comes from
    /// <see cref="IndexNames.Hash"/>. The value itself (a userName, an email) never appears in a key; its unsalted hash does,
    /// and with it in Orleans' span tags and error lines (docs/observability.md: pseudonymous, confirmable by a guess).
    /// </summary>
    public static string IndexEntry(string tenantId, string indexName, string valueHash) =>
        string.Concat(Check(tenantId, nameof(tenantId)), "/", Check(indexName, nameof(indexName)), "/", Check(valueHash, nameof(valueHash)));

    /// <summary>The key of one partition of a tenant's directory of resources of a type.</summary>
    public static string Directory(string tenantId, string resourceType, int partition)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(partition, DirectoryPartitions);
        return string.Concat(Check(tenantId, nameof(tenantId)), "/dir-", Check(resourceType, nameof(resourceType)), "/", partition.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The directory partition of a resource id.</summary>
    public static int DirectoryPartitionOf(string resourceId)
    {
        return (int)(HashOf(resourceId) % DirectoryPartitions);
    }

    private static uint HashOf(string id) => BitConverter.ToUInt32(SHA256.HashData(Encoding.UTF8.GetBytes(id)), 0);

    /// <summary>Splits a two-part key (<c>{tenantId}/{id}</c>) built by this class.</summary>
    public static (string TenantId, string Id) ParseResourceKey(string key)
    {
        var slash = key.IndexOf(Separator, StringComparison.Ordinal);
        if (slash <= 0 || slash == key.Length - 1 || key.IndexOf(Separator, slash + 1) >= 0)
        {
            throw new ArgumentException($"'{key}' is not a resource grain key.", nameof(key));
        }

        return (key[..slash], key[(slash + 1)..]);
    }

    /// <summary>Splits an index entry key into tenant id and index name.</summary>
    public static (string TenantId, string IndexName) ParseIndexEntryKey(string key)
    {
        var parts = key.Split(Separator);
        if (parts.Length != 3)
        {
            throw new ArgumentException($"'{key}' is not an index entry key.", nameof(key));
        }

        return (parts[0], parts[1]);
    }

    /// <summary>Splits a directory key into tenant id.</summary>
    public static string TenantOfKey(string key)
    {
        var slash = key.IndexOf(Separator, StringComparison.Ordinal);
        return slash <= 0 ? throw new ArgumentException("Not a tenant-scoped key.", nameof(key)) : key[..slash];
    }

    /// <summary>The hash that stands for an index value (hex SHA-256 of its UTF-8 bytes).</summary>
    public static string HashValue(string normalizedValue) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalizedValue)));

    /// <summary>The key of a tenant's provisioning log (the head of its SCIM request log): <c>{tenantId}/requests</c>.</summary>
    public static string RequestLog(string tenantId) => Check(tenantId, nameof(tenantId)) + "/requests";

    /// <summary>The key of one page row of a tenant's provisioning log: <c>{tenantId}/requests/{page}</c>.</summary>
    public static string RequestLogPage(string tenantId, long page)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(page);
        return string.Concat(Check(tenantId, nameof(tenantId)), "/requests/", page.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static string Check(string id, string name) =>
        IsValidId(id) ? id : throw new ArgumentException($"Invalid {name}: must be 1-64 characters of [A-Za-z0-9_-].", name);
}
