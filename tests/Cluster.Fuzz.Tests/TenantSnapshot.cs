using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Abstractions;

namespace Cluster.Fuzz.Tests;

/// <summary>A live resource as generators see it: id, unique name (<c>userName</c> / <c>displayName</c>) and version.</summary>
public sealed record ResourceEntry(string Id, string Name, long Version);

/// <summary>
/// Everything a tenant holds, read from the grains (not over HTTP): its profile and token ids, every directory
/// partition, and for each listed user and group its stored JSON with its version and, for a user, its <c>groups</c>
/// (verified against the groups' member partitions). Entries are canonical (object keys and membership lists sorted),
/// so two snapshots of the same state are equal; <see cref="Digest"/> hashes them.
/// </summary>
/// <remarks>
/// Versions stand in for what is not read: the grains never return writeOnly values (<c>pin</c> of the test extension),
/// and a group's members live in 64 partitions (reading them all for every group after every request would make the
/// reading most of the run), but every stored change of a resource, of its writeOnly values or of a group's members,
/// gives it a new version, and the version is part of the entry.
/// </remarks>
public sealed class TenantSnapshot
{
    private static readonly string[] SortedArrays = ["members", "groups"];

    private readonly SortedDictionary<string, string> _entries;

    private TenantSnapshot(string tenantId, SortedDictionary<string, string> entries, IReadOnlyList<ResourceEntry> users, IReadOnlyList<ResourceEntry> groups)
    {
        TenantId = tenantId;
        _entries = entries;
        Users = users;
        Groups = groups;
        Digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', entries.Select(e => e.Key + "=" + e.Value)))))[..16];
    }

    public string TenantId { get; }

    /// <summary>SHA-256 (first 16 hex digits) of all entries.</summary>
    public string Digest { get; }

    public IReadOnlyList<ResourceEntry> Users { get; }

    public IReadOnlyList<ResourceEntry> Groups { get; }

    /// <summary>
    /// Reads the tenant: everything its directory lists, or only the given resources (plus its profile and tokens) when
    /// the caller knows all it holds and wants a cheaper reading.
    /// </summary>
    public static async Task<TenantSnapshot> ReadAsync(IGrainFactory grains, string tenantId, IReadOnlyList<string>? userIds = null, IReadOnlyList<string>? groupIds = null)
    {
        var info = grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenantId)).GetInfoAsync();
        var clients = grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenantId)).GetOAuthClientsAsync();
        var users = ReadKindAsync(grains, tenantId, ResourceKind.User, "userName", userIds);
        var groups = ReadKindAsync(grains, tenantId, ResourceKind.Group, "displayName", groupIds);
        var tenant = await info;
        var entries = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["tenant"] = tenant is null ? "missing" : $"{tenant.Name} tokens=[{string.Join(',', tenant.Tokens.Select(t => t.Id).Order(StringComparer.Ordinal))}]",
        };
        // OAuth clients and their secrets (ids and expiry: a secret's hash changes only with its id).
        entries["oauth-clients"] = string.Join(';', ((await clients) ?? []).OrderBy(c => c.ClientId, StringComparer.Ordinal)
            .Select(c => c.ClientId + ":" + string.Join(',', c.Secrets.Select(x => x.SecretId + "@" + x.ExpiresAt.ToUnixTimeSeconds()).Order(StringComparer.Ordinal))));
        foreach (var (key, value) in (await users).Entries.Concat((await groups).Entries))
        {
            entries[key] = value;
        }

        return new TenantSnapshot(tenantId, entries, (await users).Live, (await groups).Live);
    }

    /// <summary>What differs from <paramref name="before"/> (entries added, removed or changed), or null when nothing does.</summary>
    public string? DifferenceFrom(TenantSnapshot before)
    {
        if (Digest == before.Digest)
        {
            return null;
        }

        var lines = new List<string>();
        foreach (var key in before._entries.Keys.Union(_entries.Keys).Order(StringComparer.Ordinal))
        {
            var (was, now) = (before._entries.GetValueOrDefault(key), _entries.GetValueOrDefault(key));
            if (was != now)
            {
                lines.Add($"  {key}:\n    before: {was ?? "(absent)"}\n    after:  {now ?? "(absent)"}");
            }
        }

        return $"tenant {TenantId} changed (digest {before.Digest} -> {Digest}):\n{string.Join('\n', lines)}";
    }

    // Every resource of one kind in the tenant's directory (or the given ones): its entry, and whether it is live.
    private static async Task<(List<KeyValuePair<string, string>> Entries, List<ResourceEntry> Live)> ReadKindAsync(
        IGrainFactory grains, string tenantId, ResourceKind kind, string nameAttribute, IReadOnlyList<string>? only)
    {
        var partitions = only is null
            ? await Task.WhenAll(Enumerable.Range(0, GrainKeys.DirectoryPartitions).Select(p => kind.Directory(grains, tenantId, p).ListAsync()))
            : [[.. only]];
        var ids = partitions.SelectMany(p => p).Order(StringComparer.Ordinal).ToList();
        var results = await Task.WhenAll(ids.Select(id => kind == ResourceKind.Group
            ? grains.GetGrain<IGroupGrain>(GrainKeys.Group(tenantId, id)).ReadAsync([])
            : kind.Grain(grains, tenantId, id).GetAsync()));
        var (entries, live) = (new List<KeyValuePair<string, string>>(), new List<ResourceEntry>());
        foreach (var (id, result) in ids.Zip(results))
        {
            var json = result.Resource is null ? null : JsonNode.Parse(result.Resource);
            entries.Add(KeyValuePair.Create($"{kind.DirectoryName}/{id}", $"{result.Status} v{result.Version} {Canonical(json)?.ToJsonString() ?? result.Detail}"));
            if (result.IsSuccess)
            {
                live.Add(new ResourceEntry(id, json?[nameAttribute] is JsonValue name && name.GetValueKind() == JsonValueKind.String ? name.GetValue<string>() : "", result.Version));
            }
        }

        return (entries, live);
    }

    // Object members by name; member and group lists by value (their order is the partitions', not part of the state).
    private static JsonNode? Canonical(JsonNode? node, string? name = null) => node switch
    {
        JsonObject obj => new JsonObject(obj.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Canonical(p.Value, p.Key)))),
        JsonArray array when SortedArrays.Contains(name) => new JsonArray([.. array.Select(e => Canonical(e)).OrderBy(e => e?.ToJsonString(), StringComparer.Ordinal)]),
        JsonArray array => new JsonArray([.. array.Select(e => Canonical(e))]),
        null => null,
        _ => node.DeepClone(),
    };
}
