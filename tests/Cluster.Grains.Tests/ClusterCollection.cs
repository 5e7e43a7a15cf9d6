using Cluster.TestInfrastructure;

namespace Cluster.Grains.Tests;

[CollectionDefinition(ClusterFixture.Collection)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>;
