var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.UseOrleans(silo => silo
    .UseScimClustering(builder.Configuration)
    .AddScimGrains(builder.Configuration));

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
