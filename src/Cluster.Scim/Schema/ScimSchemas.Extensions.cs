using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Cluster.Scim.Schema;

/// <summary>The served resource types of one configuration: built-ins plus operator-defined extensions.</summary>
public sealed record ScimSchemaSet(ResourceTypeDefinition User, ResourceTypeDefinition Group)
{
    /// <summary>Every schema of both resource types, core schemas first (each once).</summary>
    public IReadOnlyList<SchemaDefinition> Schemas { get; } =
        [.. new[] { User, Group }.SelectMany(t => t.Extensions.Select(e => e.Schema).Prepend(t.Schema)).Distinct()];

    /// <summary>A canonical text of the extensions: two sets with the same fingerprint validate and advertise alike.</summary>
    public string Fingerprint { get; } = FingerprintOf(User, Group);

    private static string FingerprintOf(params ResourceTypeDefinition[] types)
    {
        var text = new StringBuilder();
        foreach (var type in types)
        {
            foreach (var extension in type.Extensions)
            {
                text.Append(type.Name).Append('|').Append(extension.Schema.Id).Append('|').Append(extension.Required).Append('|')
                    .Append(extension.Schema.Name).Append('|').Append(extension.Schema.Description).Append('|')
                    .Append(JsonSerializer.Serialize(extension.Schema.Attributes)).Append('\n');
            }
        }

        return text.ToString();
    }
}

public static partial class ScimSchemas
{
    private static readonly Lock Gate = new();
    private static ScimSchemaSet? s_current;
    private static ScimSchemaSet? s_configured;

    /// <summary>
    /// The schema set in force in this process: the one installed by <see cref="Configure"/>, or the built-ins only
    /// (enterprise extension, no operator extensions) while nothing was configured.
    /// </summary>
    public static ScimSchemaSet Current
    {
        get
        {
            var current = Volatile.Read(ref s_current);
            if (current is not null)
            {
                return current;
            }

            lock (Gate)
            {
                return s_current ??= Build([]);
            }
        }
    }

    /// <summary>
    /// Validates <paramref name="extensions"/> and installs them as this process's schema set. Called once by each
    /// host at start-up (silo, gateway; a co-hosting gateway calls it twice with the same configuration). Installing the
    /// same definitions again is a no-op; different definitions in one process are refused, because grains and
    /// endpoints of one process must validate against one schema.
    /// </summary>
    /// <exception cref="InvalidOperationException">The configuration is invalid, or differs from the one already installed.</exception>
    public static ScimSchemaSet Configure(IReadOnlyList<ExtensionSchemaOptions>? extensions)
    {
        var set = Build(extensions);
        lock (Gate)
        {
            if (s_configured is not null)
            {
                return s_configured.Fingerprint == set.Fingerprint
                    ? s_configured
                    : throw new InvalidOperationException(
                        $"{ExtensionSchemaOptions.SectionName}: this process already serves a different set of extension schemas; every host in a process (and every silo and gateway of a cluster) must be given the same {ExtensionSchemaOptions.SectionName}.");
            }

            s_configured = set;
            Volatile.Write(ref s_current, set);
            return set;
        }
    }

    /// <summary>
    /// Builds the resource types with the given operator-defined extensions, without installing them. Every rule is
    /// checked and the first violation is reported with the offending entry (<c>Scim:Extensions[i]</c>).
    /// </summary>
    /// <exception cref="InvalidOperationException">The configuration is invalid.</exception>
    public static ScimSchemaSet Build(IReadOnlyList<ExtensionSchemaOptions>? extensions)
    {
        var user = new List<SchemaExtension> { new(EnterpriseUser, Required: false) };
        var group = new List<SchemaExtension>();
        var urns = new HashSet<string>([User.Id, Group.Id, EnterpriseUser.Id], StringComparer.OrdinalIgnoreCase);
        extensions ??= [];
        for (var i = 0; i < extensions.Count; i++)
        {
            var options = extensions[i] ?? throw Invalid(i, null, "the entry is empty.");
            var urn = options.Schema?.Trim();
            if (string.IsNullOrEmpty(urn) || !UrnPattern().IsMatch(urn))
            {
                throw Invalid(i, urn, "'Schema' must be a URN such as 'urn:ietf:params:scim:schemas:extension:acme:2.0:User' (segments of letters, digits, '.', '-', '_'; the last one a name: a letter, then letters, digits, '-', '_', so that a PATCH path can name the extension).");
            }

            if (!urns.Add(urn))
            {
                throw Invalid(i, urn, "the schema URN is already defined (a built-in schema or an earlier entry).");
            }

            var (target, core) = (options.ResourceType?.Trim() ?? "User").ToUpperInvariant() switch
            {
                "USER" => (user, User),
                "GROUP" => (group, Group),
                _ => throw Invalid(i, urn, $"'ResourceType' must be 'User' or 'Group', not '{options.ResourceType}'."),
            };

            if (options.Attributes is not { Count: > 0 })
            {
                throw Invalid(i, urn, "'Attributes' must list at least one attribute.");
            }

            var attributes = BuildAttributes(options.Attributes, i, urn, parent: null);
            foreach (var attribute in attributes)
            {
                if (core.FindAttribute(attribute.Name) is not null || CommonAttributes.Find(attribute.Name) is not null)
                {
                    throw Invalid(i, urn, $"attribute '{attribute.Name}' clashes with the core {core.Name} attribute of that name.");
                }

                if (target.FirstOrDefault(e => e.Schema.FindAttribute(attribute.Name) is not null) is { } other)
                {
                    throw Invalid(i, urn, $"attribute '{attribute.Name}' is already defined by extension '{other.Schema.Id}' (names without a URN must resolve to one attribute).");
                }
            }

            var name = string.IsNullOrWhiteSpace(options.Name) ? urn[(urn.LastIndexOf(':') + 1)..] : options.Name.Trim();
            var schema = new SchemaDefinition(urn, name, options.Description?.Trim() ?? "", attributes);
            target.Add(new SchemaExtension(schema, options.Required));
        }

        return new ScimSchemaSet(
            new ResourceTypeDefinition("User", "/Users", "User Account", User, user),
            new ResourceTypeDefinition("Group", "/Groups", "Group", Group, group));
    }

