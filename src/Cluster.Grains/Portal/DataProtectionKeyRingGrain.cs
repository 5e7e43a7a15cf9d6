using Cluster.Grains.Events.Webhooks;
using Cluster.Grains.State;

namespace Cluster.Grains.Portal;

/// <summary>
/// The gateways' shared Data Protection key ring (<see cref="IDataProtectionKeyRingGrain"/>): a handful of key elements (ASP.NET
/// Core makes one every 90 days), each stored encrypted under the silos' at-rest key (<see cref="WebhookSecretProtector"/>,
/// bound to the element's name), so a copy of the storage alone cannot forge a portal session.
/// </summary>
public sealed class DataProtectionKeyRingGrain(
    [PersistentState("keyring", StorageNames.Default)] IPersistentState<DataProtectionKeyRingState> state,
    WebhookSecretProtector protector) : Grain, IDataProtectionKeyRingGrain
{
    /// <summary>Most elements kept: far more than key rotation ever makes (expired keys stay, as ASP.NET Core expects).</summary>
    public const int MaxElements = 1000;

    private readonly CommittedState<DataProtectionKeyRingState> _state = new(state);

    public Task<IReadOnlyList<string>> GetElementsAsync() =>
        Task.FromResult<IReadOnlyList<string>>([.. _state.Value.Elements.Select(e => protector.Unprotect(e.ProtectedXml, Context(e.Name)))]);

    public async Task StoreElementAsync(string name, string xml)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(xml);
        var current = _state.Value;
        if (current.Elements.Any(e => e.Name == name) || current.Elements.Count >= MaxElements)
        {
            return;
        }

        var next = new DataProtectionKeyRingState
        {
            Elements = [.. current.Elements, new DataProtectionKeyRecord { Name = name, ProtectedXml = protector.Protect(xml, Context(name)) }],
        };
        await _state.CommitAsync(next, this);
    }

    private static string Context(string name) => "dataprotection-key/" + name;
}
