using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Gateway.Telemetry;
using Cluster.Scim;
using Cluster.Scim.Errors;

namespace Cluster.Gateway.Http;

/// <summary>
/// The one place that turns SCIM outcomes into HTTP: resources, list responses and RFC 7644 §3.12 errors,
/// all as <c>application/scim+json</c>; and that reads SCIM request bodies.
/// </summary>
public static class ScimHttp
{
    // Duplicate member names are malformed input: rejected here (400 invalidSyntax), as otherwise System.Text.Json
    // accepts them and the first lookup in the object throws ArgumentException (a 500).
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64, AllowDuplicateProperties = false };

    /// <summary>A SCIM error response.</summary>
    public static IResult Error(int status, string? scimType, string? detail, Action<HttpResponse>? headers = null) =>
        new ScimJsonResult(status, ScimSerializer.Serialize(ScimError.ToJson(status, scimType, detail)), headers, scimType);

    /// <summary>A SCIM JSON body (resource, list response, discovery document).</summary>
    public static IResult Json(int status, JsonNode body, Action<HttpResponse>? headers = null) =>
        new ScimJsonResult(status, ScimSerializer.Serialize(body), headers);

    /// <summary>Maps a grain outcome to HTTP; <paramref name="render"/> turns a stored resource into the response body.</summary>
    public static IResult From(ScimResult result, Func<string, JsonObject> render, Func<JsonObject, string>? location = null)
    {
        if (result.Status == 204)
        {
            return Results.NoContent();
        }

        if (!result.IsSuccess || result.Resource is null)
        {
            return Error(result.Status, result.ScimType, result.Detail);
        }

        var body = render(result.Resource);
        var etag = ScimResource.ETag(result.Version);
        var active = body["active"] is JsonValue value && value.TryGetValue<bool>(out var flag) ? flag : (bool?)null;
        return new ScimJsonResult(result.Status, ScimSerializer.Serialize(body), active: active, headers: response =>
        {
            response.Headers.ETag = etag;
            if (result.Status == 201 && location is not null)
            {
                response.Headers.Location = location(body);
            }
        });
    }

    /// <summary>Reads a JSON object body, or throws a <see cref="ScimException"/> (400 invalidSyntax, 413 too large).</summary>
    public static async Task<JsonObject> ReadObjectAsync(HttpRequest request, int maxBytes)
    {
        if (request.ContentLength > maxBytes)
        {
            throw TooLarge(maxBytes);
        }

        if (request.ContentType is { } contentType && !IsJson(contentType))
        {
            throw new ScimException(415, ScimErrorType.InvalidSyntax, "Content-Type must be application/scim+json or application/json.");
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw TooLarge(maxBytes);
            }

            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0)
        {
            throw ScimException.InvalidSyntax("The request body is empty.");
        }

        try
        {
            return JsonNode.Parse(buffer.ToArray(), documentOptions: DocumentOptions) as JsonObject
                ?? throw ScimException.InvalidSyntax("The request body must be a JSON object.");
        }
        catch (JsonException e)
        {
            throw ScimException.InvalidSyntax(e.Message.Contains("maximum configured depth", StringComparison.OrdinalIgnoreCase)
                ? "The request body is nested too deeply."
                : "The request body is not valid JSON.");
        }
    }

    private static bool IsJson(string contentType) =>
        contentType.StartsWith(ScimConstants.MediaType, StringComparison.OrdinalIgnoreCase)
        || contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase);

    private static ScimException TooLarge(int maxBytes) =>
        new(413, null, $"The request body is larger than {maxBytes} bytes.");

    /// <summary>Writes a pre-serialized SCIM JSON body with <c>application/scim+json</c>.</summary>
    private sealed class ScimJsonResult(int status, string json, Action<HttpResponse>? headers, string? scimType = null, bool? active = null)
        : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => status;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = status;
            response.ContentType = ScimConstants.MediaType + "; charset=utf-8";
            headers?.Invoke(response);
            ScimResponseOutcome.Note(httpContext, scimType, active);
            return response.WriteAsync(json, Encoding.UTF8);
        }
    }
}
