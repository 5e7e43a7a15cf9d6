using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Cluster.Grains.State;

namespace Cluster.Grains.Tenants;

/// <summary>Holds a tenant's profile and its bearer tokens (hashes only).</summary>
public sealed partial class TenantGrain(
    [PersistentState("tenant", StorageNames.Default)] IPersistentState<TenantState> state,
    TimeProvider time,
    [PersistentState("lifecycle", StorageNames.Default)] IPersistentState<TenantLifecycleState> lifecycle,
    ITenantStorageSweeper sweeper,
    IReminderTable reminders,
    Microsoft.Extensions.Options.IOptions<TenantsOptions> tenantsOptions,
    ILogger<TenantGrain> logger) : Grain, ITenantGrain, IRemindable
{
    private readonly CommittedState<TenantState> _state = new(state);

    /// <summary>Upper bound on simultaneously valid tokens per tenant (rotation needs two; a few spare).</summary>
    public const int MaxTokens = 10;

    /// <summary>Prefix of every secret, so leaked tokens are easy to recognise in scanners.</summary>
    public const string SecretPrefix = "scim_";

    private string TenantId => this.GetPrimaryKeyString();

    public async Task<IssuedToken?> CreateAsync(string name)
    {
        if (_state.Exists)
        {
            return null;
        }

        var (record, token) = NewToken();
        await Registry.AddAsync(TenantListingKey.For(TenantId, name)); // listed before it exists: a crash leaves a key the listing reconciles
        await _state.CommitAsync(new TenantState { Name = name, CreatedAt = time.GetUtcNow(), Tokens = [record] }, this);
        return token;
    }

    public Task<TenantInfo?> GetInfoAsync() => Task.FromResult(
        _state.Exists
            ? Info()
            : null);

    public async Task<IssuedToken?> IssueTokenAsync()
    {
        if (!_state.Exists || _state.Value.Tokens.Count >= MaxTokens)
        {
            return null;
        }

        var (record, token) = NewToken();
        await _state.CommitAsync(With([.. _state.Value.Tokens, record]), this);
        return token;
    }

    public async Task<bool> RevokeTokenAsync(string tokenId)
    {
        if (!_state.Exists || !_state.Value.Tokens.Any(t => t.Id == tokenId))
        {
            return false;
        }

        await _state.CommitAsync(With([.. _state.Value.Tokens.Where(t => t.Id != tokenId)]), this);
        return true;
    }

    public Task<TenantCredentials> GetCredentialsAsync() => Task.FromResult(
        _state.Exists
            ? new TenantCredentials(true, [.. _state.Value.Tokens.Select(t => t.Hash)], _state.Value.Suspended)
            : new TenantCredentials(false, []));

    /// <summary>The hash under which a secret is stored and compared.</summary>
    public static byte[] HashSecret(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    private (TokenRecord Record, IssuedToken Token) NewToken()
    {
        // 256 random bits; the id is independent of the secret so it can be shown and logged freely.
        var secret = SecretPrefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var record = new TokenRecord
        {
            Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)),
            Hash = HashSecret(secret),
            CreatedAt = time.GetUtcNow(),
        };
        return (record, new IssuedToken(record.Id, secret, record.CreatedAt));
    }

    public async Task<TenantInfo?> UpdateAsync(string? name, bool? suspended)
    {
        if (!_state.Exists)
        {
            return null;
        }

        var current = _state.Value;
        var next = new TenantState { Name = name ?? current.Name, CreatedAt = current.CreatedAt, Tokens = current.Tokens, Suspended = suspended ?? current.Suspended };
        if (next.Name != current.Name || next.Suspended != current.Suspended)
        {
            await CommitRenamingAsync(current, next);
        }

        return Info();
    }

    private TenantInfo Info() => new(TenantId, _state.Value.Name, _state.Value.CreatedAt, [.. _state.Value.Tokens.Select(t => new TokenInfo(t.Id, t.CreatedAt))], _state.Value.Suspended);

    private TenantState With(List<TokenRecord> tokens) =>
        new() { Name = _state.Value.Name, CreatedAt = _state.Value.CreatedAt, Tokens = tokens, Suspended = _state.Value.Suspended };
}
