using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Scim;

namespace Cluster.Fuzz.Tests;

/// <summary>
/// What every response of one surface must look like, whatever the request: never a 5xx, and every error in that
/// surface's one error format. A new surface with its own format (an OAuth token endpoint: RFC 6749 §5.2 errors; portal
/// forms: HTML) adds a subclass here.
/// </summary>
public abstract class ErrorContract
{
    /// <summary>SCIM routes: RFC 7644 §3.12 errors, and every body <c>application/scim+json</c>.</summary>
    public static readonly ErrorContract Scim = new ScimErrors();

    /// <summary>Admin routes: RFC 9457 problem details.</summary>
    public static readonly ErrorContract ProblemDetails = new ProblemErrors();

    /// <summary>The OAuth surface: RFC 6749 §5.2 errors (JSON <c>error</c> of the known codes, <c>error_description</c>), never cached.</summary>
    public static readonly ErrorContract OAuth = new OAuthErrors();

    /// <summary>The customer portal: every error an HTML page (the refused form shown again, or the portal's error page) with a text.</summary>
    public static readonly ErrorContract Html = new HtmlErrors();

    /// <summary>Why the response breaks the contract, or null when it keeps it.</summary>
    public string? Violation(FuzzRequest request, HttpResponseMessage response, string body)
    {
        var status = (int)response.StatusCode;
        if (status >= 500)
        {
            return $"answered {status}";
        }

        if (request.Method == "HEAD" || (body.Length == 0 && status < 400))
        {
            return null;
        }

        return Check(status, response.Content.Headers.ContentType?.MediaType, body);
    }

    /// <summary>Checks a response that has (or, being an error, should have) a body.</summary>
    protected abstract string? Check(int status, string? mediaType, string body);

    /// <summary>The body as a JSON object, or null.</summary>
    protected static JsonObject? ParseObject(string body)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed class ScimErrors : ErrorContract
    {
        protected override string? Check(int status, string? mediaType, string body)
        {
            if (mediaType != ScimConstants.MediaType)
            {
                return $"answered {status} as '{mediaType}', not {ScimConstants.MediaType}";
            }

            if (status >= 400)
            {
                return ScimError(ParseObject(body), status) is { } problem ? $"answered {status} with {problem}" : null;
            }

            return ParseObject(body) is { } response && IsBulkResponse(response) ? BulkViolation(response) : null;
        }

        private static bool IsBulkResponse(JsonObject response) =>
            response["schemas"] is JsonArray schemas && schemas.Any(s => s?.GetValueKind() == JsonValueKind.String && s.GetValue<string>() == ScimConstants.BulkResponseSchema);

        // RFC 7644 §3.7.3: each operation's status is a string; a failed one carries the §3.12 error as its response.
        private static string? BulkViolation(JsonObject response)
        {
            foreach (var operation in response["Operations"]?.AsArray() ?? [])
            {
                var text = operation?["status"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
                if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var status) || status >= 500)
                {
                    return $"a bulk operation answered status {operation?["status"]?.ToJsonString() ?? "(none)"}: {operation?.ToJsonString()}";
                }

                if (status >= 400 && ScimError(operation!["response"], status) is { } problem)
                {
                    return $"a bulk operation answered {status} with {problem}: {operation.ToJsonString()}";
                }
            }

            return null;
        }
    }

    /// <summary>Why <paramref name="error"/> is not an RFC 7644 §3.12 error body for <paramref name="status"/>, or null.</summary>
    public static string? ScimError(JsonNode? error, int status)
    {
        if (error is not JsonObject body)
        {
            return "a body that is not a JSON object";
        }

        if (body["schemas"] is not JsonArray { Count: 1 } schemas || schemas[0]?.GetValueKind() != JsonValueKind.String
            || schemas[0]!.GetValue<string>() != ScimConstants.ErrorSchema)
        {
            return $"an error body whose schemas is not [\"{ScimConstants.ErrorSchema}\"]";
        }

        var expected = status.ToString(CultureInfo.InvariantCulture);
        if (body["status"] is not JsonValue value || value.GetValueKind() != JsonValueKind.String || value.GetValue<string>() != expected)
        {
            return $"an error body whose status is not the string \"{expected}\"";
        }

        foreach (var member in new[] { "scimType", "detail" })
        {
            if (body[member] is { } text && text.GetValueKind() != JsonValueKind.String)
            {
                return $"an error body whose {member} is not a string";
            }
        }

        return null;
    }

    private sealed class ProblemErrors : ErrorContract
    {
        protected override string? Check(int status, string? mediaType, string body)
        {
            if (status < 400)
            {
                return null;
            }

            if (mediaType != "application/problem+json")
            {
                return $"answered {status} as '{mediaType}', not application/problem+json";
            }

            var problem = ParseObject(body);
            if (problem is null)
            {
                return $"answered {status} with a body that is not a JSON object";
            }

            return problem["status"] is { } value && (value.GetValueKind() != JsonValueKind.Number || value.GetValue<int>() != status)
                ? $"answered {status} with a problem whose status is {value.ToJsonString()}"
                : null;
        }
    }
}

/// <summary>RFC 6749 §5.1/§5.2: JSON, <c>error</c> one of the registered codes, printable-ASCII descriptions, token responses complete.</summary>
internal sealed class OAuthErrors : ErrorContract
{
    private static readonly HashSet<string> Codes =
        ["invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type", "invalid_scope", "temporarily_unavailable"];

    protected override string? Check(int status, string? mediaType, string body)
    {
        if (mediaType != "application/json")
        {
            return $"answered {status} as '{mediaType}', not application/json";
        }

        var json = ParseObject(body);
        if (json is null)
        {
            return $"answered {status} with a body that is not a JSON object";
        }

        if (status < 400)
        {
            // A token response, or the key set.
            return json["keys"] is JsonArray || (json["access_token"]?.GetValueKind() == JsonValueKind.String && json["token_type"]?.GetValueKind() == JsonValueKind.String
                && json["expires_in"]?.GetValueKind() == JsonValueKind.Number)
                ? null
                : $"answered {status} with neither a token response nor a key set";
        }

        if (json["error"] is not JsonValue error || error.GetValueKind() != JsonValueKind.String || !Codes.Contains(error.GetValue<string>()))
        {
            return $"answered {status} with error {json["error"]?.ToJsonString() ?? "(none)"}";
        }

        return json["error_description"] is JsonValue description && description.GetValueKind() == JsonValueKind.String
            && description.GetValue<string>().All(c => c is >= ' ' and <= '~' && c != '"' && c != '\\')
            ? null
            : $"answered {status} with an error_description that is not printable ASCII without quotes and backslashes";
    }
}

/// <summary>The portal: an error is a <c>text/html</c> page with a body (a person reads it), never an empty or JSON answer.</summary>
internal sealed class HtmlErrors : ErrorContract
{
    protected override string? Check(int status, string? mediaType, string body)
    {
        if (status < 400)
        {
            return null;
        }

        if (mediaType != "text/html")
        {
            return $"answered {status} as '{mediaType}', not text/html";
        }

        return body.Contains("<html", StringComparison.OrdinalIgnoreCase) ? null : $"answered {status} with an HTML body that is no page";
    }
}
