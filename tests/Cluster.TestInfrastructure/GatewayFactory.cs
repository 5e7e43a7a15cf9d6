using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.TestInfrastructure;

/// <summary>
/// The real gateway pipeline in a test server, in the co-hosted topology: the silo host (<c>Cluster.Silo</c> with
/// <c>Cluster:Topology=cohosted</c>) with memory storage on free loopback ports, serving SCIM, the admin API, OAuth and the
/// portal itself. <see cref="ConnectTo"/> makes a second gateway of the split topology (<c>Cluster.Gateway.Host</c>, a pure
/// Orleans client of the first one's silo), to test behaviour across gateways. Both run with the test extension schemas
/// (<see cref="TestExtension"/>) and <see cref="TestEvents"/>.
/// </summary>
public sealed class GatewayFactory : ScimHostFactory<Cluster.Silo.SiloHostEntry>
{
    public const string AdminKey = ScimHostSettings.AdminKey;

    public GatewayFactory()
        : this(null)
    {
    }

    private GatewayFactory(IDictionary<string, string?>? settings)
        : this(TestPorts.Free(), settings)
    {
    }

    private GatewayFactory(int siloGatewayPort, IDictionary<string, string?>? settings)
        : base(ScimHostSettings.Merge(new Dictionary<string, string?>
        {
            ["Cluster:Topology"] = "cohosted",
            ["Cluster:SiloPort"] = TestPorts.Free().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Cluster:GatewayPort"] = siloGatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Storage:Provider"] = "Memory",
        }, settings)) => SiloGatewayPort = siloGatewayPort;

    /// <summary>A gateway with extra settings (configuration keys as in appsettings, e.g. <c>Gateway:MaxBodyBytes</c>).</summary>
    public static GatewayFactory With(IDictionary<string, string?> settings) => new(settings);

    /// <summary>The Orleans gateway port of the co-hosted silo.</summary>
    public int SiloGatewayPort { get; }

    /// <summary>A second gateway, of the split topology: an Orleans client of <paramref name="cohost"/>'s silo.</summary>
    public static ClientGatewayFactory ConnectTo(GatewayFactory cohost, IDictionary<string, string?>? settings = null) =>
        ClientGatewayFactory.Of(cohost.SiloGatewayPort, settings);

    /// <summary>
    /// Extra service registrations, applied after the gateway's own (e.g. an in-memory trace exporter or a capturing
    /// logger provider). Call before the first request.
    /// </summary>
    public GatewayFactory WithServices(Action<IServiceCollection> configure)
    {
        AddServices(configure);
        return this;
    }

    /// <summary>
    /// Routes the co-hosted silo's grain storage through <see cref="StorageProbe"/> (reads and writes counted per grain).
    /// Call before the first request.
    /// </summary>
    public GatewayFactory WithStorageProbe() => WithServices(StorageProbe.Install);

    /// <summary>
    /// Starts the gateway on a real Kestrel listener on 127.0.0.1 (for a browser or another process) and returns its root,
    /// e.g. <c>http://127.0.0.1:41234/</c>. Kestrel picks the port as it binds, so no other process can take it between
    /// choosing and binding.
    /// </summary>
    public Uri StartOnLoopback()
    {
        UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        StartServer();
        var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new Uri(address.TrimEnd('/') + "/");
    }
}

/// <summary>
/// A gateway of the split topology (<c>Cluster.Gateway.Host</c>) in a test server: an Orleans client of the silo whose
/// Orleans gateway listens on the given port.
/// </summary>
public sealed class ClientGatewayFactory : ScimHostFactory<Cluster.Gateway.Host.GatewayHostEntry>
{
    private ClientGatewayFactory(IDictionary<string, string?> settings)
        : base(settings)
    {
    }

    /// <summary>A gateway that reaches the silo at <paramref name="siloGatewayPort"/>, with extra settings.</summary>
    public static ClientGatewayFactory Of(int siloGatewayPort, IDictionary<string, string?>? settings = null) => new(ScimHostSettings.Merge(new Dictionary<string, string?>
    {
        ["Cluster:Topology"] = "split",
        ["Cluster:GatewayPort"] = siloGatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
    }, settings));
}

/// <summary>The settings every test host shares: localhost membership, the operator key and the test schemas, events and tenants.</summary>
public static class ScimHostSettings
{
    public const string AdminKey = "test-operator-key-0123456789";

