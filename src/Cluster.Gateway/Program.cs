using Cluster.Gateway.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddScimGateway();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapScimGateway();
app.Run();
