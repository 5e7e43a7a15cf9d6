# syntax=docker/dockerfile:1
# Cluster.Silo container image, for both topologies: always an Orleans silo; with Cluster__Topology=cohosted it also
# serves SCIM, the admin API, OAuth and the portal. src/ includes the Cluster.Gateway library that serves them.
# Build from the repository root (see docker-compose.yml):
#   docker build -f deploy/docker/silo.Dockerfile -t scim-cluster/silo .   (the name docker-compose.yml and deploy/k8s use)

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /repo
# Build settings (central package versions, analyzers/code style). global.json is left out on
# purpose: the image's SDK decides, and a local SDK pin must not break the container build.
COPY Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/ src/
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet publish src/Cluster.Silo/Cluster.Silo.csproj -c Release -o /app --nologo \
      -p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# Inside the container the HTTP endpoint listens on all of the container's interfaces.
ENV ASPNETCORE_URLS=http://0.0.0.0:8080 \
    DOTNET_ENVIRONMENT=Production \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
# 8080: HTTP (health, metrics, dashboard; also SCIM, admin API, OAuth and portal when co-hosted);
# 11111: silo-to-silo; 30000: Orleans client gateway (the split topology's gateways connect here)
EXPOSE 8080 11111 30000
# Non-root: APP_UID (1654) is the "app" user defined by the official .NET images.
USER $APP_UID
ENTRYPOINT ["dotnet", "Cluster.Silo.dll"]
