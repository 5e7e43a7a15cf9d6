using Cluster.Gateway.Hosting;
using Cluster.ServiceDefaults.Operations;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();

// The silo role: grains, their storage, clustering, the dashboard's silo side, readiness of the silo.
var cluster = builder.Configuration.GetScimClusterOptions();
builder.Services.AddHealthChecks().AddCheck<SiloReadinessCheck>("silo");
builder.UseOrleans(silo =>
{
    silo.UseScimClustering(builder.Configuration)
        .AddScimGrains(builder.Configuration)
        .AddScimOperations(builder.Configuration);
    if (cluster.PlacesLocally)
    {
        silo.PlaceResourceGrainsLocally();
    }

    // In a Kubernetes pod (Cluster:Kubernetes=true, or the API server's variables are present): silo name, address
    // and cluster identity from the pod (downward API), and silos whose pods are gone are declared dead at once.
    if (builder.Configuration.GetValue<bool?>("Cluster:Kubernetes")
        ?? !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST")))
    {
        silo.UseKubernetesHosting();
    }
});

// The co-hosted topology (Cluster:Topology=cohosted): this silo also serves SCIM, the admin API, OAuth and the portal on its
// HTTP port, calling grains through the silo itself (no Orleans client). Readiness then also needs a grain call to answer.
if (cluster.IsCohosted)
{
    builder.AddScimGateway();
}

var app = builder.Build();
app.MapDefaultEndpoints();
if (cluster.IsCohosted)
{
    app.MapScimGateway();
}

app.MapOperatorDashboard();
app.Run();

namespace Cluster.Silo
{
    /// <summary>This host's entry point for <c>WebApplicationFactory</c> in the HTTP tests.</summary>
    public sealed class SiloHostEntry;
}
