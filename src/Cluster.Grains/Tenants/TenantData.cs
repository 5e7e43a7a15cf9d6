namespace Cluster.Grains.Tenants;

/// <summary>
/// Every kind of data a tenant owns, named by the grain interface that stores it: <b>the one place where a new kind of tenant
/// data is registered</b> (the portal's provisioning log, …), so that offboarding erases it (invariant 13; docs/architecture.md,
/// "Tenant lifecycle and offboarding"). Each such grain's key starts with <c>{tenantId}/</c> (<see cref="GrainKeys"/>), so the
/// storage sweep finds its rows by key prefix; the memory sweep (tests) reaches them from the tenant's directories and log.
/// A test checks that every grain class with persistent state is listed here or in <see cref="NotTenantData"/>.
/// </summary>
public static class TenantData
{
    /// <summary>Grains whose rows belong to one tenant, under its key prefix.</summary>
    public static IReadOnlyList<Type> Grains { get; } =
    [
        typeof(IUserGrain),
        typeof(IGroupGrain),
        typeof(IGroupMembersGrain),
        typeof(IGroupChangeChunkGrain),
        typeof(IIndexEntryGrain),
        typeof(IDirectoryGrain),
        typeof(IEventLogGrain),
        typeof(IEventPageGrain),
        typeof(IWebhookGrain),
        typeof(IPortalAccessGrain),
        typeof(IRequestLogGrain),
        typeof(IRequestLogPageGrain),
    ];

    /// <summary>
    /// Grains with persistent state that are not data under a tenant's prefix: the tenant grain itself (its key is the bare
    /// tenant id; it erases its own rows last), the cluster-wide registry, the OAuth signing keys and the gateways' Data Protection keys (keys starting with <see cref="GrainKeys.ClusterWidePrefix"/>).
    /// </summary>
    public static IReadOnlyList<Type> NotTenantData { get; } =
    [
        typeof(ITenantGrain),
        typeof(ITenantRegistryGrain),
        typeof(ITenantRegistryBucketGrain),
        typeof(ISigningKeySetGrain),
        typeof(IDataProtectionKeyRingGrain),
    ];

    /// <summary>The Orleans grain type implementing <paramref name="grainInterface"/>, as grain ids and storage keys spell it.</summary>
    public static GrainType GrainTypeOf(IGrainFactory grains, Type grainInterface) =>
        grains.GetGrain(grainInterface, "0/0").GetGrainId().Type;
}
