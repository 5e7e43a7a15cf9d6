using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Hosting;
using YamlDotNet.RepresentationModel;

namespace Cluster.Operations.Tests;

/// <summary>
/// Structure of the deployment files, checked cheaply (no Docker or Kubernetes here): the Kubernetes manifests of both
/// topologies (deploy/k8s: co-hosted, the base; deploy/k8s-split: the split overlay), docker-compose.yml, the Prometheus and
/// Grafana provisioning, and the images' entry points.
/// </summary>
public sealed partial class DeploymentManifestTests
{
    private const string Base = "deploy/k8s/";
    private const string Split = "deploy/k8s-split/";

    private static readonly string[] K8sFiles = ["namespace.yaml", "rbac.yaml", "config.yaml", "silo.yaml", "http-service.yaml", "ingress.yaml"];

    /// <summary>Every setting the hosts read that a deployment must provide (environment-variable form).</summary>
    private static readonly string[] SharedSettings = ["Cluster__ClusterId", "Cluster__ServiceId", "Cluster__Membership", "Storage__Provider", "Storage__ConnectionString", "Admin__ApiKey"];

    private static readonly string[] SiloSettings = ["Cluster__SiloPort", "Cluster__GatewayPort", "Cluster__AdvertisedIP", "Cluster__Kubernetes",
        "ORLEANS_SERVICE_ID", "ORLEANS_CLUSTER_ID", "POD_NAME", "POD_NAMESPACE", "POD_IP", "Events__SecretKey"];

    /// <summary>The settings of the gateway role, needed by whichever pods serve SCIM (co-hosted silos, split gateways).</summary>
    private static readonly string[] GatewaySettings = ["Cluster__Topology", "Gateway__PublicBaseUrl", "ASPNETCORE_FORWARDEDHEADERS_ENABLED"];

    [Fact]
    public void BaseKustomizationIsTheCohostedTopologyAndListsEveryManifestButNoSecret()
    {
        var kustomization = Load(Base + "kustomization.yaml").Single();
        var resources = Seq(kustomization, "resources").Select(Text).ToList();
        Assert.Equal(K8sFiles.Order(), resources.Order());
        Assert.Equal(K8sFiles.Order(), YamlFiles(Base).Except(["kustomization.yaml", "secret.example.yaml"]).Order());
        Assert.DoesNotContain("secret.example.yaml", resources);
        Assert.DoesNotContain("gateway.yaml", resources);
        Assert.False(kustomization.Children.ContainsKey("patches"), "the base is the co-hosted topology as written");
        Assert.Equal("cohosted", EnvValue(Container(Kind(Load(Base + "silo.yaml"), "Deployment")), "Cluster__Topology"));
    }

    [Fact]
    public void SplitOverlayTakesTheBaseAddsTheGatewaysAndPatchesTheSilosToSplit()
    {
        var kustomization = Load(Split + "kustomization.yaml").Single();
        Assert.Equal(Text(Load(Base + "kustomization.yaml").Single(), "namespace"), Text(kustomization, "namespace"));
        var resources = Seq(kustomization, "resources").Select(Text).ToList();
        Assert.Equal(["../k8s", "gateway.yaml"], resources);
        var patches = Seq(kustomization, "patches").Cast<YamlMappingNode>().Select(p => Text(p, "path")).ToList();
        Assert.Equal(["silo-split.yaml"], patches);
        Assert.Equal(resources.Skip(1).Concat(patches).Order(), YamlFiles(Split).Except(["kustomization.yaml"]).Order());

        var patch = Kind(Load(Split + "silo-split.yaml"), "Deployment");
        Assert.Equal("scim-silo", Text(Map(patch, "metadata"), "name"));
        var container = Container(patch);
        Assert.Equal("silo", Text(container, "name"));
        Assert.Equal("split", EnvValue(container, "Cluster__Topology"));
    }

