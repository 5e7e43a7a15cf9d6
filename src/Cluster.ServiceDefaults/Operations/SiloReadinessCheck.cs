using Azure.Data.Tables;
using Cluster.Abstractions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Cluster.ServiceDefaults.Operations;

/// <summary>
/// Readiness of a silo (<c>/health</c>): this silo is <c>Active</c> in its own view of the cluster membership, and
/// the Azure Storage account that holds membership and grain state answers within <see cref="StorageTimeout"/>
/// (skipped when neither membership nor grain state uses Azure Storage). Liveness (<c>/alive</c>) does not run it.
/// </summary>
public sealed class SiloReadinessCheck : IHealthCheck
{
    public static readonly TimeSpan StorageTimeout = TimeSpan.FromSeconds(3);

    private readonly ILocalSiloDetails _silo;
    private readonly IClusterMembershipService _membership;
    private readonly TableServiceClient? _storage;

    public SiloReadinessCheck(ILocalSiloDetails silo, IClusterMembershipService membership, IConfiguration configuration)
    {
        _silo = silo;
        _membership = membership;
        var usesAzure = !string.Equals(configuration["Cluster:Membership"], "Localhost", StringComparison.OrdinalIgnoreCase)
            || !string.Equals(configuration["Storage:Provider"], "Memory", StringComparison.OrdinalIgnoreCase);
        if (usesAzure)
        {
            _storage = TableStorage.ServiceClient(Microsoft.Extensions.Hosting.OrleansHostingExtensions.ConnectionString(configuration), new TableClientOptions { Retry = { MaxRetries = 0, NetworkTimeout = StorageTimeout } });
        }
    }

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = _membership.CurrentSnapshot.GetSiloStatus(_silo.SiloAddress);
        if (status != SiloStatus.Active)
        {
            return HealthCheckResult.Unhealthy($"This silo is {status} in the cluster membership, not Active.");
        }

        if (_storage is null)
        {
            return HealthCheckResult.Healthy("Active member; no Azure Storage configured.");
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(StorageTimeout);
            await foreach (var _ in _storage.QueryAsync(filter: (string?)null, maxPerPage: 1, cancellationToken: timeout.Token).AsPages())
            {
                break;
            }

            return HealthCheckResult.Healthy("Active member; storage reachable.");
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy("Azure Storage (membership and grain state) did not answer.", e);
        }
    }
}
