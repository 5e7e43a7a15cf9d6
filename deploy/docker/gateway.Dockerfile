# syntax=docker/dockerfile:1
# Gateway image of the split topology (Cluster.Gateway.Host: an Orleans client of the silos serving SCIM, the admin API,
# OAuth and the portal). Runs only with Cluster__Topology=split (or unset); the co-hosted topology has no gateway image,
# its silos serve HTTP. Build from the repository root (see docker-compose.yml, profile "split"):
#   docker build -f deploy/docker/gateway.Dockerfile -t scim-cluster/gateway .   (the name docker-compose.yml and deploy/k8s-split use)

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /repo
# Build settings (central package versions, analyzers/code style). global.json is left out on
# purpose: the image's SDK decides, and a local SDK pin must not break the container build.
COPY Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/ src/
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet publish src/Cluster.Gateway.Host/Cluster.Gateway.Host.csproj -c Release -o /app --nologo \
      -p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# Inside the container the HTTP endpoint listens on all of the container's interfaces.
ENV ASPNETCORE_URLS=http://0.0.0.0:8080 \
    DOTNET_ENVIRONMENT=Production \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
# 8080: SCIM, admin API, OAuth, portal, plus health, metrics and dashboard
EXPOSE 8080
# Non-root: APP_UID (1654) is the "app" user defined by the official .NET images.
USER $APP_UID
ENTRYPOINT ["dotnet", "Cluster.Gateway.Host.dll"]