    [Fact]
    public void SiloDeploymentIsCohostedWithOrleansLabelsProbesKubernetesAndGatewaySettingsAndSecrets()
    {
        var docs = Load(Base + "silo.yaml");
        var deployment = Kind(docs, "Deployment");
        var labels = Map(deployment, "spec", "template", "metadata", "labels");
        Assert.Equal("scim", Text(labels, "orleans/serviceId"));
        Assert.Equal("scim-prod", Text(labels, "orleans/clusterId"));
        var config = Config();
        Assert.Equal(Text(config, "Cluster__ServiceId"), Text(labels, "orleans/serviceId"));
        Assert.Equal(Text(config, "Cluster__ClusterId"), Text(labels, "orleans/clusterId"));
        Assert.Equal("scim-silo", Text(Map(deployment, "spec", "template", "spec"), "serviceAccountName"));

        var container = Container(deployment);
        Assert.Equal("scim-cluster/silo:latest", Text(container, "image"));
        AssertProbes(container);
        var env = EnvNames(container).Concat(config.Children.Keys.Select(Text)).ToHashSet();
        Assert.All(SharedSettings.Concat(SiloSettings).Concat(GatewaySettings), name => Assert.Contains(name, env));
        Assert.Equal("cohosted", EnvValue(container, "Cluster__Topology"));
        AssertFromSecret(container, "Storage__ConnectionString");
        AssertFromSecret(container, "Admin__ApiKey");
        AssertFromSecret(container, "Events__SecretKey");
        AssertPublicSettings(config);

        Assert.Equal("1", Text(Map(Kind(docs, "PodDisruptionBudget"), "spec"), "maxUnavailable"));
        var hpa = Kind(docs, "HorizontalPodAutoscaler");
        Assert.Equal("scim-silo", Text(Map(hpa, "spec", "scaleTargetRef"), "name"));
        Assert.Equal("2", Text(Map(hpa, "spec"), "minReplicas"));
        // The autoscaler owns the count: a fixed one would be set back by every `kubectl apply`, scaling down at once.
        Assert.False(Map(deployment, "spec").Children.ContainsKey("replicas"), "the HPA owns the silo deployment's replicas");
    }

    [Fact]
    public void SplitGatewayDeploymentIsSplitWithProbesPdbHpaServiceAccountAndSecrets()
    {
        var docs = Load(Split + "gateway.yaml");
        var deployment = Kind(docs, "Deployment");
        var container = Container(deployment);
        Assert.Equal("scim-cluster/gateway:latest", Text(container, "image"));
        AssertProbes(container);
        var config = Config();
        var env = EnvNames(container).Concat(config.Children.Keys.Select(Text)).ToHashSet();
        Assert.All(SharedSettings.Concat(GatewaySettings), name => Assert.Contains(name, env));
        Assert.Equal("split", EnvValue(container, "Cluster__Topology"));
        AssertFromSecret(container, "Storage__ConnectionString");
        AssertFromSecret(container, "Admin__ApiKey");
        AssertPublicSettings(config);

        Assert.DoesNotContain(docs, d => Text(d, "kind") == "Service");
        var account = Kind(docs, "ServiceAccount");
        Assert.Equal(Text(Map(deployment, "spec", "template", "spec"), "serviceAccountName"), Text(Map(account, "metadata"), "name"));
        Assert.Equal("false", Text(account, "automountServiceAccountToken"));
        Assert.DoesNotContain(Load(Base + "rbac.yaml"), d => Text(Map(d, "metadata"), "name") == "scim-gateway");
        Assert.NotNull(Kind(docs, "PodDisruptionBudget"));
        Assert.Equal("scim-gateway", Text(Map(Kind(docs, "HorizontalPodAutoscaler"), "spec", "scaleTargetRef"), "name"));
        Assert.False(Map(deployment, "spec").Children.ContainsKey("replicas"), "the HPA owns the gateway deployment's replicas");
    }