    /// <summary>The shared settings, then <paramref name="host"/>'s, then <paramref name="extra"/> (later ones win).</summary>
    public static Dictionary<string, string?> Merge(IDictionary<string, string?> host, IDictionary<string, string?>? extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Cluster:Membership"] = "Localhost",
            ["Admin:ApiKey"] = AdminKey,
            // Never Kubernetes hosting, also when the tests run in a pod (a CI runner's): the silo would take it on by itself.
            ["Cluster:Kubernetes"] = "false",
        };
        foreach (var (key, value) in TestExtension.Settings.Concat(TestEvents.Settings).Concat(TestTenants.Settings).Concat(host).Concat(extra ?? new Dictionary<string, string?>()))
        {
            settings[key] = value;
        }

        return settings;
    }
}

/// <summary>
/// A host of the gateway services in a test server (<typeparamref name="TEntryPoint"/>: the silo host or the gateway host) with
/// fixed settings, and the helpers the HTTP tests use to call it as an operator or as Entra.
/// </summary>
public abstract class ScimHostFactory<TEntryPoint>(IDictionary<string, string?> settings) : WebApplicationFactory<TEntryPoint>, IScimTestHost
    where TEntryPoint : class
{
    private Action<IServiceCollection>? _services;

    /// <summary>Extra service registrations, applied after the host's own.</summary>
    protected void AddServices(Action<IServiceCollection> configure) => _services += configure;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        if (_services is not null)
        {
            builder.ConfigureTestServices(_services);
        }
    }

    /// <summary>An HTTP client carrying the operator key.</summary>
    public HttpClient AdminClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ScimHostSettings.AdminKey);
        return client;
    }

    /// <summary>
    /// From now on the tenant's event log cannot read its state (until <c>StorageProbe.FailNextReadsAsOutage(key, 0)</c>),
    /// and its activation has gone: the tenant's summary (<c>GET /admin/tenants/{id}</c>, which asks the log for the counts)
    /// answers 503 when this returns. Needs the storage probe (<c>WithStorageProbe()</c>).
    /// </summary>
    public async Task FailEventLogReadsAsync(string tenantId)
    {
        using var admin = AdminClient();
        await StorageProbe.FailReadsOfNextActivationAsync(Services, GrainKeys.EventLog(tenantId), async () =>
        {
            using var summary = await admin.GetAsync($"/admin/tenants/{tenantId}");
            return summary.StatusCode == HttpStatusCode.ServiceUnavailable;
        });
    }

    /// <summary>Creates a tenant through the admin API, as an operator would.</summary>
    public async Task<TestTenant> CreateTenantAsync(string name = "Contoso")
    {
        using var admin = AdminClient();
        using var response = await admin.PostAsJsonAsync("/admin/tenants", new { name });
        response.EnsureSuccessStatusCode();
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        return new TestTenant(
            body["tenantId"]!.GetValue<string>(),
            body["scimUrl"]!.GetValue<string>(),
            body["token"]!["id"]!.GetValue<string>(),
            body["token"]!["secret"]!.GetValue<string>());
    }

    /// <summary>The path of a new setup link of <paramref name="tenantId"/> (<c>/portal/setup/{tenantId}/{secret}</c>), made through the admin API.</summary>
    public async Task<string> SetupLinkPathAsync(string tenantId)
    {
        using var admin = AdminClient();
        using var response = await admin.PostAsJsonAsync($"/admin/tenants/{tenantId}/setup-links", new { });
        response.EnsureSuccessStatusCode();
        return new Uri((await response.Content.ReadFromJsonAsync<JsonObject>())!["url"]!.GetValue<string>()).AbsolutePath;
    }

    /// <summary>
    /// An HTTP client for a tenant's SCIM endpoint, the way Entra calls it: relative paths resolve under the Tenant
    /// URL (<c>Users</c>, <c>Users/{id}</c>), with <c>Authorization: Bearer</c>.
    /// </summary>
    public HttpClient ScimClient(TestTenant tenant, string? token = null)
    {
        var client = CreateClient();
        client.BaseAddress = new Uri(tenant.ScimUrl.TrimEnd('/') + "/");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token ?? tenant.Token);
        return client;
    }
}

/// <summary>A test host of the gateway services, whichever topology: what tests that call several hosts alike need.</summary>
public interface IScimTestHost
{
    /// <summary>A client of the host's test server.</summary>
    HttpClient CreateClient();

    /// <summary>An HTTP client carrying the operator key.</summary>
    HttpClient AdminClient();

    /// <summary>Creates a tenant through the admin API.</summary>
    Task<TestTenant> CreateTenantAsync(string name = "Contoso");

    /// <summary>An HTTP client for a tenant's SCIM endpoint, the way Entra calls it.</summary>
    HttpClient ScimClient(TestTenant tenant, string? token = null);
}

/// <summary>A tenant as the admin API returned it: the Tenant URL and Secret Token an admin pastes into Entra.</summary>
public sealed record TestTenant(string TenantId, string ScimUrl, string TokenId, string Token);
