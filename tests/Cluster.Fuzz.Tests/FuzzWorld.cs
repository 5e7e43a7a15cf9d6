using Cluster.TestInfrastructure;

namespace Cluster.Fuzz.Tests;

/// <summary>
/// The tenants one surface is fuzzed against, and what generators may refer to: the target tenant's live user and group
/// ids, names and versions (refreshed from each <see cref="TenantSnapshot"/>, so requests hit real resources even after
/// fuzzed deletes), the other tenant's ids and token, and token ids for the admin API.
/// </summary>
public sealed class FuzzWorld
{
    private readonly FuzzCluster _cluster;
    private TenantSnapshot? _snapshot;
    private int _seeded;

    internal FuzzWorld(TestTenant tenant, TestTenant other, string spareTokenId, FuzzCluster cluster, TestOAuthClient client, TestOAuthClient spareClient, TestOAuthClient otherClient)
    {
        Tenant = tenant;
        Other = other;
        SpareTokenId = spareTokenId;
        _cluster = cluster;
        Client = client;
        SpareClient = spareClient;
        OtherClient = otherClient;
    }

    /// <summary>An OAuth client of <see cref="Tenant"/> the harness keeps (never revoked by generated requests).</summary>
    public TestOAuthClient Client { get; }

    /// <summary>A second OAuth client of <see cref="Tenant"/>: the admin generator may add and revoke its secrets, or revoke it.</summary>
    public TestOAuthClient SpareClient { get; }

    /// <summary>An OAuth client of <see cref="Other"/>, to probe isolation.</summary>
    public TestOAuthClient OtherClient { get; }

    public TestTenant Tenant { get; }

    public TestTenant Other { get; }

    /// <summary>A second token of <see cref="Tenant"/>: the admin generator may revoke it (never the harness's own token).</summary>
    public string SpareTokenId { get; }

    public string OtherUserId { get; private set; } = "";

    public string OtherGroupId { get; private set; } = "";

    /// <summary><c>/scim/v2/tenants/{tenantId}</c> of the target tenant.</summary>
    public string ScimBase => "/scim/v2/tenants/" + Tenant.TenantId;

    /// <summary>The i-th live user of the target tenant (modulo their number), or a made-up id when there is none.</summary>
    public ResourceEntry User(int i) => Pick(_snapshot?.Users, i);

    /// <summary>The i-th live group of the target tenant (modulo their number), or a made-up id when there is none.</summary>
    public ResourceEntry Group(int i) => Pick(_snapshot?.Groups, i);

    /// <summary>Called with every fresh snapshot of the target tenant.</summary>
    internal void Observe(TenantSnapshot snapshot) => _snapshot = snapshot;

    internal void SetOtherTenantIds(string userId, string groupId) => (OtherUserId, OtherGroupId) = (userId, groupId);

    /// <summary>A customer portal session of <see cref="Tenant"/> (opened with a setup link): its cookies and a form's antiforgery token.</summary>
    public PortalSession Portal { get; private set; } = new("", "");

    internal void SetPortalSession(PortalSession session) => Portal = session;

    /// <summary>
    /// Setup, not fuzzing: when fuzzed deletes have left the target tenant with fewer than 3 users or 2 groups, creates
    /// more (users with a manager, groups with members and a nested group). True when it created anything.
    /// </summary>
    internal async Task<bool> TopUpAsync()
    {
        var snapshot = _snapshot ?? await TenantSnapshot.ReadAsync(_cluster.Grains, Tenant.TenantId);
        if (snapshot.Users.Count >= 3 && snapshot.Groups.Count >= 2)
        {
            return false;
        }

        using var scim = _cluster.Gateway.ScimClient(Tenant);
        var users = snapshot.Users.Select(u => u.Id).ToList();
        while (users.Count < 5)
        {
            var n = Interlocked.Increment(ref _seeded);
            users.Add(await FuzzCluster.CreateAsync(scim, "Users", FuzzCluster.UserBody($"seed{n}@contoso.com", users.FirstOrDefault())));
        }

        var groups = snapshot.Groups.Select(g => g.Id).ToList();
        while (groups.Count < 3)
        {
            var n = Interlocked.Increment(ref _seeded);
            string[] members = (groups.Count % 3) switch
            {
                0 => [users[0], users[1]],
                1 => [users[2], groups[0]],
                _ => [],
            };
            groups.Add(await FuzzCluster.CreateAsync(scim, "Groups", FuzzCluster.GroupBody($"Seed group {n}", members)));
        }

        _snapshot = null;
        return true;
    }

    private static ResourceEntry Pick(IReadOnlyList<ResourceEntry>? entries, int i) =>
        entries is { Count: > 0 } ? entries[i % entries.Count] : new ResourceEntry("0123456789abcdef0123456789abcdef", "nobody", 1);
}