    [Fact]
    public void TheServiceTheIngressTargetsSelectsTheSilosCohostedAndTheGatewaysSplit()
    {
        var service = Kind(Load(Base + "http-service.yaml"), "Service");
        var name = Text(Map(service, "metadata"), "name");
        var ports = Seq(Map(service, "spec"), "ports").Cast<YamlMappingNode>().Select(p => Text(p, "name")).ToList();
        var backends = Seq(Map(Kind(Load(Base + "ingress.yaml"), "Ingress"), "spec"), "rules").Cast<YamlMappingNode>()
            .SelectMany(r => Seq(Map(r, "http"), "paths").Cast<YamlMappingNode>())
            .Select(p => Map(p, "backend", "service"))
            .ToList();
        Assert.Equal(5, backends.Count);
        Assert.All(backends, b => Assert.Equal(name, Text(b, "name")));
        Assert.All(backends, b => Assert.Contains(Text(Map(b, "port"), "name"), ports));

        var selector = Map(service, "spec", "selector");
        var siloLabels = PodLabels(Kind(Load(Base + "silo.yaml"), "Deployment"));
        var gatewayLabels = PodLabels(Kind(Load(Split + "gateway.yaml"), "Deployment"));

        // Base (co-hosted): the silo pods serve SCIM; there are no gateway pods.
        Assert.True(Selects(selector, siloLabels), "co-hosted: the ingress's Service must select the silo pods");

        // Split overlay: the patch's labels merged into the silo pods' (a null value removes a label, as kustomize does).
        var patchLabels = Map(Kind(Load(Split + "silo-split.yaml"), "Deployment"), "spec", "template", "metadata", "labels");
        var splitSiloLabels = new Dictionary<string, string>(siloLabels);
        foreach (var (key, value) in patchLabels.Children)
        {
            if (value is YamlScalarNode { Value: null or "null" or "~" or "" })
            {
                splitSiloLabels.Remove(Text(key));
            }
            else
            {
                splitSiloLabels[Text(key)] = Text(value);
            }
        }

        Assert.False(Selects(selector, splitSiloLabels), "split: the ingress's Service must not select the silo pods");
        Assert.True(Selects(selector, gatewayLabels), "split: the ingress's Service must select the gateway pods");
        Assert.Equal(splitSiloLabels["app.kubernetes.io/name"], Text(Map(Kind(Load(Base + "silo.yaml"), "Deployment"), "spec", "selector", "matchLabels"), "app.kubernetes.io/name"));
    }

    [Fact]
    public void SiloMayWatchAndDeletePodsButNoSecretValueIsCommitted()
    {
        var rules = Seq(Kind(Load(Base + "rbac.yaml"), "Role"), "rules").Cast<YamlMappingNode>().Single();
        Assert.Contains("pods", Seq(rules, "resources").Select(Text));
        var verbs = Seq(rules, "verbs").Select(Text).ToList();
        Assert.All(new[] { "get", "list", "watch", "delete" }, v => Assert.Contains(v, verbs));
        foreach (var file in YamlFiles(Base).Select(f => Base + f).Concat(YamlFiles(Split).Select(f => Split + f)).Where(f => f != Base + "secret.example.yaml"))
        {
            Assert.DoesNotContain("AccountKey=", RepoFiles.Read(file), StringComparison.Ordinal);
        }

        var example = Map(Kind(Load(Base + "secret.example.yaml"), "Secret"), "stringData");
        Assert.All(example.Children.Values.Select(Text), v => Assert.StartsWith("<", v, StringComparison.Ordinal));
    }

