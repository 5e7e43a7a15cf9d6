using System.Buffers;
using System.Globalization;
using System.Text;
using Cluster.Abstractions;
using Cluster.Gateway.Auth;
using Cluster.Scim.Resources;

namespace Cluster.Gateway.Admin;

/// <summary>A page of the tenant list: live tenants in name order, and the cursor of the next page (null on the last).</summary>
public sealed record TenantListing(IReadOnlyList<TenantSummary> Tenants, string? NextCursor);

/// <summary>A tenant just created, with its first token (the secret is shown this once).</summary>
public sealed record NewTenant(string TenantId, string Name, IssuedToken Token);

/// <summary>
/// The one tenant lifecycle service (issues 13 and 14): list tenants by name with a cursor, create, rename, suspend and
/// resume, and offboard. The admin API (<see cref="AdminEndpoints"/>, <see cref="TenantLifecycleEndpoints"/>, and through
/// it the CLI) and the operator console (<c>/portal/operator</c>) both use it. Every change makes this gateway forget the
/// tenant's cached credentials at once (others within <c>Gateway:TokenCacheSeconds</c>) and is logged (ids, never secrets).
/// Tenant ids are validated here, so no caller reaches a grain with a malformed one.
/// </summary>
public sealed class TenantLifecycleService(IGrainFactory grains, TenantCredentialCache credentials, ILogger<TenantLifecycleService> logger)
{
    /// <summary>Longest tenant name (and name prefix searched for).</summary>
    public const int MaxNameLength = 200;

    /// <summary>The tenant name rule, for create and rename: trimmed, 1 to 200 characters, all visible (<see cref="IsVisible"/>). Null when invalid.</summary>
    public static string? ValidName(string? raw) =>
        raw?.Trim() is { Length: > 0 and <= MaxNameLength } name && IsVisible(name) ? name : null;

    /// <summary>The name prefix rule of a listing: at most 200 characters, all visible (empty: every tenant).</summary>
    public static bool IsValidPrefix(string? prefix) => prefix is not null && prefix.Length <= MaxNameLength && IsVisible(prefix);

    /// <summary>
    /// No character that is invisible or changes how the rest is shown: control characters (line breaks, tabs), line and
    /// paragraph separators, format characters (zero-width spaces, bidirectional overrides that would make one tenant's name
    /// read as another's in the portal), and no lone surrogate. The zero-width joiner and non-joiner are allowed: Persian and
    /// Indic names and emoji sequences need them.
    /// </summary>
    public static bool IsVisible(string text)
    {
        for (var i = 0; i < text.Length;)
        {
            if (Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out var used) != OperationStatus.Done)
            {
                return false;
            }

            switch (Rune.GetUnicodeCategory(rune))
            {
                case UnicodeCategory.Control or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator:
                case UnicodeCategory.Format when rune.Value is not (0x200C or 0x200D):
                    return false;
            }

            i += used;
        }

