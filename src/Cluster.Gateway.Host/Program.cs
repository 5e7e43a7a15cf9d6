using Cluster.Gateway.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();

// The split topology's gateway: the cluster-client role and the gateway services. A co-hosted cluster has no gateway
// processes (its silos serve HTTP), so this host refuses to start as one rather than join it as a stray client.
if (builder.Configuration.GetScimClusterOptions().IsCohosted)
{
    throw new InvalidOperationException(
        "Cluster:Topology is cohosted: the silos (Cluster.Silo) serve SCIM themselves. Run this gateway host only with Cluster:Topology=split.");
}

builder.AddScimClusterClient();
builder.AddScimGateway();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapScimGateway();
app.MapOperatorDashboard();
app.Run();

namespace Cluster.Gateway.Host
{
    /// <summary>This host's entry point for <c>WebApplicationFactory</c> in the HTTP tests.</summary>
    public sealed class GatewayHostEntry;
}