    [Fact]
    public void ImagesStartTheRightAssemblies()
    {
        var silo = RepoFiles.Read("deploy/docker/silo.Dockerfile");
        Assert.Contains("dotnet publish src/Cluster.Silo/Cluster.Silo.csproj", silo, StringComparison.Ordinal);
        Assert.Contains("ENTRYPOINT [\"dotnet\", \"Cluster.Silo.dll\"]", silo, StringComparison.Ordinal);
        var gateway = RepoFiles.Read("deploy/docker/gateway.Dockerfile");
        Assert.Contains("dotnet publish src/Cluster.Gateway.Host/Cluster.Gateway.Host.csproj", gateway, StringComparison.Ordinal);
        Assert.Contains("ENTRYPOINT [\"dotnet\", \"Cluster.Gateway.Host.dll\"]", gateway, StringComparison.Ordinal);
        Assert.DoesNotContain("Cluster.Gateway.dll", gateway, StringComparison.Ordinal);
        Assert.True(File.Exists(RepoFiles.Path("src/Cluster.Silo/Cluster.Silo.csproj")));
        Assert.True(File.Exists(RepoFiles.Path("src/Cluster.Gateway.Host/Cluster.Gateway.Host.csproj")));
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
        Assert.Contains("Admin__ApiKey", Map(silo, "environment").Children.Keys.Select(Text));

        var prometheusVolumes = Seq(Map(services, "prometheus"), "volumes").Select(Text).ToList();
        Assert.Contains(prometheusVolumes, v => v.StartsWith("./deploy/prometheus/prometheus.yml:", StringComparison.Ordinal));
        var grafanaVolumes = Seq(Map(services, "grafana"), "volumes").Select(Text).ToList();
        Assert.Contains(grafanaVolumes, v => v.StartsWith("./deploy/grafana/provisioning:/etc/grafana/provisioning", StringComparison.Ordinal));
        Assert.Contains(grafanaVolumes, v => v.StartsWith("./deploy/grafana/dashboards:/var/lib/grafana/dashboards", StringComparison.Ordinal));
        Assert.True(File.Exists(RepoFiles.Path("deploy/grafana/dashboards/scim-cluster.json")));
    }

