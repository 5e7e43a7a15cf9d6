using System.Collections.Concurrent;
using Azure;
using Azure.Data.Tables;
using Azure.Data.Tables.Sas;

namespace Cluster.Abstractions;

/// <summary>
/// The one place that builds Azure Table clients from a <c>Storage:ConnectionString</c> (grain storage, reminders,
/// clustering, the offboarding sweep, readiness). A connection string with an account key is not used to sign each
/// request: Azure.Data.Tables' shared-key signing creates an HMAC object per request that it never disposes, and their
/// finalizers cost a quarter of a silo's CPU under writes (issue 15). Instead the key signs an account SAS once, shared by
/// every client of the process and renewed well before it expires; requests then carry the SAS and sign nothing. Any other
/// connection string (a SAS one already) is used as it is. Works the same against Azure Storage and Azurite.
/// </summary>
public static class TableStorage
{
    /// <summary>How long each SAS is valid; it is replaced every <see cref="Renewal"/>, so a clock skew of hours is harmless.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    /// <summary>How often the SAS is signed again.</summary>
    public static readonly TimeSpan Renewal = TimeSpan.FromHours(1);

    private static readonly ConcurrentDictionary<string, Lazy<RenewedSas>> Credentials = new(StringComparer.Ordinal);

    /// <summary>A table service client for <paramref name="connectionString"/>, authorized by a shared, renewed account SAS when the string holds an account key.</summary>
    /// <param name="connectionString">The Azure Storage connection string.</param>
    /// <param name="options">Client options (retries, timeouts), or null for the defaults.</param>
    public static TableServiceClient ServiceClient(string connectionString, TableClientOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        if (!HasAccountKey(connectionString))
        {
            return options is null ? new TableServiceClient(connectionString) : new TableServiceClient(connectionString, options);
        }

        var sas = Credentials.GetOrAdd(connectionString, cs => new Lazy<RenewedSas>(() => new RenewedSas(new TableServiceClient(cs)))).Value;
        return new TableServiceClient(sas.Endpoint, sas.Credential, options ?? new TableClientOptions());
    }

    // The SDK signs with the key exactly when the string carries one: an account key, or the development storage shortcut.
    private static bool HasAccountKey(string connectionString) =>
        connectionString.Contains("AccountKey=", StringComparison.OrdinalIgnoreCase)
        || connectionString.Contains("UseDevelopmentStorage=true", StringComparison.OrdinalIgnoreCase);

    // An account SAS (every table operation) signed by the account key, renewed on a timer. Lives as long as the process
    // (kept in Credentials); Dispose only stops the renewal.
    private sealed class RenewedSas : IDisposable
    {
        private readonly TableServiceClient _keyed;
        private readonly Timer _timer;

        public RenewedSas(TableServiceClient keyed)
        {
            _keyed = keyed;
            Credential = new AzureSasCredential(Sign());
            _timer = new Timer(_ => Credential.Update(Sign()), null, Renewal, Renewal);
        }

        public AzureSasCredential Credential { get; }

        public Uri Endpoint => _keyed.Uri;

        public void Dispose() => _timer.Dispose();

        private string Sign() =>
            _keyed.GenerateSasUri(TableAccountSasPermissions.All, TableAccountSasResourceTypes.All, DateTimeOffset.UtcNow + Lifetime).Query.TrimStart('?');
    }
}
