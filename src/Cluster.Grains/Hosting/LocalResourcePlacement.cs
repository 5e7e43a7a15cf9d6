using Cluster.Grains.Groups;
using Cluster.Grains.Indexes;
using Cluster.Grains.Users;
using Orleans.Metadata;
using Orleans.Runtime.Placement;

namespace Cluster.Grains.Hosting;

/// <summary>
/// <c>Cluster:Placement=local</c>: users, groups and index entries activate on the silo whose call first needs them
/// (Orleans' <see cref="PreferLocalPlacement"/>), so a create's calls from the request to its new user and from the user to
/// its new index entries stay in one process. Every other grain keeps the cluster's default placement.
/// </summary>
internal sealed class LocalResourcePlacement(GrainTypeResolver grainTypes) : IPlacementStrategyResolver
{
    private readonly PreferLocalPlacement _local = new();
    private readonly HashSet<GrainType> _placedLocally =
        [grainTypes.GetGrainType(typeof(UserGrain)), grainTypes.GetGrainType(typeof(GroupGrain)), grainTypes.GetGrainType(typeof(IndexEntryGrain))];

    public bool TryResolvePlacementStrategy(GrainType grainType, GrainProperties? properties, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out PlacementStrategy result)
    {
        result = _placedLocally.Contains(grainType) ? _local : null;
        return result is not null;
    }
}