    [Fact]
    public void ComposeRunsBothTopologiesCohostedByDefaultWithoutHostPortClashes()
    {
        var services = Map(Load("docker-compose.yml").Single(), "services");

        // Co-hosted by default: the silos serve HTTP, one published loopback port per replica out of a range.
        var silo = Map(services, "silo");
        Assert.False(silo.Children.ContainsKey("profiles"), "the silos run in both topologies");
        var siloEnv = Map(silo, "environment");
        Assert.Equal("cohosted", WithDefaults(Text(siloEnv, "Cluster__Topology")));
        Assert.Contains("Gateway__PublicBaseUrl", siloEnv.Children.Keys.Select(Text));
        var replicas = int.Parse(Text(Map(silo, "deploy"), "replicas"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(2, replicas);
        var (siloBind, siloFirst, siloLast, siloTarget) = Published(Seq(silo, "ports").Select(Text).Single());
        Assert.Equal("127.0.0.1", siloBind);
        Assert.Equal(8080, siloTarget);
        Assert.True(siloLast - siloFirst + 1 >= replicas, "one host port per silo replica");

        // Split: the gateway only in profile "split", with Cluster__Topology=split (it refuses cohosted).
        var gateway = Map(services, "gateway");
        Assert.Equal(["split"], Seq(gateway, "profiles").Select(Text));
        var gatewayEnv = Map(gateway, "environment");
        Assert.Equal("split", Text(gatewayEnv, "Cluster__Topology"));
        Assert.Contains("Admin__ApiKey", gatewayEnv.Children.Keys.Select(Text));
        var (gatewayBind, gatewayFirst, gatewayLast, gatewayTarget) = Published(Seq(gateway, "ports").Select(Text).Single());
        Assert.Equal("127.0.0.1", gatewayBind);
        Assert.Equal(8080, gatewayTarget);
        Assert.True(gatewayLast < siloFirst || gatewayFirst > siloLast, "the split gateway's host port must not clash with the silos'");

        // Docker's stop grace leaves the host's own drain (Cluster:ShutdownTimeoutSeconds, 30 s) time to finish: equal, a
        // drain that took its whole budget was killed as it ended.
        var drain = new OrleansClusterOptions().ShutdownTimeoutSeconds;
        Assert.All(new[] { silo, gateway }, service => Assert.True(
            TimeSpan.FromSeconds(int.Parse(Text(service, "stop_grace_period").TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture)) > TimeSpan.FromSeconds(drain + 2),
            $"stop_grace_period must exceed the {drain} s drain"));

        // A service that runs in both topologies must not depend on the split-only gateway.
        foreach (var service in services.Children.Values.Cast<YamlMappingNode>())
        {
            if (service.Children.ContainsKey("profiles") || !service.Children.TryGetValue(new YamlScalarNode("depends_on"), out var dependsOn))
            {
                continue;
            }

            var dependencies = dependsOn is YamlSequenceNode list ? list.Children.Select(Text) : ((YamlMappingNode)dependsOn).Children.Keys.Select(Text);
            Assert.DoesNotContain("gateway", dependencies);
        }

        var text = RepoFiles.Read("docker-compose.yml");
        Assert.Contains("TOPOLOGY=split docker compose --profile split up", text, StringComparison.Ordinal);
    }

    [Fact]
    public void NoDeploymentFileUsesTheRemovedGatewayMode()
    {
        var files = Directory.EnumerateFiles(RepoFiles.Path("deploy"), "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(RepoFiles.Root, f).Replace('\\', '/'))
            .Where(f => !f.Contains("/node_modules/", StringComparison.Ordinal))
            .Append("docker-compose.yml")
            .Append("tests/bench.sh")
            .Append("tests/chaos.sh")
            .ToList();
        Assert.Contains("deploy/k8s-split/gateway.yaml", files);
        foreach (var file in files)
        {
            Assert.DoesNotContain("Gateway__Mode", RepoFiles.Read(file), StringComparison.Ordinal);
            Assert.DoesNotContain("Gateway:Mode", RepoFiles.Read(file), StringComparison.Ordinal);
        }

        // The settings files the hosts ship with: a key no option binds any more is a setting that silently does nothing.
        var settings = Directory.EnumerateFiles(RepoFiles.Path("src"), "appsettings*.json", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(RepoFiles.Root, f).Replace('\\', '/'))
            .Where(f => !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal))
            .ToList();
        Assert.Contains("src/Cluster.Gateway.Host/appsettings.json", settings);
        foreach (var file in settings)
        {
            var json = System.Text.Json.Nodes.JsonNode.Parse(RepoFiles.Read(file), documentOptions: new System.Text.Json.JsonDocumentOptions { CommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true });
            Assert.False(json?["Gateway"] is System.Text.Json.Nodes.JsonObject gateway && gateway.ContainsKey("Mode"), $"{file} sets Gateway:Mode, which no option reads any more");
        }
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
        var dashboard = RepoFiles.Read("deploy/grafana/dashboards/scim-cluster.json");
        Assert.Contains("\"uid\": \"prometheus\"", dashboard, StringComparison.Ordinal);

        // The processes serving SCIM are the silos (co-hosted) or the gateways (split): no panel may rely on the gateway job.
        Assert.DoesNotContain("job=\\\"scim-gateway\\\"", dashboard, StringComparison.Ordinal);
        var provider = Seq(Load("deploy/grafana/provisioning/dashboards/scim.yml").Single(), "providers").Cast<YamlMappingNode>().Single();
        Assert.Equal("/var/lib/grafana/dashboards", Text(Map(provider, "options"), "path"));
    }

    /// <summary>
    /// On Kubernetes the Prometheus Operator scrapes the pods of both topologies under the job names the alerting rules and
    /// the dashboard use (the PodMonitor's jobLabel is a pod label whose values are those names), from the port named
    /// http that each pod declares. Until 2026-12-07 nothing shipped named the jobs there, so ScimProcessDown matched nothing.
    /// </summary>
    [Fact]
    public void ThePodMonitorScrapesEveryPodKindUnderTheJobNamesTheAlertsUse()
    {
        const string Monitoring = "deploy/k8s-monitoring/";
        Assert.Equal(["podmonitor.yaml"], Seq(Load(Monitoring + "kustomization.yaml").Single(), "resources").Select(Text));
        var monitor = Kind(Load(Monitoring + "podmonitor.yaml"), "PodMonitor");
        var spec = Map(monitor, "spec");
        var jobLabel = Text(spec, "jobLabel");
        var endpoint = Seq(spec, "podMetricsEndpoints").Cast<YamlMappingNode>().Single();
        Assert.Equal(("http", "/metrics"), (Text(endpoint, "port"), Text(endpoint, "path")));

        var alerts = RepoFiles.Read("deploy/prometheus/alerts.yml");
        foreach (var (file, job) in new[] { (Base + "silo.yaml", "scim-silo"), (Split + "gateway.yaml", "scim-gateway") })
        {
            var deployment = Kind(Load(file), "Deployment");
            var labels = PodLabels(deployment);
            Assert.True(Selects(Map(spec, "selector", "matchLabels"), labels), file);
            Assert.Equal(job, labels[jobLabel]);
            Assert.Contains(job, alerts, StringComparison.Ordinal);
            Assert.Contains(Seq(Container(deployment), "ports").Cast<YamlMappingNode>(), p => Text(p, "name") == "http" && Text(p, "containerPort") == "8080");
        }
    }

    /// <summary>
    /// The shipped alerting rules are loaded by Prometheus (compose mounts them where prometheus.yml names them), and every
    /// rule says how bad it is and what to do: a severity Alertmanager can route on, a summary and a description. Their
    /// metrics are checked against a real scrape in <see cref="MetricsTests.EveryMetricTheAlertRulesQueryIsExported"/>.
    /// </summary>
    [Fact]
    public void PrometheusLoadsTheAlertRulesAndEachSaysHowBadAndWhatToDo()
    {
        Assert.Equal(["/etc/prometheus/alerts.yml"], Seq(Load("deploy/prometheus/prometheus.yml").Single(), "rule_files").Select(Text));
        var volumes = Seq(Map(Map(Load("docker-compose.yml").Single(), "services"), "prometheus"), "volumes").Select(Text);
        Assert.Contains("./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro", volumes);

        var rules = AlertRules();
        Assert.Equal(rules.Count, rules.Select(r => r.Alert).Distinct().Count());
        foreach (var needed in new[] { "ScimProcessDown", "ScimNoSiloUp", "ScimServerErrors", "ScimWebhookEventsExpired", "ScimWebhookBehind", "ScimWebhookEventsParked", "ScimProvisioningLogDropped", "ScimGatewayShedding" })
        {
            Assert.Contains(rules, r => r.Alert == needed);
        }

        Assert.All(rules, r =>
        {
            Assert.Matches("^Scim[A-Za-z]+$", r.Alert);
            Assert.Contains(r.Severity, new[] { "critical", "warning" });
            Assert.False(string.IsNullOrWhiteSpace(r.Expr), r.Alert);
            Assert.False(string.IsNullOrWhiteSpace(r.Summary), r.Alert);
            Assert.False(string.IsNullOrWhiteSpace(r.Description), r.Alert);
            Assert.Equal(r.Expr.Count(c => c == '('), r.Expr.Count(c => c == ')'));
        });
    }

    /// <summary>An alerting rule of deploy/prometheus/alerts.yml.</summary>
    internal sealed record AlertRule(string Alert, string Expr, string Severity, string Summary, string Description);

    /// <summary>Every alerting rule of deploy/prometheus/alerts.yml.</summary>
    internal static List<AlertRule> AlertRules() =>
        [.. Seq(Load("deploy/prometheus/alerts.yml").Single(), "groups").Cast<YamlMappingNode>()
            .SelectMany(g => Seq(g, "rules").Cast<YamlMappingNode>())
            .Select(r => new AlertRule(Text(r, "alert"), Text(r, "expr"), Text(Map(r, "labels"), "severity"), Text(Map(r, "annotations"), "summary"), Text(Map(r, "annotations"), "description")))];

    private static void AssertProbes(YamlMappingNode container)
    {
        Assert.Equal("/health", Text(Map(container, "readinessProbe", "httpGet"), "path"));
        Assert.Equal("/alive", Text(Map(container, "livenessProbe", "httpGet"), "path"));
        // A start that takes longer than liveness allows (joining the cluster while storage is slow) is not restarted: the
        // startup probe covers it, and liveness counts only after it.
        Assert.Equal("/alive", Text(Map(container, "startupProbe", "httpGet"), "path"));
        var startupSeconds = int.Parse(Text(Map(container, "startupProbe"), "periodSeconds"), CultureInfo.InvariantCulture)
            * int.Parse(Text(Map(container, "startupProbe"), "failureThreshold"), CultureInfo.InvariantCulture);
        Assert.True(startupSeconds >= 180, $"the startup probe allows {startupSeconds} s");
    }

    private static void AssertFromSecret(YamlMappingNode container, string name)
    {
        var entry = Seq(container, "env").Cast<YamlMappingNode>().Single(e => Text(e, "name") == name);
        Assert.Equal("scim-secrets", Text(Map(entry, "valueFrom", "secretKeyRef"), "name"));
    }

    /// <summary>The gateway role's public settings in scim-config: the ingress's HTTPS host, forwarded headers trusted.</summary>
    private static void AssertPublicSettings(YamlMappingNode config)
    {
        var publicBase = new Uri(Text(config, "Gateway__PublicBaseUrl"));
        Assert.Equal("https", publicBase.Scheme);
        var hosts = Seq(Map(Kind(Load(Base + "ingress.yaml"), "Ingress"), "spec"), "rules").Cast<YamlMappingNode>().Select(r => Text(r, "host"));
        Assert.Contains(publicBase.Host, hosts);
        Assert.Equal("true", Text(config, "ASPNETCORE_FORWARDEDHEADERS_ENABLED"));
    }

    private static YamlMappingNode Config() => Map(Kind(Load(Base + "config.yaml"), "ConfigMap"), "data");

    private static string EnvValue(YamlMappingNode container, string name) =>
        Text(Seq(container, "env").Cast<YamlMappingNode>().Single(e => Text(e, "name") == name), "value");

    private static IEnumerable<string> EnvNames(YamlMappingNode container) =>
        Seq(container, "env").Cast<YamlMappingNode>().Select(e => Text(e, "name"));

    private static YamlMappingNode Container(YamlMappingNode deployment) =>
        Seq(Map(deployment, "spec", "template", "spec"), "containers").Cast<YamlMappingNode>().Single();

    private static Dictionary<string, string> PodLabels(YamlMappingNode deployment) =>
        Map(deployment, "spec", "template", "metadata", "labels").Children.ToDictionary(p => Text(p.Key), p => Text(p.Value));

    /// <summary>Whether a Service selector matches pods with these labels (every selector label present with its value).</summary>
    private static bool Selects(YamlMappingNode selector, Dictionary<string, string> labels) =>
        selector.Children.All(p => labels.TryGetValue(Text(p.Key), out var value) && value == Text(p.Value));

    /// <summary>The YAML files of a directory of the repository (names only, not recursive).</summary>
    private static IEnumerable<string> YamlFiles(string directory) =>
        Directory.EnumerateFiles(RepoFiles.Path(directory), "*.yaml").Select(f => Path.GetFileName(f));

    /// <summary>A compose value with every <c>${NAME:-default}</c> replaced by its default.</summary>
    private static string WithDefaults(string value) => ComposeDefault().Replace(value, m => m.Groups[1].Value);

    /// <summary>A compose port mapping <c>bind:hostFirst[-hostLast]:target</c> with the variables' defaults.</summary>
    private static (string Bind, int First, int Last, int Target) Published(string mapping)
    {
        var match = PortMapping().Match(WithDefaults(mapping));
        Assert.True(match.Success, "unexpected port mapping " + mapping);
        var first = int.Parse(match.Groups["first"].Value, System.Globalization.CultureInfo.InvariantCulture);
        var last = match.Groups["last"].Success ? int.Parse(match.Groups["last"].Value, System.Globalization.CultureInfo.InvariantCulture) : first;
        return (match.Groups["bind"].Value, first, last, int.Parse(match.Groups["target"].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

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

    [GeneratedRegex(@"\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}")]
    private static partial Regex ComposeDefault();

    [GeneratedRegex(@"^(?<bind>[0-9.]+):(?<first>\d+)(?:-(?<last>\d+))?:(?<target>\d+)$")]
    private static partial Regex PortMapping();
}
