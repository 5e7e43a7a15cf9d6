using Cluster.Abstractions;
using Cluster.Gateway.Admin;
using Cluster.Gateway.Auth;
using Cluster.Gateway.Credentials;
using Cluster.Gateway.Endpoints;
using Cluster.Gateway.Http;
using Cluster.Gateway.Limits;
using Cluster.Gateway.OAuth;
using Cluster.Gateway.Portal;
using Cluster.Gateway.Querying;
using Cluster.Gateway.RequestLog;
using Cluster.Gateway.Resilience;
using Cluster.Gateway.Telemetry;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Hosting;

/// <summary>Registration and mapping of the gateway.</summary>
public static class GatewayHostingExtensions
{
    /// <summary>
    /// Kestrel's request-line limit: room for the longest filter (10,000 characters) percent-encoded, even when every
    /// character takes three UTF-8 bytes (9 bytes each once encoded). A proxy in front has its own limit (docs/operations.md).
    /// </summary>
    public const int MaxRequestLineBytes = 96 * 1024;

    /// <summary>
    /// The gateway-services role: the gateway's options (validated at start-up), SCIM, the admin API, OAuth, the portal, the
    /// limits and the provisioning log. It takes no Orleans role: the host adds one first, the cluster client
    /// (<c>Cluster.Gateway.Host</c>, split topology) or the silo (<c>Cluster.Silo</c> with <c>Cluster:Topology=cohosted</c>);
    /// either way the services reach grains through <see cref="IGrainFactory"/>.
    /// </summary>
    public static WebApplicationBuilder AddScimGateway(this WebApplicationBuilder builder)
    {
        // The extension schemas (Scim:Extensions) bodies, filters, projection and discovery use; fails start-up when
        // invalid. Silos must be given the same section (docs/architecture.md, "Extension schemas").
        builder.Configuration.ConfigureScimSchemas();
        builder.Services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        var gateway = builder.Configuration.GetSection(GatewayOptions.SectionName).Get<GatewayOptions>() ?? new GatewayOptions();

        builder.Services.AddOptions<GrainCallRetryOptions>().BindConfiguration(GrainCallRetryOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<GrainCallRetry>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddOptions<FailedAuthenticationLimitOptions>().BindConfiguration(FailedAuthenticationLimitOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<FailedAuthenticationLimiter>();
        builder.Services.AddSingleton<RefusalLogBudget>();
        builder.Services.AddSingleton<TenantCredentialCache>();
        builder.Services.AddSingleton<TenantTokenValidator>();
        builder.Services.AddSingleton<TenantCredentialService>();
        builder.Services.AddSingleton<TenantLifecycleService>();

        // OAuth 2.0 client credentials (issue 13): options validated at start-up, the signing keys, the per-client limit.
        builder.Services.AddOptions<OAuthOptions>().BindConfiguration(OAuthOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<OAuthOptions>, OAuthOptionsValidator>();
        builder.Services.AddOptions<OAuthClientLimitOptions>().BindConfiguration(OAuthClientLimitOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<OAuthClientLimiter>();
        builder.Services.AddSingleton<SigningKeyCache>();
        builder.Services.AddSingleton<TenantActivity>();
        builder.Services.AddSingleton<ResourceQueries>();
        builder.AddGatewayAuthentication();
        builder.AddScimPortal();
        // The admin API's JSON bodies are read as strictly as SCIM's: a member repeated, or named in another case, is a 400
        // (as a misspelt one is, JsonUnmappedMemberHandling.Disallow on each request record), never a last-one-wins value.
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.AllowDuplicateProperties = false;
            json.SerializerOptions.PropertyNameCaseInsensitive = false;
        });
        builder.Services.AddExceptionHandler<ScimExceptionHandler>();
        builder.Services.AddProblemDetails();
        builder.Services.AddHealthChecks().AddCheck<ClusterHealthCheck>("cluster");
        builder.AddScimRateLimiting();
        builder.AddScimRequestLog();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = Math.Max(gateway.MaxBodyBytes, gateway.BulkMaxPayloadSize) * 2L;
            // A GET's filter may take FilterParser.MaxLength characters, percent-encoded: Kestrel's default 8 KiB request
            // line answered a long one with a bare 414 before the SCIM limit (400 invalidFilter) could.
            k.Limits.MaxRequestLineSize = MaxRequestLineBytes;
        });
        return builder;
    }

    /// <summary>
    /// Maps the SCIM endpoints under <c>/scim/v2/tenants/{tenantId}</c>, the admin API under <c>/admin</c>, the portal and the
    /// OAuth surface (<c>/oauth2/token</c>, <c>/.well-known/jwks.json</c>). Not the Orleans dashboard: the host maps it, once per
    /// process, whatever its roles.
    /// </summary>
    public static WebApplication MapScimGateway(this WebApplication app)
    {
        // Routing first, so that each request has its surface (endpoint metadata; unrouted requests get their surface's
        // fallback endpoint), then authentication and authorization by the surface's policy, then the limits.
        app.UseRouting();
        app.UseSurfaceFallbacks();
        app.UseScimPortal();
        app.UseMiddleware<ScimTelemetryMiddleware>();
        app.UseExceptionHandler();
        app.UseStatusCodePages(WriteEmptyErrorAsync);
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();

        var scim = app.MapGroup(ScimUrls.TenantRoutePrefix)
            .WithMetadata(new SurfaceMetadata(Surface.Scim))
            .RequireAuthorization(GatewayAuthentication.TenantPolicy)
            .RequireRateLimiting(ScimRateLimiting.TenantPolicy)
            .AddEndpointFilter(CheckProjectionFirst);
        scim.MapUsers().MapGroups().MapSearch().MapBulk().MapDiscovery();
        app.MapAdmin();
        app.MapScimPortal();
        app.MapOAuth();
        return app;
    }

    // A write's response is rendered with the request's attributes/excludedAttributes after the grain has stored it: a list
    // that is refused (ScimProjection.ParseList, 400) is refused before anything is written, not after.
    private static ValueTask<object?> CheckProjectionFirst(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (context.HttpContext.Request.QueryString.HasValue)
        {
            _ = ScimQuery.Projection(context.HttpContext.Request);
        }

        return next(context);
    }

    // Errors produced without a body: in the format of the request's surface.
    private static Task WriteEmptyErrorAsync(StatusCodeContext context) =>
        SurfaceErrors.Write(context.HttpContext, context.HttpContext.Response.StatusCode, null).ExecuteAsync(context.HttpContext);
}

/// <summary>Ready when a grain call through the cluster answers (cluster reachable, tenant storage readable).</summary>
public sealed class ClusterHealthCheck(IGrainFactory grains) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await grains.Grain<Abstractions.ITenantGrain>("health-probe").GetCredentialsAsync().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy("The Orleans cluster did not answer.", e);
        }
    }
}
