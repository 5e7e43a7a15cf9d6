using System.Text.Json.Nodes;
using Cluster.Scim;
using Cluster.Scim.Projection;
using Cluster.Scim.Schema;

namespace Cluster.Grains;

/// <summary>
/// What a resource grain hands out: its stored resource without the values that never leave the server (writeOnly
/// extension attributes; the core <c>password</c> is not even stored). So no caller — the gateway, a query, a
/// bulk request — ever holds such a value, and the gateway may send a plain GET's JSON on without re-rendering it.
/// </summary>
internal static class ClientView
{
    /// <summary><paramref name="result"/> with hidden values removed from its resource (unchanged when the type has none).</summary>
    public static ScimResult Of(ScimResult result, ResourceTypeDefinition type) =>
        result.Resource is { } json && type.HasHiddenStoredAttributes
            ? result with { Resource = ScimSerializer.Serialize(ScimProjection.WithoutHidden(JsonNode.Parse(json)!.AsObject(), type)) }
            : result;
}
