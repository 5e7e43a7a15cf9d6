using Cluster.Abstractions;
using Cluster.Gateway.Hosting;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cluster.Gateway.Tests;

/// <summary>
/// The gateway's credential cache (invariant 2, issue 11): positive entries trusted at most Gateway:TokenCacheSeconds,
/// unknown tenants remembered for Gateway:UnknownTenantCacheSeconds, at most Gateway:CredentialCacheSize entries.
/// Each test builds its own cache over the real grains of a co-hosted silo; time is a <see cref="FakeTimeProvider"/>.
/// </summary>
public sealed class TenantCredentialCacheTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    private IGrainFactory Grains => gateway.Services.GetRequiredService<IGrainFactory>();

    [Fact]
    public async Task ARevocationOnAnotherGatewayTakesEffectWithinTokenCacheSecondsAndInvalidateAtOnce()
    {
        var time = new FakeTimeProvider();
        using var cache = GatewayAuth.CredentialCache(Grains, new GatewayOptions { TokenCacheSeconds = 2 }, time);
        var tenant = await gateway.CreateTenantAsync();
        var grain = Grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenant.TenantId));
        var second = (await grain.IssueTokenAsync())!;
        Assert.Equal(2, (await cache.GetAsync(tenant.TenantId)).TokenHashes.Count);

        // Revoked through the grain, as another gateway does: this cache is not told.
        Assert.True(await grain.RevokeTokenAsync(tenant.TokenId));
        time.Advance(TimeSpan.FromSeconds(1.9));
        Assert.Equal(2, (await cache.GetAsync(tenant.TenantId)).TokenHashes.Count);
        time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Single((await cache.GetAsync(tenant.TenantId)).TokenHashes);

        // The tenant stays known to exist after its credentials were re-read, so re-reading it is never limited.
        Assert.False(cache.IsNewLookup(tenant.TenantId));

        // The gateway that serves a revocation forgets at once, without waiting.
        Assert.True(await grain.RevokeTokenAsync(second.Id));
        cache.Invalidate(tenant.TenantId);
        Assert.Empty((await cache.GetAsync(tenant.TenantId)).TokenHashes);
    }

    [Fact]
    public async Task AnUnknownTenantIsRememberedForUnknownTenantCacheSecondsUntilItIsCreated()
    {
        var time = new FakeTimeProvider();
        using var cache = GatewayAuth.CredentialCache(Grains, new GatewayOptions { UnknownTenantCacheSeconds = 30 }, time);
        var tenantId = GrainKeys.NewTenantId();

        Assert.True(cache.IsNewLookup(tenantId));
        Assert.False((await cache.GetAsync(tenantId)).Exists);
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(cache.IsNewLookup(tenantId));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(cache.IsNewLookup(tenantId));

        // Remembered as unknown again, then created: the entry is stale until the creating gateway forgets it.
        Assert.False((await cache.GetAsync(tenantId)).Exists);
        Assert.NotNull(await Grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenantId)).CreateAsync("Created later"));
        Assert.False((await cache.GetAsync(tenantId)).Exists);
        cache.Invalidate(tenantId);
        Assert.Single((await cache.GetAsync(tenantId)).TokenHashes);
    }

    [Fact]
    public async Task TheCacheHoldsAtMostCredentialCacheSizeEntriesAndDropsUnknownTenantsFirst()
    {
        const int Size = 100;
        using var cache = GatewayAuth.CredentialCache(Grains, new GatewayOptions { CredentialCacheSize = Size });
        var tenant = await gateway.CreateTenantAsync();
        Assert.True((await cache.GetAsync(tenant.TenantId)).Exists);

        // Ten times the bound of unknown ids, 20 at a time.
        for (var batch = 0; batch < 50; batch++)
        {
            await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => cache.GetAsync(GrainKeys.NewTenantId()).AsTask()));
            Assert.InRange(cache.Count, 1, Size);
        }

        Assert.False(cache.IsNewLookup(tenant.TenantId));
        Assert.Single((await cache.GetAsync(tenant.TenantId)).TokenHashes);
    }

    [Fact]
    public async Task ARevocationServedByThisGatewayIsNotUndoneByAReadUnderWay()
    {
        // A read of the tenant's credentials was answered before the revocation and lands after it: until 2026-12-07 it put
        // the revoked token back in the cache of the very gateway that served the revocation, for TokenCacheSeconds.
        // The clock stands still: the stale entry, if cached, would be served for as long as the test looks (on the real
        // clock a slow machine could let it expire first, and the test pass with the defect back).
        var time = new FakeTimeProvider();
        var tenant = await gateway.CreateTenantAsync();
        var held = HeldCredentials.Over(Grains);
        using var cache = GatewayAuth.CredentialCache(held.Factory, new GatewayOptions { TokenCacheSeconds = 5 }, time);
        var grain = Grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenant.TenantId));

        var read = cache.GetAsync(tenant.TenantId).AsTask();
        await held.Answered.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(await grain.RevokeTokenAsync(tenant.TokenId));
        cache.Invalidate(tenant.TenantId);
        held.Release();

        Assert.Single((await read).TokenHashes); // the request that began before the revocation
        Assert.Empty((await cache.GetAsync(tenant.TenantId)).TokenHashes);
    }

    [Fact]
    public async Task ALateAnswerServesNoRequestThatArrivedAfterARevocationAndIsTrustedFromWhenItWasAsked()
    {
        // A read whose answer is on its way for 3 s (a slow network, a stalled gateway) while another gateway revokes the
        // token. A request arriving after the revocation joined that read (until 2026-12-08) and was let in with the revoked
        // token for as long as the answer took (up to the grain call's 30 s timeout). And the answer's trust was counted
        // from its arrival (until 2026-12-07), so the revoked token was accepted for 3 s + TokenCacheSeconds after it.
        var time = new FakeTimeProvider();
        var tenant = await gateway.CreateTenantAsync();
        var held = HeldCredentials.Over(Grains);
        using var cache = GatewayAuth.CredentialCache(held.Factory, new GatewayOptions { TokenCacheSeconds = 2 }, time);
        var grain = Grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenant.TenantId));

        var read = cache.GetAsync(tenant.TenantId).AsTask();
        await held.Answered.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(await grain.RevokeTokenAsync(tenant.TokenId)); // through the grain, as another gateway does
        time.Advance(TimeSpan.FromSeconds(3));

        Assert.Empty((await cache.GetAsync(tenant.TenantId).AsTask().WaitAsync(TimeSpan.FromSeconds(30))).TokenHashes);
        held.Release();
        Assert.Single((await read).TokenHashes); // the request that asked before the revocation
        Assert.Empty((await cache.GetAsync(tenant.TenantId)).TokenHashes); // stored last, but trusted from when it was asked: read again
    }
}

