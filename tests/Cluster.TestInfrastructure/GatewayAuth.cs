using Cluster.Gateway.Auth;
using Cluster.Gateway.Hosting;
using Cluster.Gateway.Limits;
using Cluster.Gateway.Resilience;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Cluster.TestInfrastructure;

/// <summary>The gateway's token checking outside a gateway: built over any grain factory, each with a cache of its own.</summary>
public static class GatewayAuth
{
    /// <summary>A gateway's credential cache (default settings unless given) over <paramref name="grains"/>.</summary>
    public static TenantCredentialCache CredentialCache(IGrainFactory grains, GatewayOptions? options = null, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        var retry = new GrainCallRetry(Options.Create(new GrainCallRetryOptions()), time, NullLogger<GrainCallRetry>.Instance);
        return new TenantCredentialCache(grains, retry, Options.Create(options ?? new GatewayOptions()), time);
    }

    /// <summary>A gateway's token validator with default settings and an empty cache of its own.</summary>
    public static TenantTokenValidator Validator(IGrainFactory grains) =>
        new(CredentialCache(grains), new FailedAuthenticationLimiter(Options.Create(new FailedAuthenticationLimitOptions())));

    /// <summary>True when <paramref name="validator"/> accepts <paramref name="token"/> for the tenant (asked without a client address).</summary>
    public static async Task<bool> AcceptsAsync(this TenantTokenValidator validator, string tenantId, string token) =>
        (await validator.ValidateAsync(tenantId, token, client: null)).IsValid;
}
