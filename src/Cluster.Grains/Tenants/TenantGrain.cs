using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Cluster.Grains.State;

namespace Cluster.Grains.Tenants;

/// <summary>Holds a tenant's profile and its bearer tokens (hashes only).</summary>
public sealed class TenantGrain(
    [PersistentState("tenant", StorageNames.Default)] IPersistentState<TenantState> state,
    TimeProvider time) : Grain, ITenantGrain
{
    /// <summary>Upper bound on simultaneously valid tokens per tenant (rotation needs two; a few spare).</summary>
    public const int MaxTokens = 10;

    /// <summary>Prefix of every secret, so leaked tokens are easy to recognise in scanners.</summary>
    public const string SecretPrefix = "scim_";

    private string TenantId => this.GetPrimaryKeyString();

    public async Task<IssuedToken?> CreateAsync(string name)
    {
        if (state.RecordExists)
        {
            return null;
        }

        var (record, token) = NewToken();
        await state.CommitAsync(new TenantState { Name = name, CreatedAt = time.GetUtcNow(), Tokens = [record] }, this);
        return token;
    }

    public Task<TenantInfo?> GetInfoAsync() => Task.FromResult(
        state.RecordExists
            ? new TenantInfo(TenantId, state.State.Name, state.State.CreatedAt, [.. state.State.Tokens.Select(t => new TokenInfo(t.Id, t.CreatedAt))])
            : null);

    public async Task<IssuedToken?> IssueTokenAsync()
    {
        if (!state.RecordExists || state.State.Tokens.Count >= MaxTokens)
        {
            return null;
        }

        var (record, token) = NewToken();
        await state.CommitAsync(With([.. state.State.Tokens, record]), this);
        return token;
    }

    public async Task<bool> RevokeTokenAsync(string tokenId)
    {
        if (!state.RecordExists || !state.State.Tokens.Any(t => t.Id == tokenId))
        {
            return false;
        }

        await state.CommitAsync(With([.. state.State.Tokens.Where(t => t.Id != tokenId)]), this);
        return true;
    }

    public Task<TenantCredentials> GetCredentialsAsync() => Task.FromResult(
        state.RecordExists
            ? new TenantCredentials(true, [.. state.State.Tokens.Select(t => t.Hash)])
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

    private TenantState With(List<TokenRecord> tokens) =>
        new() { Name = state.State.Name, CreatedAt = state.State.CreatedAt, Tokens = tokens };
}
