using Cluster.Scim.Schema;
using Microsoft.Extensions.Configuration;

namespace Cluster.Abstractions;

/// <summary>
/// Installs the operator-defined extension schemas (<c>Scim:Extensions</c>) as this process's schema set. Both hosts
/// call it at start-up — the silo (through <c>AddScimGrains</c>: grains validate PATCH and stamp resources with it) and
/// the gateway (it normalizes POST/PUT bodies, checks filters, projects responses and serves discovery with it) — so
/// every silo and gateway of a cluster must be given the same <c>Scim:Extensions</c>.
/// </summary>
public static class ScimSchemaConfiguration
{
    /// <summary>Validates and installs <c>Scim:Extensions</c>; an invalid section fails start-up with a message naming the entry.</summary>
    /// <exception cref="InvalidOperationException">Invalid configuration, or a different one already installed in this process.</exception>
    public static ScimSchemaSet ConfigureScimSchemas(this IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var extensions = configuration.GetSection(ExtensionSchemaOptions.SectionName).Get<List<ExtensionSchemaOptions>>() ?? [];
        return ScimSchemas.Configure(extensions);
    }
}
