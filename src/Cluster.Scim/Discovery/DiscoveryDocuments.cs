using System.Text.Json.Nodes;
using Cluster.Scim.Schema;

namespace Cluster.Scim.Discovery;

/// <summary>What the server supports, as advertised in <c>/ServiceProviderConfig</c>.</summary>
public sealed record ServiceProviderFeatures(
    bool Patch,
    bool Bulk,
    int BulkMaxOperations,
    int BulkMaxPayloadSize,
    bool Filter,
    int FilterMaxResults,
    bool ChangePassword,
    bool Sort,
    bool ETag);

/// <summary>
/// RFC 7643 §5–§7 discovery documents, generated from the same <see cref="SchemaDefinition"/>s and
/// <see cref="ResourceTypeDefinition"/>s the server validates against, so they cannot disagree.
/// </summary>
public static class DiscoveryDocuments
{
    /// <summary>The <c>/ServiceProviderConfig</c> document.</summary>
    public static JsonObject ServiceProviderConfig(ServiceProviderFeatures features, string baseUrl) => new()
    {
        ["schemas"] = new JsonArray(ScimConstants.ServiceProviderConfigSchema),
        ["documentationUri"] = "https://datatracker.ietf.org/doc/html/rfc7644",
        ["patch"] = new JsonObject { ["supported"] = features.Patch },
        ["bulk"] = new JsonObject
        {
            ["supported"] = features.Bulk,
            ["maxOperations"] = features.BulkMaxOperations,
            ["maxPayloadSize"] = features.BulkMaxPayloadSize,
        },
        ["filter"] = new JsonObject { ["supported"] = features.Filter, ["maxResults"] = features.FilterMaxResults },
        ["changePassword"] = new JsonObject { ["supported"] = features.ChangePassword },
        ["sort"] = new JsonObject { ["supported"] = features.Sort },
        ["etag"] = new JsonObject { ["supported"] = features.ETag },
        ["authenticationSchemes"] = new JsonArray(new JsonObject
        {
            ["type"] = "oauthbearertoken",
            ["name"] = "OAuth Bearer Token",
            ["description"] = "Authentication with the tenant's Secret Token, sent as 'Authorization: Bearer <token>'.",
            ["primary"] = true,
        }),
        ["meta"] = new JsonObject
        {
            ["resourceType"] = "ServiceProviderConfig",
            ["location"] = $"{baseUrl}/ServiceProviderConfig",
        },
    };

    /// <summary>A <c>/ResourceTypes/{name}</c> document.</summary>
    public static JsonObject ResourceType(ResourceTypeDefinition type, string baseUrl)
    {
        var extensions = new JsonArray();
        foreach (var extension in type.Extensions)
        {
            extensions.Add(new JsonObject { ["schema"] = extension.Schema.Id, ["required"] = extension.Required });
        }

        return new JsonObject
        {
            ["schemas"] = new JsonArray(ScimConstants.ResourceTypeSchema),
            ["id"] = type.Name,
            ["name"] = type.Name,
            ["endpoint"] = type.Endpoint,
            ["description"] = type.Description,
            ["schema"] = type.Schema.Id,
            ["schemaExtensions"] = extensions,
            ["meta"] = new JsonObject
            {
                ["resourceType"] = "ResourceType",
                ["location"] = $"{baseUrl}/ResourceTypes/{type.Name}",
            },
        };
    }

    // externalId is common to every resource (RFC 7643 §3.1), so the RFC's schemas leave it out; Entra's validator
    // (Schema_Discoverability_Test) wants every attribute the app maps, externalId included by default (entra-scim.md §3.1,
    // §7.2), in the resource's core schema. Listed there as it behaves: filters compare it case-insensitively.
    private static readonly AttributeDefinition DiscoverableExternalId = CommonAttributes.ExternalId with { CaseExact = false };

    /// <summary>A <c>/Schemas/{urn}</c> document; the core User and Group schemas list <c>externalId</c> too.</summary>
    public static JsonObject Schema(SchemaDefinition schema, string baseUrl) => new()
    {
        ["schemas"] = new JsonArray(ScimConstants.SchemaSchema),
        ["id"] = schema.Id,
        ["name"] = schema.Name,
        ["description"] = schema.Description,
        ["attributes"] = Attributes(ScimSchemas.ResourceTypes.Any(type => ReferenceEquals(type.Schema, schema)) ? [DiscoverableExternalId, .. schema.Attributes] : schema.Attributes),
        ["meta"] = new JsonObject
        {
            ["resourceType"] = "Schema",
            ["location"] = $"{baseUrl}/Schemas/{schema.Id}",
        },
    };

    /// <summary>A ListResponse of documents (RFC 7644 §4: discovery lists ignore paging).</summary>
    public static JsonObject List(IReadOnlyList<JsonObject> resources) => new()
    {
        ["schemas"] = new JsonArray(ScimConstants.ListResponseSchema),
        ["totalResults"] = resources.Count,
        ["Resources"] = new JsonArray([.. resources]),
        ["startIndex"] = 1,
        ["itemsPerPage"] = resources.Count,
    };

    private static JsonArray Attributes(IReadOnlyList<AttributeDefinition> attributes)
    {
        var array = new JsonArray();
        foreach (var attribute in attributes)
        {
            var json = new JsonObject
            {
                ["name"] = attribute.Name,
                ["type"] = Camel(attribute.Type.ToString()),
                ["multiValued"] = attribute.MultiValued,
                ["description"] = attribute.Description,
                ["required"] = attribute.Required,
                ["caseExact"] = attribute.CaseExact,
                ["mutability"] = Camel(attribute.Mutability.ToString()),
                ["returned"] = Camel(attribute.Returned.ToString()),
                ["uniqueness"] = Camel(attribute.Uniqueness.ToString()),
            };
            if (attribute.CanonicalValues.Count > 0)
            {
                json["canonicalValues"] = new JsonArray([.. attribute.CanonicalValues.Select(v => (JsonNode)v)]);
            }

            if (attribute.ReferenceTypes.Count > 0)
            {
                json["referenceTypes"] = new JsonArray([.. attribute.ReferenceTypes.Select(v => (JsonNode)v)]);
            }

            if (attribute.SubAttributes.Count > 0)
            {
                json["subAttributes"] = Attributes(attribute.SubAttributes);
            }

            array.Add(json);
        }

        return array;
    }

    private static string Camel(string name) => char.ToLowerInvariant(name[0]) + name[1..];
}
