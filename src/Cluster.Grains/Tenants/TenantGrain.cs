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
        IsLive
            ? Info()
            : null);

    public async Task<IssuedToken?> IssueTokenAsync()
    {
        if (!IsLive || _state.Value.Tokens.Count >= MaxTokens)
        {
            return null;
        }

        var (record, token) = NewToken();
        await _state.CommitAsync(With([.. _state.Value.Tokens, record]), this);
        return token;
    }

    public async Task<bool> RevokeTokenAsync(string tokenId)
    {
        if (!IsLive || !_state.Value.Tokens.Any(t => t.Id == tokenId))
        {
            return false;
        }

        await _state.CommitAsync(With([.. _state.Value.Tokens.Where(t => t.Id != tokenId)]), this);
        return true;
    }

    public Task<TenantCredentials> GetCredentialsAsync() => Task.FromResult(
        IsLive
            ? new TenantCredentials(true, [.. _state.Value.Tokens.Select(t => t.Hash)], _state.Value.Suspended, OAuthClientIds())
            : new TenantCredentials(false, []));

    // The tenant exists and no deletion is recorded. From the moment its deletion is recorded it has no credentials, and
    // takes no new ones, whether or not its row is cleared yet (the clear is the deletion's first step, and may fail and be
    // retried): an acknowledged delete must never leave them valid.
    private bool IsLive => _state.Exists && _lifecycle.Value.Deletion is null;

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
        if (!IsLive)
        {
            return null;
        }

        var current = _state.Value;
        var next = new TenantState { Name = name ?? current.Name, CreatedAt = current.CreatedAt, Tokens = current.Tokens, Suspended = suspended ?? current.Suspended, OAuthClients = current.OAuthClients };
        if (next.Name != current.Name || next.Suspended != current.Suspended)
        {
            await CommitRenamingAsync(current, next);
        }

        return Info();
    }

    private TenantInfo Info() => new(TenantId, _state.Value.Name, _state.Value.CreatedAt, [.. _state.Value.Tokens.Select(t => new TokenInfo(t.Id, t.CreatedAt))], _state.Value.Suspended);

    private TenantState With(List<TokenRecord> tokens) =>
        new() { Name = _state.Value.Name, CreatedAt = _state.Value.CreatedAt, Tokens = tokens, Suspended = _state.Value.Suspended, OAuthClients = _state.Value.OAuthClients };

    // OAuth clients (issue 13): the rules are in OAuthClientBook; the grain reads, applies and commits.

    public async Task<OAuthClientResult> CreateOAuthClientAsync(TimeSpan secretLifetime)
    {
        if (!IsLive)
        {
            return new(OAuthClientOutcome.NotFound);
        }

        var now = time.GetUtcNow();
        var clients = OAuthClientBook.Live(_state.Value.OAuthClients, now);
        if (clients.Count >= OAuthClientBook.MaxClients)
        {
            return new(OAuthClientOutcome.TooMany);
        }

        var (client, secret) = OAuthClientBook.NewClient(TenantId, now, secretLifetime);
        await _state.CommitAsync(WithClients([.. clients, client]), this);
        return new(OAuthClientOutcome.Issued, secret);
    }

    public async Task<OAuthClientResult> AddClientSecretAsync(string clientId, TimeSpan secretLifetime)
    {
        var now = time.GetUtcNow();
        var clients = OAuthClientBook.Live(IsLive ? _state.Value.OAuthClients : null, now);
        if (clients.Find(c => c.ClientId == clientId) is not { } client)
        {
            return new(OAuthClientOutcome.NotFound);
        }

        if (client.Secrets.Count >= ClientSecrets.MaxActive)
        {
            return new(OAuthClientOutcome.TooMany);
        }

        var secret = OAuthClientBook.AddSecret(client, now, secretLifetime);
        await _state.CommitAsync(WithClients(clients), this);
        return new(OAuthClientOutcome.Issued, secret);
    }

    public async Task<bool> RevokeClientSecretAsync(string clientId, string secretId)
    {
        var clients = OAuthClientBook.Live(IsLive ? _state.Value.OAuthClients : null, time.GetUtcNow());
        if (clients.Find(c => c.ClientId == clientId) is not { } client || client.Secrets.RemoveAll(s => s.Id == secretId) == 0)
        {
            return false;
        }

        await _state.CommitAsync(WithClients(clients), this);
        return true;
    }

    public async Task<bool> RevokeOAuthClientAsync(string clientId)
    {
        var clients = OAuthClientBook.Live(IsLive ? _state.Value.OAuthClients : null, time.GetUtcNow());
        if (clients.RemoveAll(c => c.ClientId == clientId) == 0)
        {
            return false;
        }

        await _state.CommitAsync(WithClients(clients), this);
        return true;
    }

    public Task<IReadOnlyList<OAuthClientInfo>?> GetOAuthClientsAsync()
    {
        var now = time.GetUtcNow();
        return Task.FromResult<IReadOnlyList<OAuthClientInfo>?>(
            IsLive ? [.. (_state.Value.OAuthClients ?? []).Select(c => OAuthClientBook.Info(c, now))] : null);
    }

    public Task<ClientCheck> VerifyClientSecretAsync(string clientId, byte[] secretHash)
    {
        var client = IsLive ? _state.Value.OAuthClients?.Find(c => c.ClientId == clientId) : null;
        var check = !OAuthClientBook.Verify(client, secretHash, time.GetUtcNow()) ? ClientCheck.Invalid
            : _state.Value.Suspended ? ClientCheck.Suspended
            : ClientCheck.Valid;
        return Task.FromResult(check);
    }

    private List<string>? OAuthClientIds() => _state.Value.OAuthClients is { Count: > 0 } clients ? [.. clients.Select(c => c.ClientId)] : null;

    private TenantState WithClients(List<OAuthClientRecord> clients) =>
        new() { Name = _state.Value.Name, CreatedAt = _state.Value.CreatedAt, Tokens = _state.Value.Tokens, Suspended = _state.Value.Suspended, OAuthClients = clients.Count > 0 ? clients : null };
}
