using Azure;

namespace Cluster.Abstractions;

/// <summary>
/// A grain's storage could not be read or written because it is unreachable or failing (Azure Storage 5xx, a lost
/// connection): nothing was acknowledged. Grains throw it in place of what Orleans' storage bridge gives them (an
/// <see cref="OrleansException"/> around the storage client's exception, which need not survive the trip to another
/// process), so that a gateway answers it as the cluster being unable to answer right now: retried when the call allows,
/// else 503 with <c>Retry-After</c>. The storage client's own error was logged where it happened.
/// </summary>
[GenerateSerializer, Alias("scim.StorageUnavailableException")]
public sealed class StorageUnavailableException : OrleansException
{
    public StorageUnavailableException()
        : base("Storage is unavailable.")
    {
    }

    public StorageUnavailableException(string message)
        : base(message)
    {
    }

    public StorageUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The one test of whether a storage failure is an outage (as opposed to a refusal or a bug).</summary>
public static class StorageFailures
{
    /// <summary>
    /// True for storage unreachable or failing right now: the storage client's 5xx or transport failure (status 0), also
    /// inside the SDK's retries (<see cref="AggregateException"/>) or Orleans' storage bridge (<see cref="OrleansException"/>).
    /// </summary>
    public static bool IsOutage(Exception exception) => exception switch
    {
        StorageUnavailableException => true,
        RequestFailedException { Status: 0 or >= 500 } => true,
        AggregateException { InnerExceptions.Count: > 0 } aggregate => aggregate.InnerExceptions.All(IsOutage),
        OrleansException { InnerException: { } inner } => IsOutage(inner),
        _ => false,
    };

    /// <summary><paramref name="exception"/> as the grain passes it on: a <see cref="StorageUnavailableException"/> for an outage, else itself.</summary>
    public static Exception AsPassedOn(Exception exception) =>
        exception is not StorageUnavailableException && IsOutage(exception)
            ? new StorageUnavailableException("Storage is unavailable: nothing was acknowledged. Retry later.")
            : exception;
}