/// <summary>
/// A grain factory over the real one whose first <see cref="ITenantGrain.GetCredentialsAsync"/> is answered by the grain and
/// then held before it returns: a read whose answer is on its way while something else happens.
/// </summary>
public class HeldCredentials : System.Reflection.DispatchProxy
{
    private readonly TaskCompletionSource _answered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private object _target = null!;
    private HeldCredentials _owner = null!;
    private int _holding;

    public IGrainFactory Factory { get; private set; } = null!;

    /// <summary>Completes when the held call has its answer from the grain.</summary>
    public Task Answered => _answered.Task;

    public static HeldCredentials Over(IGrainFactory grains)
    {
        var owner = new HeldCredentials();
        owner.Factory = Wrap(grains, owner);
        return owner;
    }

    public void Release() => _release.TrySetResult();

    protected override object? Invoke(System.Reflection.MethodInfo? targetMethod, object?[]? args)
    {
        var result = targetMethod!.Invoke(_target, args);
        if (_target is IGrainFactory && args is [GrainId, ..] && result is ITenantGrain tenant)
        {
            return Wrap(tenant, _owner);
        }

        return _target is ITenantGrain && targetMethod.Name == nameof(ITenantGrain.GetCredentialsAsync) && Interlocked.Exchange(ref _owner._holding, 1) == 0
            ? _owner.HoldAsync((Task<TenantCredentials>)result!)
            : result;
    }

    private static T Wrap<T>(T target, HeldCredentials owner)
        where T : class
    {
        var proxy = Create<T, HeldCredentials>();
        var self = (HeldCredentials)(object)proxy;
        (self._target, self._owner) = (target, owner);
        return proxy;
    }

    private async Task<TenantCredentials> HoldAsync(Task<TenantCredentials> answer)
    {
        var credentials = await answer;
        _answered.TrySetResult();
        await _release.Task;
        return credentials;
    }
}
