using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Gateway.RequestLog;
using Cluster.Gateway.Telemetry;
using Cluster.Scim;
using Cluster.Scim.Errors;
using Cluster.Scim.Resources;

namespace Cluster.Gateway.Http;

/// <summary>
/// The one place that turns SCIM outcomes into HTTP: resources, list responses and RFC 7644 §3.12 errors,
/// all as <c>application/scim+json</c>; and that reads SCIM request bodies.
/// </summary>
public static class ScimHttp
{
    // A ListResponse's text up to the value of totalResults, as ScimSerializer writes it.
    private static readonly string ListPrefix =
        "{\"schemas\":[" + ScimSerializer.Serialize(JsonValue.Create(ScimConstants.ListResponseSchema)) + "],\"totalResults\":";

    /// <summary>A SCIM error response.</summary>
    public static IResult Error(int status, string? scimType, string? detail, Action<HttpResponse>? headers = null) =>
        new ScimJsonResult(status, ScimSerializer.Serialize(ScimError.ToJson(status, scimType, detail)), headers, scimType, detail: detail);

    /// <summary>A SCIM JSON body (resource, list response, discovery document).</summary>
    public static IResult Json(int status, JsonNode body, Action<HttpResponse>? headers = null) =>
        new ScimJsonResult(status, ScimSerializer.Serialize(body), headers, body: body);

    /// <summary>
    /// The one writer of a resource ListResponse: text around its resources' texts (each as <see cref="ScimSerializer"/>
    /// writes it), byte for byte what serializing the same list as a <see cref="JsonObject"/> gives. The provisioning log
    /// notes <c>totalResults</c> and, for a one-item list, that resource's id and name.
    /// </summary>
    public static IResult ListText(int total, IReadOnlyList<string> resources, int startIndex)
    {
        var json = string.Concat(
            ListPrefix,
            total.ToString(CultureInfo.InvariantCulture),
            ",\"Resources\":[",
            string.Join(',', resources),
            "],\"startIndex\":",
            startIndex.ToString(CultureInfo.InvariantCulture),
            ",\"itemsPerPage\":",
            resources.Count.ToString(CultureInfo.InvariantCulture),
            "}");
        return new ScimJsonResult(200, json, headers: null, resourceText: resources.Count == 1 ? resources[0] : null, found: total);
    }

    /// <summary>The request's <c>If-Match</c> tags (RFC 7644 §3.14), or null.</summary>
    public static ETagCondition? IfMatch(HttpRequest request) => ETagCondition.Parse(request.Headers.IfMatch.ToString());

    /// <summary>The request's <c>If-None-Match</c> tags, or null.</summary>
    public static ETagCondition? IfNoneMatch(HttpRequest request) => ETagCondition.Parse(request.Headers.IfNoneMatch.ToString());

    /// <summary>
    /// A 204 that still tells the client the resource's new version (a group PATCH without attributes); <paramref name="resource"/>
    /// is the resource it stands for, as the grain answered it (only the provisioning log reads it: its id and name).
    /// </summary>
    public static IResult NoContent(long version, string? resource = null) => new EmptyWithETag(204, ScimResource.ETag(version), resource);

    /// <summary>
    /// Maps a grain outcome to HTTP; <paramref name="render"/> turns a stored resource into the response body. A read
    /// (<paramref name="ifNoneMatch"/> given) whose resource matches one of the tags answers 304 Not Modified with its
    /// <c>ETag</c> and no body.
    /// </summary>
    /// <param name="result">The grain's outcome.</param>
    /// <param name="render">Turns the stored resource into the response body.</param>
    /// <param name="location">The <c>Location</c> header of a 201.</param>
    /// <param name="ifNoneMatch">A GET's <c>If-None-Match</c>: 304 when it matches.</param>
    /// <param name="renderText">
    /// A cheaper rendering straight to the response text, used when it returns non-null (a plain GET: the stored text
    /// with <c>meta.location</c> spliced in, see <see cref="ScimResource.WithLocation"/>).
    /// </param>
    public static IResult From(ScimResult result, Func<string, JsonObject> render, Func<JsonObject, string>? location = null, ETagCondition? ifNoneMatch = null, Func<string, string?>? renderText = null)
    {
        if (result.Status == 204)
        {
            return Results.NoContent();
        }

        if (result.Status == 200 && ifNoneMatch is not null && ifNoneMatch.Matches(result.Version))
        {
            return new EmptyWithETag(304, ScimResource.ETag(result.Version));
        }

        if (!result.IsSuccess || result.Resource is null)
        {
            // A failed If-Match tells the client which version is current (RFC 7232 §4.2 style); a busy resource when to retry.
            return result.Status switch
            {
                412 when result.Version > 0 => Error(result.Status, result.ScimType, result.Detail, response => response.Headers.ETag = ScimResource.ETag(result.Version)),
                503 => Error(result.Status, result.ScimType, result.Detail, response => response.Headers.RetryAfter = "5"),
                _ => Error(result.Status, result.ScimType, result.Detail),
            };
        }

        var etag = ScimResource.ETag(result.Version);
        if (renderText?.Invoke(result.Resource) is { } text)
        {
            return new ScimJsonResult(result.Status, text, headers: response => response.Headers.ETag = etag, resourceText: text);
        }

        var body = render(result.Resource);
        var active = body["active"] is JsonValue value && value.TryGetValue<bool>(out var flag) ? flag : (bool?)null;
        return new ScimJsonResult(result.Status, ScimSerializer.Serialize(body), active: active, body: body, headers: response =>
        {
            response.Headers.ETag = etag;
            if (result.Status == 201 && location is not null)
            {
                response.Headers.Location = location(body);
            }
        });
    }

