using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Scim.Errors;
using Cluster.Scim.Resources;

namespace Cluster.Scim.Patching;

/// <summary>The three PATCH operations of RFC 7644 §3.5.2.</summary>
public enum PatchOperationType
{
    Add,
    Replace,
    Remove,
}

/// <summary>
/// One PATCH operation. <see cref="Path"/> is null for a pathless operation (target = the resource itself).
/// <see cref="HasValue"/> tells a missing <c>value</c> member apart from an explicit JSON <c>null</c>
/// (both leave <see cref="Value"/> null). <see cref="Value"/> is a detached copy of the request's value.
/// </summary>
public sealed record PatchOperation(PatchOperationType Op, string? RawPath, PatchPath? Path, bool HasValue, JsonNode? Value);

/// <summary>A parsed RFC 7644 §3.5.2 PatchOp request body.</summary>
public sealed record PatchRequest(IReadOnlyList<PatchOperation> Operations)
{
    /// <summary>Maximum number of operations in one request.</summary>
    public const int MaxOperations = 1000;

    /// <summary>
    /// Parses a PatchOp body. Lenient where Entra and scripts differ, strict about shape:
    /// <list type="bullet">
    /// <item><c>schemas</c> may be missing or empty; if it is a non-empty array it must contain the PatchOp URN
    /// (case-insensitive), otherwise invalidSyntax. A non-array <c>schemas</c> is invalidSyntax.</item>
    /// <item><c>Operations</c> (any case) must be a non-empty array of objects → otherwise invalidSyntax;
    /// more than <see cref="MaxOperations"/> → invalidValue.</item>
    /// <item><c>op</c>, <c>path</c>, <c>value</c> keys are matched case-insensitively; other keys are ignored.
    /// <c>op</c> must be <c>add</c>/<c>replace</c>/<c>remove</c> in any case, else invalidSyntax.</item>
    /// <item><c>path</c> must be a string; blank means pathless; a path that does not parse is invalidPath.
    /// Whether the path names a known attribute is checked by <see cref="PatchApplier"/>.</item>
    /// <item><c>add</c>/<c>replace</c> without a <c>value</c> member are invalidSyntax (an explicit null is allowed).</item>
    /// </list>
    /// </summary>
    public static PatchRequest Parse(JsonNode? body)
    {
        if (body is not JsonObject root)
        {
            throw ScimException.InvalidSyntax("The PATCH body must be a JSON object.");
        }

        ScimJson.CheckLimits(root);
        CheckSchemas(ScimJson.Get(root, "schemas"));

        if (ScimJson.Get(root, "Operations") is not JsonArray operations || operations.Count == 0)
        {
            throw ScimException.InvalidSyntax("The PATCH body must contain a non-empty 'Operations' array.");
        }

        if (operations.Count > MaxOperations)
        {
            throw ScimException.InvalidValue($"A PATCH request may contain at most {MaxOperations} operations.");
        }

        var parsed = new List<PatchOperation>(operations.Count);
        foreach (var node in operations)
        {
            parsed.Add(ParseOperation(node));
        }

        return new PatchRequest(parsed);
    }

    private static void CheckSchemas(JsonNode? schemas)
    {
        if (ScimJson.IsNull(schemas))
        {
            return;
        }

        if (schemas is not JsonArray array)
        {
            throw ScimException.InvalidSyntax("'schemas' must be an array.");
        }

        if (array.Count > 0 && !array.Any(s => s?.GetValueKind() == JsonValueKind.String
                && string.Equals(s.GetValue<string>(), ScimConstants.PatchOpSchema, StringComparison.OrdinalIgnoreCase)))
        {
            throw ScimException.InvalidSyntax($"'schemas' must contain {ScimText.Quoted(ScimConstants.PatchOpSchema)}.");
        }
    }

    private static PatchOperation ParseOperation(JsonNode? node)
    {
        if (node is not JsonObject operation)
        {
            throw ScimException.InvalidSyntax("Each PATCH operation must be a JSON object.");
        }

        var opNode = ScimJson.Get(operation, "op");
        var opText = opNode?.GetValueKind() == JsonValueKind.String ? opNode.GetValue<string>().Trim() : null;
        PatchOperationType op;
        if (string.Equals(opText, "add", StringComparison.OrdinalIgnoreCase))
        {
            op = PatchOperationType.Add;
        }
        else if (string.Equals(opText, "replace", StringComparison.OrdinalIgnoreCase))
        {
            op = PatchOperationType.Replace;
        }
        else if (string.Equals(opText, "remove", StringComparison.OrdinalIgnoreCase))
        {
            op = PatchOperationType.Remove;
        }
        else
        {
            throw ScimException.InvalidSyntax($"Unsupported PATCH op {ScimText.Quoted(opText ?? opNode?.ToJsonString())}; expected add, replace or remove.");
        }

        string? rawPath = null;
        PatchPath? path = null;
        var pathNode = ScimJson.Get(operation, "path");
        if (!ScimJson.IsNull(pathNode))
        {
            if (pathNode!.GetValueKind() != JsonValueKind.String)
            {
                throw ScimException.InvalidPath("'path' must be a string.");
            }

            var text = pathNode.GetValue<string>().Trim();
            if (text.Length > 0)
            {
                rawPath = text;
                path = ParsePath(text);
            }
        }

        var valueKey = ScimJson.FindKey(operation, "value");
        var value = valueKey is null ? null : operation[valueKey];
        if (valueKey is null && op != PatchOperationType.Remove)
        {
            throw ScimException.InvalidSyntax($"PATCH op {ScimText.Quoted(opText)} requires a 'value'.");
        }

        return new PatchOperation(op, rawPath, path, valueKey is not null, ScimJson.IsNull(value) ? null : value!.DeepClone());
    }

    private static PatchPath ParsePath(string text)
    {
        try
        {
            return PatchPath.Parse(text);
        }
        catch (ScimException ex) when (ex.ScimType != ScimErrorType.InvalidPath)
        {
            throw ScimException.InvalidPath($"Invalid path {ScimText.Quoted(text)}: {ex.Message}");
        }
    }
}
