using Cluster.Grains;
using Cluster.Grains.Hosting;
using Cluster.Grains.State;
using Cluster.Grains.Tenants;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Runtime.Hosting;
using Orleans.Storage;

namespace Orleans.Hosting;

/// <summary>Registers the SCIM grains' storage and services on a silo.</summary>
public static class ScimSiloBuilderExtensions
{
    /// <summary>
    /// Adds the grain storage chosen by the <c>Storage</c> configuration section (see <see cref="ScimStorageOptions"/>)
    /// and the services the grains need. Grain state is stored as System.Text.Json, so stored rows do not depend on
    /// CLR type names. Installs the extension schemas of <c>Scim:Extensions</c> (see <see cref="ScimSchemaConfiguration"/>).
    /// </summary>
    public static ISiloBuilder AddScimGrains(this ISiloBuilder silo, IConfiguration configuration)
    {
        // The extension schemas (Scim:Extensions) the grains validate against; fails start-up when invalid.
        configuration.ConfigureScimSchemas();

        // The provisioning log's retention (Portal:LogRetentionDays), validated at start-up.
        silo.Services.AddScimRequestLogOptions(configuration);
        var options = OptionsCheck.Validated(
            configuration.GetSection(ScimStorageOptions.SectionName).Get<ScimStorageOptions>() ?? new ScimStorageOptions(), ScimStorageOptions.SectionName);
        switch (options.Provider.ToUpperInvariant())
        {
            case "MEMORY":
                silo.AddMemoryGrainStorage(StorageNames.Default);
                silo.Services.AddGrainStorage(StorageNames.Default, (sp, name) => new KeyedRowGrainStorage(MemoryGrainStorageFactory.Create(sp, name)));
                silo.UseInMemoryReminderService();
                silo.Services.AddSingleton<ITenantStorageSweeper, MemoryTenantSweeper>();
                break;
            case "AZURETABLE":
                silo.AddAzureTableGrainStorage(StorageNames.Default, o =>
                {
                    o.TableServiceClient = TableStorage.ServiceClient(options.ConnectionString);
                    o.TableName = options.TableName;

                    // A cleared state deletes its row (with its ETag: a row changed since is not deleted, like any stale
                    // write), instead of leaving an empty entity for ever: deleted users and groups, erased feed and log
                    // pages, emptied index entries. The next write of that state inserts (a row there after all: refused).
                    o.DeleteStateOnClear = true;
                });
                silo.Services.AddGrainStorage(StorageNames.Default, (sp, name) => new KeyedRowGrainStorage(AzureTableGrainStorageFactory.Create(sp, name)));

                // Reminders wake grains whose work outlives a request (large membership changes, deletes) after a crash.
                silo.UseAzureTableReminderService(o => o.TableServiceClient = TableStorage.ServiceClient(options.ConnectionString));

                // Offboarding's storage sweep reads the grain state table by key prefix (issue 13).
                silo.Services.AddSingleton<ITenantStorageSweeper>(sp => new AzureTableTenantSweeper(
                    TableStorage.ServiceClient(options.ConnectionString).GetTableClient(options.TableName),
                    sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<Orleans.Configuration.ClusterOptions>>(),
                    sp.GetRequiredService<IGrainFactory>()));
                break;
            default:
                throw new InvalidOperationException($"Unknown Storage:Provider '{options.Provider}'. Use AzureTable or Memory.");
        }

        // The tenant lifecycle (issue 13): offboarding's settings, validated at start-up.
        silo.Services.AddOptions<TenantsOptions>().Bind(configuration.GetSection(TenantsOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();

#pragma warning disable ORLEANSEXP006 // System.Text.Json storage serializer is marked experimental.
        silo.UseSystemTextJsonGrainStorageSerializer();
#pragma warning restore ORLEANSEXP006
        // Strings (a resource's JSON, an event's data) are written as they are, escaping only quotes, backslashes and
        // control characters: the default encoder writes every quote and non-ASCII character as \uXXXX, up to six times
        // the bytes. Rows are never rendered in HTML; rows written with either encoder read the same.
        silo.Services.Configure<Orleans.Serialization.SystemTextJsonGrainStorageSerializerOptions>(
            o => o.JsonSerializerOptions.Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping);
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.AddSingleton(sp => Cluster.Grains.Indexes.ClaimSettling.Of(
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<Orleans.Configuration.SiloMessagingOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        silo.Services.AddScimEvents(configuration);

        // Access-token signing keys (issue 13): the rotation period, validated at start-up.
        silo.Services.AddOptions<Cluster.Grains.OAuth.SigningKeyOptions>().Bind(configuration.GetSection(Cluster.Grains.OAuth.SigningKeyOptions.SectionName))
            .ValidateDataAnnotations().ValidateOnStart();
        return silo;
    }

    /// <summary>
    /// Places users, groups and index entries on the silo whose call first needs them (<c>Cluster:Placement=local</c>,
    /// see <see cref="LocalResourcePlacement"/>) instead of the cluster's default placement.
    /// </summary>
    public static ISiloBuilder PlaceResourceGrainsLocally(this ISiloBuilder silo)
    {
        silo.Services.AddSingleton<Orleans.Runtime.Placement.IPlacementStrategyResolver, LocalResourcePlacement>();
        return silo;
    }
}
