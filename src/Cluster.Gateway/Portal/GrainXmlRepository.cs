using System.Xml.Linq;
using Cluster.Abstractions;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Cluster.Gateway.Portal;

/// <summary>
/// ASP.NET Core Data Protection's key store on the cluster (<see cref="IDataProtectionKeyRingGrain"/>) instead of the process's
/// file system: every gateway reads and writes the same key ring, so a portal session cookie or antiforgery token made by one
/// gateway is accepted by every other, and by the same gateway after a restart or in a new container. Data Protection calls
/// it rarely (at start and when its cached ring expires, about daily) and synchronously, so the calls block on the grain.
/// </summary>
public sealed class GrainXmlRepository(IGrainFactory grains) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements() =>
        [.. KeyRing().GetElementsAsync().GetAwaiter().GetResult().Select(xml => XElement.Parse(xml))];

    public void StoreElement(XElement element, string friendlyName) =>
        KeyRing().StoreElementAsync(friendlyName, element.ToString(SaveOptions.DisableFormatting)).GetAwaiter().GetResult();

    private IDataProtectionKeyRingGrain KeyRing() => grains.Grain<IDataProtectionKeyRingGrain>(GrainKeys.DataProtectionKeyRing);
}
