using System.Text.Json.Nodes;
using Cluster.Scim;
using Cluster.Scim.Projection;
using Cluster.Scim.Schema;

namespace Cluster.Grains;

/// <summary>
/// What a resource grain hands out: its stored resource without the values that never leave the server (writeOnly
/// extension attributes; the core <c>password</c> is not even stored; the data of an extension no longer configured).
/// So no caller — the gateway, a query, a bulk request — ever holds such a value, and the gateway may send a plain
/// GET's or a plain list's JSON on without re-rendering it.
/// </summary>
internal static class ClientView
{
    /// <summary><paramref name="result"/> with hidden values removed from its resource (unchanged when it can hold none: <see cref="ScimProjection.MayHideValues"/>).</summary>
    public static ScimResult Of(ScimResult result, ResourceTypeDefinition type) =>
        result.Resource is { } json && ScimProjection.MayHideValues(json, type)
            ? result with { Resource = ScimSerializer.Serialize(ScimProjection.WithoutHidden(JsonNode.Parse(json)!.AsObject(), type)) }
            : result;
}
