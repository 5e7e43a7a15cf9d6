using System.Text.Json.Nodes;

namespace Cluster.Scim.Errors;

/// <summary>Builds the RFC 7644 §3.12 error body. <c>status</c> is a string, as in the RFC's examples.</summary>
public static class ScimError
{
    public static JsonObject ToJson(int status, string? scimType, string? detail)
    {
        var body = new JsonObject
        {
            ["schemas"] = new JsonArray(ScimConstants.ErrorSchema),
            ["status"] = status.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (scimType is not null)
        {
            body["scimType"] = scimType;
        }

        if (detail is not null)
        {
            body["detail"] = detail;
        }

        return body;
    }
}
