using System.Security.Cryptography;
using System.Text;
using Cluster.Grains.State;

namespace Cluster.Grains.Portal;

/// <summary>
/// A tenant's setup links for the customer portal (docs/architecture.md, "Customer portal"). A link's secret is 256 random
/// bits, returned once and stored only as its SHA-256 hash; a presented secret is compared with every active hash in
/// constant time. Expired links are dropped whenever the list is written.
/// </summary>
public sealed class PortalAccessGrain(
    [PersistentState("portal", StorageNames.Default)] IPersistentState<PortalAccessState> state,
    TimeProvider time) : Grain, IPortalAccessGrain
{
    /// <summary>Most links active at once.</summary>
    public const int MaxActiveLinks = 20;

    private readonly CommittedState<PortalAccessState> _state = new(state);

    public async Task<SetupLink?> CreateLinkAsync(TimeSpan lifetime)
    {
        var now = time.GetUtcNow();
        var active = Active(now).ToList();
        if (active.Count >= MaxActiveLinks)
        {
            return null;
        }

        var secret = SetupLinkSecrets.New();
        var link = new SetupLinkRecord { Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)), Hash = Hash(secret), CreatedAt = now, ExpiresAt = now + lifetime };
        await _state.CommitAsync(new PortalAccessState { Links = [.. active, link] }, this);
        return new SetupLink(link.Id, secret, link.ExpiresAt);
    }

    public async Task<int> RevokeLinksAsync()
    {
        var count = Active(time.GetUtcNow()).Count();
        if (_state.Exists)
        {
            await _state.CommitAsync(new PortalAccessState(), this, clear: true);
        }

        return count;
    }

    public Task<string?> RedeemAsync(string secret)
    {
        Span<byte> presented = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(secret), presented);
        string? match = null;
        foreach (var link in Active(time.GetUtcNow()))
        {
            // Every active hash is compared; no early exit.
            if (CryptographicOperations.FixedTimeEquals(presented, link.Hash))
            {
                match = link.Id;
            }
        }

        return Task.FromResult(match);
    }

    public Task<bool> IsActiveAsync(string linkId) => Task.FromResult(Active(time.GetUtcNow()).Any(l => l.Id == linkId));

    public Task EraseAsync() => RevokeLinksAsync();

    private IEnumerable<SetupLinkRecord> Active(DateTimeOffset now) => _state.Value.Links.Where(l => l.ExpiresAt > now);

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}
