using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cluster.Cli;

/// <summary>
/// The gateway's admin API as the CLI calls it: one client per command, the operator key as bearer token, and one place
/// that turns an answer into a result. A 2xx answer is its JSON body (null when it has none); anything else, and a
/// gateway that cannot be reached, is a <see cref="CommandFailedException"/> whose message names the status code and
/// the problem's detail.
/// </summary>
internal sealed class AdminApi : IDisposable
{
    private const int MaxErrorText = 500;

    private readonly HttpClient _http;

    /// <param name="url">The gateway's base URL.</param>
    /// <param name="key">The operator key (<c>Admin:ApiKey</c>).</param>
    /// <param name="handler">Replaces the network (tests); null for a real connection.</param>
    public AdminApi(string url, string key, HttpMessageHandler? handler)
    {
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.BaseAddress = new Uri(url.TrimEnd('/') + "/");
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
    }

    /// <summary>
    /// <c>admin/tenants/{tenantId}[/segment…]</c>, every segment escaped. An id that is empty, <c>.</c> or <c>..</c> is refused:
    /// escaping leaves dots as they are, and the request's URL would drop such a segment with the one before it, so
    /// <c>tokens revoke T ..</c> became <c>DELETE admin/tenants/T/</c>, the tenant's delete (until 2026-12-07).
    /// </summary>
    /// <exception cref="CommandFailedException">An id that would not stay one segment of the path.</exception>
    public static string Tenant(string tenantId, params string[] segments)
    {
        string[] path = ["admin", "tenants", tenantId, .. segments];
        foreach (var id in path.Skip(2))
        {
            if (id is "" or "." or "..")
            {
                throw new CommandFailedException($"'{id}' is not an id; nothing was sent.");
            }
        }

        return string.Join('/', path.Select((s, i) => i < 2 ? s : Uri.EscapeDataString(s)));
    }

    /// <summary><paramref name="path"/> with the query parameters that have a value.</summary>
    public static string WithQuery(string path, params (string Name, string? Value)[] parameters)
    {
        var query = string.Join('&', parameters.Where(p => p.Value is not null).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}"));
        return query.Length == 0 ? path : $"{path}?{query}";
    }

    public Task<JsonNode?> GetAsync(string path, CancellationToken cancellationToken) => SendAsync(HttpMethod.Get, path, null, cancellationToken);

    public Task<JsonNode?> PostAsync(string path, object? body, CancellationToken cancellationToken) => SendAsync(HttpMethod.Post, path, body, cancellationToken);

    public Task<JsonNode?> PatchAsync(string path, object body, CancellationToken cancellationToken) => SendAsync(HttpMethod.Patch, path, body, cancellationToken);

    public Task<JsonNode?> PutAsync(string path, object body, CancellationToken cancellationToken) => SendAsync(HttpMethod.Put, path, body, cancellationToken);

    public Task<JsonNode?> DeleteAsync(string path, CancellationToken cancellationToken) => SendAsync(HttpMethod.Delete, path, null, cancellationToken);

    public void Dispose() => _http.Dispose();

    private async Task<JsonNode?> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new CommandFailedException($"Cannot reach the gateway at {_http.BaseAddress}: {e.Message}", transient: true);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // HttpClient's timeout, not the user's Ctrl-C: say so (else the command would end with status 1 and no word).
            throw new CommandFailedException($"{method} /{path}: the gateway at {_http.BaseAddress} did not answer within {_http.Timeout.TotalSeconds:0} s.", transient: true);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                var status = (int)response.StatusCode;
                throw new CommandFailedException($"{method} /{path} failed: {Describe(response, text)}", transient: status is 429 or >= 500) { Status = status };
            }

            try
            {
                return text.Length == 0 ? null : JsonNode.Parse(text);
            }
            catch (JsonException)
            {
                throw new CommandFailedException($"{method} /{path}: the gateway answered {(int)response.StatusCode} with a body that is not JSON.");
            }
        }
    }

    /// <summary><c>404 Not Found: No such tenant.</c>, from an RFC 9457 problem (title, detail), else the start of the body.</summary>
    private static string Describe(HttpResponseMessage response, string body)
    {
        var status = $"{(int)response.StatusCode} {response.ReasonPhrase}".TrimEnd();
        string? detail = null;
        try
        {
            if (JsonNode.Parse(body) is JsonObject problem)
            {
                var title = problem.Text("title");
                detail = problem.Text("detail") is { } d ? (title is null || string.Equals(title, response.ReasonPhrase, StringComparison.OrdinalIgnoreCase) ? d : $"{title}. {d}") : title;
            }
        }
        catch (JsonException)
        {
            detail = body.Length > MaxErrorText ? body[..MaxErrorText] + "…" : body;
        }

        return string.IsNullOrWhiteSpace(detail) ? status : $"{status}: {detail}";
    }
}

/// <summary>
/// A command that ran but failed (an API error, an unreachable gateway): its message goes to stderr, exit code 1.
/// <paramref name="transient"/>: the same request may succeed later (no answer, 429, 5xx), as a gateway restarting.
/// </summary>
internal sealed class CommandFailedException(string message, bool transient = false) : Exception(message)
{
    public bool Transient { get; } = transient;

    /// <summary>The HTTP status the gateway answered with; null when it did not answer, or answered a body that is not JSON.</summary>
    public int? Status { get; init; }
}