    /// <summary>
    /// One entry of a BulkResponse's <c>Operations</c> (RFC 7644 §3.7.3): <c>status</c> as a string, <c>location</c> whenever
    /// the resource is known (required except for a failed POST, which created none), <c>version</c> on success, the §3.12
    /// error body as <c>response</c> on failure.
    /// </summary>
    public static JsonObject BulkOperation(string method, string? bulkId, ScimResult result, string? location)
    {
        var entry = new JsonObject();
        if (location is not null)
        {
            entry["location"] = location;
        }

        entry["method"] = method;
        if (bulkId is not null)
        {
            entry["bulkId"] = bulkId;
        }

        if (result.IsSuccess && result.Version > 0)
        {
            entry["version"] = ScimResource.ETag(result.Version);
        }

        entry["status"] = result.Status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (!result.IsSuccess)
        {
            entry["response"] = ScimError.ToJson(result.Status, result.ScimType, result.Detail);
        }

        return entry;
    }

    /// <summary>
    /// Reads a JSON object body (<see cref="ScimJsonBody"/>: UTF-8, decodable strings, no duplicate members), or throws a
    /// <see cref="ScimException"/> (400 invalidSyntax, 413 too large, 415 not JSON).
    /// </summary>
    public static async Task<JsonObject> ReadObjectAsync(HttpRequest request, int maxBytes)
    {
        if (request.ContentLength > maxBytes)
        {
            throw TooLarge(maxBytes);
        }

        if (request.ContentType is { } contentType && !IsJson(contentType))
        {
            // No scimType: RFC 7644 §3.12 defines them for 400 only.
            throw new ScimException(415, null, "Content-Type must be application/scim+json or application/json.");
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

        return ScimJsonBody.ParseObject(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    private static bool IsJson(string contentType) =>
        contentType.StartsWith(ScimConstants.MediaType, StringComparison.OrdinalIgnoreCase)
        || contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase);

    private static ScimException TooLarge(int maxBytes) =>
        new(413, null, $"The request body is larger than {maxBytes} bytes.");

    /// <summary>304 Not Modified: the <c>ETag</c>, no body.</summary>
    /// <summary>A response without a body that carries the resource's <c>ETag</c> (304, or a 204 after a write).</summary>
    private sealed class EmptyWithETag(int status, string etag, string? resource = null) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => status;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            httpContext.Response.Headers.ETag = etag;
            RequestLogFacts.NoteResourceText(httpContext, resource);
            return Task.CompletedTask;
        }
    }

    /// <summary>
    /// Writes a pre-serialized SCIM JSON body with <c>application/scim+json</c>. What it tells the telemetry and the
    /// provisioning log: the error's <paramref name="scimType"/> and <paramref name="detail"/>, the resource's
    /// <paramref name="active"/>, and the <paramref name="body"/> (or, when sent as text, <paramref name="resourceText"/>) it
    /// was serialized from.
    /// </summary>
    private sealed class ScimJsonResult(
        int status, string json, Action<HttpResponse>? headers, string? scimType = null, bool? active = null, string? detail = null, JsonNode? body = null, string? resourceText = null, int? found = null)
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
            RequestLogFacts.NoteBody(httpContext, detail, body);
            RequestLogFacts.NoteResourceText(httpContext, resourceText, found);
            return response.WriteAsync(json, Encoding.UTF8);
        }
    }
}
