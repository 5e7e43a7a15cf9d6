using Cluster.ServiceDefaults.Operations;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.Services.AddHealthChecks().AddCheck<SiloReadinessCheck>("silo");
builder.UseOrleans(silo =>
{
    silo.UseScimClustering(builder.Configuration)
        .AddScimGrains(builder.Configuration)
        .AddScimOperations();

    // In a Kubernetes pod (Cluster:Kubernetes=true, or the API server's variables are present): silo name, address
    // and cluster identity from the pod (downward API), and silos whose pods are gone are declared dead at once.
    if (builder.Configuration.GetValue<bool?>("Cluster:Kubernetes")
        ?? !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST")))
    {
        silo.UseKubernetesHosting();
    }
});

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapOperatorDashboard();
app.Run();
