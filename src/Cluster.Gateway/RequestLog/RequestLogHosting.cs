namespace Cluster.Gateway.RequestLog;

/// <summary>Registers the gateway's side of the provisioning log.</summary>
public static class RequestLogHosting
{
    /// <summary>
    /// Adds the <c>Portal</c> settings (validated at start-up), the buffer, the capture the telemetry middleware calls, and
    /// the background writer. Call after the Orleans client (or co-hosted silo) is added, so the writer stops — and flushes —
    /// before it.
    /// </summary>
    public static WebApplicationBuilder AddScimRequestLog(this WebApplicationBuilder builder)
    {
        builder.Services.AddScimRequestLogOptions();
        builder.Services.AddSingleton<RequestLogBuffer>();
        builder.Services.AddSingleton<RequestLogInstruments>();
        builder.Services.AddSingleton<RequestLogCapture>();
        builder.Services.AddSingleton<TenantStatusReader>();
        builder.Services.AddSingleton<RequestLogWriter>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RequestLogWriter>());
        return builder;
    }
}
