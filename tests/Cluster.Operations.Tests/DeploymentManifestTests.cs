using YamlDotNet.RepresentationModel;

namespace Cluster.Operations.Tests;

/// <summary>
/// Structure of the deployment files, checked cheaply (no Docker or Kubernetes here): the Kubernetes manifests,
/// docker-compose.yml, the Prometheus and Grafana provisioning, and the images' entry points.
/// </summary>
public sealed class DeploymentManifestTests
{
    private static readonly string[] K8sFiles = ["namespace.yaml", "rbac.yaml", "config.yaml", "silo.yaml", "gateway.yaml", "ingress.yaml"];

    /// <summary>Every setting the hosts read that a deployment must provide (environment-variable form).</summary>
    private static readonly string[] SharedSettings = ["Cluster__ClusterId", "Cluster__ServiceId", "Cluster__Membership", "Storage__Provider", "Storage__ConnectionString", "Admin__ApiKey"];

    private static readonly string[] SiloSettings = ["Cluster__SiloPort", "Cluster__GatewayPort", "Cluster__AdvertisedIP", "Cluster__Kubernetes",
        "ORLEANS_SERVICE_ID", "ORLEANS_CLUSTER_ID", "POD_NAME", "POD_NAMESPACE", "POD_IP"];

    private static readonly string[] GatewaySettings = ["Gateway__Mode", "Gateway__PublicBaseUrl"];

    [Fact]
    public void KustomizationListsEveryManifestAndNoSecret()
    {
        var kustomization = Load("deploy/k8s/kustomization.yaml").Single();
        var resources = Seq(kustomization, "resources").Select(Text).ToList();
        Assert.Equal(K8sFiles.Order(), resources.Order());
        Assert.DoesNotContain("secret.example.yaml", resources);
    }

    [Fact]
    public void SiloDeploymentHasOrleansLabelsProbesKubernetesSettingsAndSecrets()
    {
        var docs = Load("deploy/k8s/silo.yaml");
        var deployment = Kind(docs, "Deployment");
        var labels = Map(deployment, "spec", "template", "metadata", "labels");
        Assert.Equal("scim", Text(labels, "orleans/serviceId"));
        Assert.Equal("scim-prod", Text(labels, "orleans/clusterId"));
        var config = Map(Kind(Load("deploy/k8s/config.yaml"), "ConfigMap"), "data");
        Assert.Equal(Text(config, "Cluster__ServiceId"), Text(labels, "orleans/serviceId"));
        Assert.Equal(Text(config, "Cluster__ClusterId"), Text(labels, "orleans/clusterId"));
        Assert.Equal("scim-silo", Text(Map(deployment, "spec", "template", "spec"), "serviceAccountName"));

        var container = Container(deployment);
        Assert.Equal("scim-cluster/silo:latest", Text(container, "image"));
        AssertProbes(container);
        var env = EnvNames(container).Concat(config.Children.Keys.Select(Text)).ToHashSet();
        Assert.All(SharedSettings.Concat(SiloSettings), name => Assert.Contains(name, env));
        AssertFromSecret(container, "Storage__ConnectionString");
        AssertFromSecret(container, "Admin__ApiKey");

        Assert.Equal("1", Text(Map(Kind(docs, "PodDisruptionBudget"), "spec"), "maxUnavailable"));
        var hpa = Kind(docs, "HorizontalPodAutoscaler");
        Assert.Equal("scim-silo", Text(Map(hpa, "spec", "scaleTargetRef"), "name"));
    }

    [Fact]
    public void GatewayDeploymentHasServiceProbesPdbHpaAndSecrets()
    {
        var docs = Load("deploy/k8s/gateway.yaml");
        var deployment = Kind(docs, "Deployment");
        var container = Container(deployment);
        Assert.Equal("scim-cluster/gateway:latest", Text(container, "image"));
        AssertProbes(container);
        var config = Map(Kind(Load("deploy/k8s/config.yaml"), "ConfigMap"), "data");
        var env = EnvNames(container).Concat(config.Children.Keys.Select(Text)).ToHashSet();
        Assert.All(SharedSettings.Concat(GatewaySettings), name => Assert.Contains(name, env));
        AssertFromSecret(container, "Storage__ConnectionString");
        AssertFromSecret(container, "Admin__ApiKey");
        Assert.Equal("scim-gateway", Text(Map(Kind(docs, "Service"), "spec", "selector"), "app.kubernetes.io/name"));
        Assert.NotNull(Kind(docs, "PodDisruptionBudget"));
        Assert.Equal("scim-gateway", Text(Map(Kind(docs, "HorizontalPodAutoscaler"), "spec", "scaleTargetRef"), "name"));
    }