        return true;
    }

    /// <summary>
    /// Up to <paramref name="limit"/> live tenants after <paramref name="after"/> whose name starts with <paramref name="prefix"/>
    /// (canonically; null or empty: any), at a cost proportional to the page. The prefix must pass <see cref="IsValidPrefix"/>.
    /// Tenants being deleted are not listed. A page may hold fewer tenants than the limit (stale registry keys are skipped, and
    /// removed through their tenant) and still have a next one.
    /// </summary>
    public async Task<TenantListing> ListAsync(TenantListingKey? after, string? prefix, int limit)
    {
        var sortPrefix = string.IsNullOrEmpty(prefix) ? null : TenantListingKey.SortName(prefix);
        var page = await grains.Grain<ITenantRegistryGrain>(GrainKeys.TenantRegistry()).ListAsync(after, sortPrefix, limit);
        var summaries = await Task.WhenAll(page.Keys.Select(k => grains.Grain<ITenantGrain>(GrainKeys.Tenant(k.TenantId)).GetSummaryAsync()));
        var tenants = new List<TenantSummary>(summaries.Length);
        foreach (var (key, summary) in page.Keys.Zip(summaries))
        {
            if (summary is null || summary.Deletion is not null || TenantListingKey.For(key.TenantId, summary.Name) != key)
            {
                // A stale key (a create or rename that crashed halfway, a tenant being deleted): the tenant removes it in its turn.
                _ = grains.Grain<ITenantGrain>(GrainKeys.Tenant(key.TenantId)).ReconcileListingAsync(key);
                continue;
            }

            // A prefix longer than the sorted part of names is checked on the whole name too.
            if (prefix is { Length: > TenantListingKey.MaxNameLength } && !ScimIdentity.Canonical(summary.Name).StartsWith(ScimIdentity.Canonical(prefix), StringComparison.Ordinal))
            {
                continue;
            }

            tenants.Add(summary);
        }

        return new TenantListing(tenants, page.HasMore ? page.Keys[^1].ToCursor() : null);
    }

    /// <summary>The tenant (or its deletion's progress); null when there is no such tenant.</summary>
    public Task<TenantSummary?> GetAsync(string tenantId) =>
        Tenant(tenantId)?.GetSummaryAsync() ?? Task.FromResult<TenantSummary?>(null);

    /// <summary>
    /// Creates a tenant named <paramref name="name"/> (a value <see cref="ValidName"/> returned) with its first token; null
    /// when the new random id is already taken (retry).
    /// </summary>
    public async Task<NewTenant?> CreateAsync(string name)
    {
        RequireValidName(name);
        var tenantId = GrainKeys.NewTenantId();
        var token = await grains.Grain<ITenantGrain>(GrainKeys.Tenant(tenantId)).CreateAsync(name);
        if (token is null)
        {
            return null;
        }

        // This gateway must not keep remembering the new id as unknown. Other gateways can hold such an entry only if
        // a client asked for this 128-bit random id before it existed; it would expire within Gateway:UnknownTenantCacheSeconds.
        credentials.Invalidate(tenantId);
        GatewayLog.TenantCreated(logger, tenantId);
        return new NewTenant(tenantId, name, token);
    }

    /// <summary>
    /// Renames (<paramref name="name"/>: a value <see cref="ValidName"/> returned, or null to keep it), suspends or resumes
    /// (<paramref name="suspended"/>, or null to keep it) the tenant; its summary afterwards, or null when there is no such
    /// tenant (or it is being deleted).
    /// </summary>
    public async Task<TenantSummary?> UpdateAsync(string tenantId, string? name, bool? suspended)
    {
        if (name is not null)
        {
            RequireValidName(name);
        }

        if (Tenant(tenantId) is not { } tenant || await tenant.UpdateAsync(name, suspended) is not { } updated)
        {
            return null;
        }

        // A suspension (or a resume) takes effect at once on this gateway; on the others within Gateway:TokenCacheSeconds.
        // Told before the summary is read: a change that landed is applied and logged even when its summary cannot be read.
        credentials.Invalidate(tenantId);
        GatewayLog.TenantUpdated(logger, tenantId, updated.Suspended);
        return await tenant.GetSummaryAsync() is { Deletion: null } summary ? summary : null;
    }

    /// <summary>
    /// Offboards the tenant: its credentials stop at once, then its data is erased in the background. Its summary with the
    /// deletion's progress (idempotent: a delete under way answers its progress), or null when there is no such tenant.
    /// </summary>
    public async Task<TenantSummary?> DeleteAsync(string tenantId)
    {
        if (Tenant(tenantId) is not { } tenant)
        {
            return null;
        }

        TenantSummary? summary;
        try
        {
            summary = await tenant.DeleteAsync() is null ? null : await tenant.GetSummaryAsync();
        }
        finally
        {
            // This gateway refuses the tenant's credentials at once; every other within Gateway:TokenCacheSeconds. Also when
            // the delete failed midway: a deletion it recorded already stops the credentials (the grain refuses them).
            credentials.Invalidate(tenantId);
        }

        if (summary is null)
        {
            return null;
        }

        GatewayLog.TenantDeleteAccepted(logger, tenantId);
        return summary;
    }

    private ITenantGrain? Tenant(string tenantId) => GrainKeys.IsValidId(tenantId) ? grains.Grain<ITenantGrain>(GrainKeys.Tenant(tenantId)) : null;

    private static void RequireValidName(string name)
    {
        if (ValidName(name) != name)
        {
            throw new ArgumentException("A tenant name must be a value ValidName returned.", nameof(name));
        }
    }
}