    private static AttributeDefinition[] BuildAttributes(List<ExtensionAttributeOptions> list, int index, string urn, string? parent, bool parentMultiValued = false)
    {
        var result = new List<AttributeDefinition>();
        foreach (var options in list)
        {
            var name = options?.Name?.Trim();
            var where = parent is null ? $"attribute '{name}'" : $"sub-attribute '{parent}.{name}'";
            if (options is null || string.IsNullOrEmpty(name) || name == "$ref" || !AttributePath.IsAttrName(name))
            {
                throw Invalid(index, urn, $"{where}: a name must start with a letter and contain only letters, digits, '-' and '_'.");
            }

            if (result.Any(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                throw Invalid(index, urn, $"{where} is defined twice.");
            }

            var type = Parse<AttributeType>(options.Type, AttributeType.String, index, urn, where, "Type", "string, boolean, decimal, integer, dateTime, reference, binary, complex");
            var mutability = Parse<Mutability>(options.Mutability, Mutability.ReadWrite, index, urn, where, "Mutability", "readWrite, readOnly, immutable, writeOnly");
            var returned = Parse<Returned>(options.Returned, mutability == Mutability.WriteOnly ? Returned.Never : Returned.Default, index, urn, where, "Returned", "default, always, never, request");
            var uniqueness = Parse<Uniqueness>(options.Uniqueness, Uniqueness.None, index, urn, where, "Uniqueness", "none");
            if (uniqueness != Uniqueness.None)
            {
                throw Invalid(index, urn, $"{where}: 'Uniqueness' must be 'none': uniqueness of extension attributes is not enforced.");
            }

            if (mutability == Mutability.WriteOnly && returned != Returned.Never)
            {
                throw Invalid(index, urn, $"{where}: a writeOnly attribute must have 'Returned' never (RFC 7643 §7).");
            }

            if (mutability == Mutability.ReadOnly && options.Required)
            {
                throw Invalid(index, urn, $"{where}: a readOnly attribute cannot be required (clients cannot supply it).");
            }

            if (parent is not null && (returned is Returned.Always or Returned.Request || mutability == Mutability.ReadOnly))
            {
                // Only what is enforced is accepted: nothing computes extension values, sub-attribute input is kept as sent,
                // and projections decide on whole attributes (a 'request' sub-attribute would be returned by every read).
                throw Invalid(index, urn, $"{where}: 'Returned' always or request and 'Mutability' readOnly are not supported on sub-attributes.");
            }

            if (parentMultiValued && mutability == Mutability.Immutable)
            {
                throw Invalid(index, urn, $"{where}: an immutable sub-attribute of a multi-valued attribute is not enforced, so not supported.");
            }

            var subs = options.SubAttributes ?? [];
            AttributeDefinition[] subAttributes = [];
            if (type == AttributeType.Complex)
            {
                if (parent is not null)
                {
                    throw Invalid(index, urn, $"{where}: a sub-attribute cannot be complex (RFC 7643 §2.3.8).");
                }

                if (subs.Count == 0)
                {
                    throw Invalid(index, urn, $"{where}: a complex attribute needs 'SubAttributes'.");
                }

                subAttributes = BuildAttributes(subs, index, urn, name, options.MultiValued);
            }
            else if (subs.Count > 0)
            {
                throw Invalid(index, urn, $"{where}: only complex attributes have 'SubAttributes'.");
            }

            result.Add(new AttributeDefinition
            {
                Name = name,
                Type = type,
                MultiValued = options.MultiValued,
                Description = options.Description?.Trim() ?? "",
                Required = options.Required,
                CaseExact = options.CaseExact,
                Mutability = mutability,
                Returned = returned,
                Uniqueness = uniqueness,
                CanonicalValues = [.. options.CanonicalValues ?? []],
                ReferenceTypes = type == AttributeType.Reference ? [.. options.ReferenceTypes is { Count: > 0 } refs ? refs : ["external"]] : [],
                SubAttributes = subAttributes,
            });
        }

        return [.. result];
    }

    private static T Parse<T>(string? text, T fallback, int index, string urn, string where, string key, string allowed)
        where T : struct, Enum
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        return Enum.TryParse<T>(text.Trim(), ignoreCase: true, out var value) && Enum.IsDefined(value) && !char.IsAsciiDigit(text.Trim()[0])
            ? value
            : throw Invalid(index, urn, $"{where}: unknown '{key}' '{text}' (allowed: {allowed}).");
    }

    private static InvalidOperationException Invalid(int index, string? urn, string message) =>
        new($"Invalid {ExtensionSchemaOptions.SectionName}[{index}]{(string.IsNullOrEmpty(urn) ? "" : $" ({urn})")}: {message}");

    // The last segment is an attribute name (RFC 7643 §2.1 ATTRNAME): a PATCH path holding the whole URN ("path":
    // "urn:…:acme:2.0:User") is parsed as a URN and an attribute name before it is found to name the extension, so a URN
    // ending "…:2.0" could be sent in a body but never named by a path.
    [GeneratedRegex(@"^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}(:[A-Za-z0-9._-]+)*:[A-Za-z][A-Za-z0-9_-]*$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex UrnPattern();
}