    [Fact]
    public void SiloMayWatchAndDeletePodsButNoSecretValueIsCommitted()
    {
        var rules = Seq(Kind(Load("deploy/k8s/rbac.yaml"), "Role"), "rules").Cast<YamlMappingNode>().Single();
        Assert.Contains("pods", Seq(rules, "resources").Select(Text));
        var verbs = Seq(rules, "verbs").Select(Text).ToList();
        Assert.All(new[] { "get", "list", "watch", "delete" }, v => Assert.Contains(v, verbs));
        foreach (var file in K8sFiles)
        {
            Assert.DoesNotContain("AccountKey=", RepoFiles.Read("deploy/k8s/" + file), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ImagesStartTheRightAssemblies()
    {
        Assert.Contains("ENTRYPOINT [\"dotnet\", \"Cluster.Silo.dll\"]", RepoFiles.Read("deploy/docker/silo.Dockerfile"), StringComparison.Ordinal);
        Assert.Contains("ENTRYPOINT [\"dotnet\", \"Cluster.Gateway.dll\"]", RepoFiles.Read("deploy/docker/gateway.Dockerfile"), StringComparison.Ordinal);
    }

    [Fact]
    public void ComposeRunsPrometheusAndGrafanaWithTheProvisionedDashboardAndScalableSilos()
    {
        var compose = Load("docker-compose.yml").Single();
        var services = Map(compose, "services");
        foreach (var name in new[] { "azurite", "silo", "gateway", "prometheus", "grafana" })
        {
            Assert.True(services.Children.ContainsKey(name), $"service {name} missing");
        }

        var silo = Map(services, "silo");
        Assert.False(silo.Children.ContainsKey("container_name"), "a fixed container_name prevents --scale silo=N");
        Assert.False(silo.Children.ContainsKey("ports"), "published host ports prevent --scale silo=N");
        Assert.Contains("Admin__ApiKey", Map(silo, "environment").Children.Keys.Select(Text));

        var prometheusVolumes = Seq(Map(services, "prometheus"), "volumes").Select(Text).ToList();
        Assert.Contains(prometheusVolumes, v => v.StartsWith("./deploy/prometheus/prometheus.yml:", StringComparison.Ordinal));
        var grafanaVolumes = Seq(Map(services, "grafana"), "volumes").Select(Text).ToList();
        Assert.Contains(grafanaVolumes, v => v.StartsWith("./deploy/grafana/provisioning:/etc/grafana/provisioning", StringComparison.Ordinal));
        Assert.Contains(grafanaVolumes, v => v.StartsWith("./deploy/grafana/dashboards:/var/lib/grafana/dashboards", StringComparison.Ordinal));
        Assert.True(File.Exists(RepoFiles.Path("deploy/grafana/dashboards/scim-cluster.json")));
    }

    [Fact]
    public void PrometheusScrapesSilosAndGatewaysAndGrafanaUsesIt()
    {
        var jobs = Seq(Load("deploy/prometheus/prometheus.yml").Single(), "scrape_configs").Cast<YamlMappingNode>().ToList();
        foreach (var (job, service) in new[] { ("scim-silo", "silo"), ("scim-gateway", "gateway") })
        {
            var config = jobs.Single(j => Text(j, "job_name") == job);
            Assert.Equal("/metrics", Text(config, "metrics_path"));
            var sd = Seq(config, "dns_sd_configs").Cast<YamlMappingNode>().Single();
            Assert.Equal([service], Seq(sd, "names").Select(Text));
            Assert.Equal("8080", Text(sd, "port"));
        }

        var datasource = Seq(Load("deploy/grafana/provisioning/datasources/prometheus.yml").Single(), "datasources").Cast<YamlMappingNode>().Single();
        Assert.Equal("prometheus", Text(datasource, "uid"));
        Assert.Equal("http://prometheus:9090", Text(datasource, "url"));
        Assert.Contains("\"uid\": \"prometheus\"", RepoFiles.Read("deploy/grafana/dashboards/scim-cluster.json"), StringComparison.Ordinal);
        var provider = Seq(Load("deploy/grafana/provisioning/dashboards/scim.yml").Single(), "providers").Cast<YamlMappingNode>().Single();
        Assert.Equal("/var/lib/grafana/dashboards", Text(Map(provider, "options"), "path"));
    }

    private static void AssertProbes(YamlMappingNode container)
    {
        Assert.Equal("/health", Text(Map(container, "readinessProbe", "httpGet"), "path"));
        Assert.Equal("/alive", Text(Map(container, "livenessProbe", "httpGet"), "path"));
    }

    private static void AssertFromSecret(YamlMappingNode container, string name)
    {
        var entry = Seq(container, "env").Cast<YamlMappingNode>().Single(e => Text(e, "name") == name);
        Assert.Equal("scim-secrets", Text(Map(entry, "valueFrom", "secretKeyRef"), "name"));
    }

    private static IEnumerable<string> EnvNames(YamlMappingNode container) =>
        Seq(container, "env").Cast<YamlMappingNode>().Select(e => Text(e, "name"));

    private static YamlMappingNode Container(YamlMappingNode deployment) =>
        Seq(Map(deployment, "spec", "template", "spec"), "containers").Cast<YamlMappingNode>().Single();

    private static YamlMappingNode Kind(IEnumerable<YamlMappingNode> docs, string kind) => docs.Single(d => Text(d, "kind") == kind);

    private static List<YamlMappingNode> Load(string path)
    {
        var stream = new YamlStream();
        using var reader = new StringReader(RepoFiles.Read(path));
        stream.Load(reader);
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
    }

    private static YamlMappingNode Map(YamlMappingNode node, params string[] path)
    {
        foreach (var key in path)
        {
            node = (YamlMappingNode)node.Children[new YamlScalarNode(key)];
        }

        return node;
    }

    private static IEnumerable<YamlNode> Seq(YamlMappingNode node, string key) => ((YamlSequenceNode)node.Children[new YamlScalarNode(key)]).Children;

    private static string Text(YamlMappingNode node, string key) => Text(node.Children[new YamlScalarNode(key)]);

    private static string Text(YamlNode node) => ((YamlScalarNode)node).Value ?? "";
}
