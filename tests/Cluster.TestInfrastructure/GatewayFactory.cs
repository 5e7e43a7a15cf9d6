using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.TestInfrastructure;

/// <summary>
/// The real gateway pipeline (<c>Program</c>) in a test server. By default it co-hosts a silo with memory storage
/// on free loopback ports; <see cref="ConnectTo"/> makes a second gateway that is a pure Orleans client of the
/// first one's silo, to test behaviour across gateways. Both run with the test extension schemas (<see cref="TestExtension"/>) and <see cref="TestEvents"/>.
/// </summary>
public sealed class GatewayFactory : WebApplicationFactory<Program>
{
    public const string AdminKey = "test-operator-key-0123456789";

    private readonly Dictionary<string, string?> _settings;
    private Action<IServiceCollection>? _services;

    public GatewayFactory()
        : this(null)
    {
    }

    private GatewayFactory(IDictionary<string, string?>? settings)
    {
        SiloGatewayPort = TestPorts.Free();
        _settings = new Dictionary<string, string?>
        {
            ["Gateway:Mode"] = "Cohost",
            ["Cluster:Membership"] = "Localhost",
            ["Cluster:SiloPort"] = TestPorts.Free().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Cluster:GatewayPort"] = SiloGatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Storage:Provider"] = "Memory",
            ["Admin:ApiKey"] = AdminKey,
        };
        foreach (var (key, value) in TestExtension.Settings.Concat(TestEvents.Settings).Concat(TestTenants.Settings))
        {
            _settings[key] = value;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }
    }

    /// <summary>A gateway with extra settings (configuration keys as in appsettings, e.g. <c>Gateway:MaxBodyBytes</c>).</summary>
    public static GatewayFactory With(IDictionary<string, string?> settings) => new(settings);

    /// <summary>The Orleans gateway port of the co-hosted silo.</summary>
    public int SiloGatewayPort { get; }

    /// <summary>A second gateway: an Orleans client of <paramref name="cohost"/>'s silo.</summary>
    public static GatewayFactory ConnectTo(GatewayFactory cohost) => With(new Dictionary<string, string?>
    {
        ["Gateway:Mode"] = "Client",
        ["Cluster:GatewayPort"] = cohost.SiloGatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    /// <summary>
    /// Extra service registrations, applied after the gateway's own (e.g. an in-memory trace exporter or a capturing
    /// logger provider). Call before the first request.
    /// </summary>
    public GatewayFactory WithServices(Action<IServiceCollection> configure)
    {
        _services += configure;
        return this;
    }

    /// <summary>
    /// Routes the co-hosted silo's grain storage through <see cref="StorageProbe"/> (reads and writes counted per grain).
    /// Call before the first request.
    /// </summary>
    public GatewayFactory WithStorageProbe() => WithServices(StorageProbe.Install);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
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
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return client;
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

/// <summary>A tenant as the admin API returned it: the Tenant URL and Secret Token an admin pastes into Entra.</summary>
public sealed record TestTenant(string TenantId, string ScimUrl, string TokenId, string Token);
