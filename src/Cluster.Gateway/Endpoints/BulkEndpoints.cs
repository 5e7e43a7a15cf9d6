using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Gateway.Auth;
using Cluster.Gateway.Hosting;
using Cluster.Gateway.Http;
using Cluster.Gateway.Limits;
using Cluster.Gateway.Querying;
using Cluster.Gateway.Resilience;
using Cluster.Scim;
using Cluster.Scim.Errors;
using Cluster.Scim.Resources;
using Cluster.ServiceDefaults.Telemetry;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Endpoints;

/// <summary>
/// <c>POST /Bulk</c> (RFC 7644 §3.7). Each operation runs through the same <see cref="ResourceWrites"/> as its HTTP route
/// (validation, normalization, retries, preconditions), and its <see cref="ScimResult"/> is mapped by
/// <see cref="ScimHttp.BulkOperation"/>. <c>bulkId:</c> references in paths and in <c>data</c> string values are
/// resolved to the ids created earlier in the request; operations run in request order, except that one referencing a
/// create later in the request runs that create first, so forward references work. A reference that cannot be resolved (undefined, failed, or circular) fails its operation
/// with 409 <c>invalidValue</c>. <c>version</c> acts as <c>If-Match</c>. Limits: <see cref="GatewayOptions.BulkMaxOperations"/>
/// and <see cref="GatewayOptions.BulkMaxPayloadSize"/> (413).
/// </summary>
public static class BulkEndpoints
{
    private const string BulkIdPrefix = "bulkId:";

    public static RouteGroupBuilder MapBulk(this RouteGroupBuilder scim)
    {
        scim.MapPost("/Bulk", BulkAsync);
        return scim;
    }

    private static async Task<IResult> BulkAsync(
        string tenantId, HttpRequest request, IGrainFactory grains, GrainCallRetry retry, IOptions<GatewayOptions> options, TenantRateLimitPolicy limits,
        TenantTokenValidator credentials, ILogger<BulkRequestLog> logger)
    {
        var settings = options.Value;
        JsonObject body;
        try
        {
            body = await ScimHttp.ReadObjectAsync(request, settings.BulkMaxPayloadSize);
        }
        catch (ScimException e) when (e.Status == 413)
        {
            throw new ScimException(413, null, $"The size of the bulk operation exceeds the maxPayloadSize ({settings.BulkMaxPayloadSize}).");
        }

        var (operations, failOnErrors) = Parse(body, limits.MaxBulkOperations(tenantId, settings.BulkMaxOperations));

        // Every operation beyond the first counts against the tenant's rate limit, not just the one HTTP request.
        using var lease = limits.AcquireBulkOperations(tenantId, operations.Count - 1);
        if (lease is { IsAcquired: false })
        {
            request.HttpContext.RequestServices.GetService<ScimInstruments>()?.LimitRejected(ScimInstruments.LimitReasons.TenantRate, tenantId);
            return TenantRateLimitPolicy.Throttled(lease);
        }

        var run = new BulkRun(ScimCall.Of(tenantId, request, grains, retry, options), ScimUrls.TenantBase(request, options, tenantId), operations, failOnErrors,
            () => credentials.RecheckAsync(request.HttpContext.User, request), logger);
        return ScimHttp.Json(200, new JsonObject
        {
            ["schemas"] = new JsonArray(ScimConstants.BulkResponseSchema),
            ["Operations"] = await run.RunAsync(),
        });
    }

    /// <summary>Checks the BulkRequest envelope (a bad one fails the whole request) and each operation (a bad one fails only itself).</summary>
    private static (List<BulkOperation> Operations, int FailOnErrors) Parse(JsonObject body, int maxOperations)
    {
        if (ScimJsonBody.Member(body, "schemas") is not JsonArray schemas
            || !schemas.Any(s => s is JsonValue v && v.TryGetValue<string>(out var urn) && string.Equals(urn, ScimConstants.BulkRequestSchema, StringComparison.OrdinalIgnoreCase)))
        {
            throw ScimException.InvalidSyntax($"A bulk request must carry the schema {ScimConstants.BulkRequestSchema}.");
        }

        var failOnErrors = int.MaxValue;
        if (ScimJsonBody.Member(body, "failOnErrors") is { } limit)
        {
            if (limit is not JsonValue value || !value.TryGetValue<int>(out failOnErrors) || failOnErrors < 1)
            {
                throw ScimException.InvalidValue("'failOnErrors' must be a positive integer.");
            }
        }

        if (ScimJsonBody.Member(body, "Operations") is not JsonArray items)
        {
            throw ScimException.InvalidSyntax("A bulk request must have an 'Operations' array.");
        }

        if (items.Count > maxOperations)
        {
            throw new ScimException(413, null, $"The number of operations exceeds the maxOperations ({maxOperations}).");
        }

        var operations = items.Select(BulkOperation.Parse).ToList();
        var duplicate = operations.Where(o => o.BulkId is not null).GroupBy(o => o.BulkId, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw ScimException.InvalidSyntax($"bulkId {ScimText.Quoted(duplicate.Key)} is used by more than one operation.");
        }

        return (operations, failOnErrors);
    }

    /// <summary>One operation of a BulkRequest. <see cref="Invalid"/> is set when it cannot run at all.</summary>
    private sealed record BulkOperation(
        string Method, string? BulkId, ResourceWrites? Writes, string? Id, JsonObject? Data, string? Version, ScimException? Invalid, HashSet<string> References)
    {
        public static BulkOperation Parse(JsonNode? node)
        {
            if (node is not JsonObject op)
            {
                return Fail("", null, ScimException.InvalidSyntax("Each operation must be a JSON object."));
            }

            var method = (Text(op, "method") ?? "").ToUpperInvariant();
            var bulkId = Text(op, "bulkId");
            var path = Text(op, "path");
            var version = Text(op, "version");
            if (method is not ("POST" or "PUT" or "PATCH" or "DELETE"))
            {
                return Fail(method, bulkId, ScimException.InvalidSyntax("'method' must be POST, PUT, PATCH or DELETE."));
            }

            var segments = (path ?? "").Split('/');
            var writes = segments.Length is 2 or 3 && segments[0].Length == 0 ? ResourceWrites.ForEndpoint("/" + segments[1]) : null;
            var id = segments.Length == 3 ? segments[2] : null;
            if (writes is null || (method == "POST") != (id is null) || id is { Length: 0 })
            {
                return Fail(method, bulkId, new ScimException(400, ScimErrorType.InvalidPath, method == "POST"
                    ? "'path' of a POST must be /Users or /Groups."
                    : $"'path' of a {method} must be /Users/{{id}} or /Groups/{{id}}."));
            }

            // From here on the path names the resource: a failed operation still answers its location (RFC 7644 §3.7.3).
            if (ScimJsonBody.Member(op, "version") is not null && string.IsNullOrWhiteSpace(version))
            {
                // Ignoring it would run the write without the precondition the client asked for.
                return Fail(method, bulkId, ScimException.InvalidSyntax("'version' must be an ETag string such as W/\"3\"."), writes, id);
            }

            if (method == "POST" && string.IsNullOrEmpty(bulkId))
            {
                return Fail(method, bulkId, ScimException.InvalidSyntax("A POST operation needs a 'bulkId'."));
            }

            var data = ScimJsonBody.Member(op, "data") as JsonObject;
            if (method != "DELETE" && data is null)
            {
                return Fail(method, bulkId, ScimException.InvalidSyntax($"A {method} operation needs a 'data' object."), writes, id);
            }

            var references = new HashSet<string>(StringComparer.Ordinal);
            if (id is not null && id.StartsWith(BulkIdPrefix, StringComparison.Ordinal))
            {
                references.Add(id[BulkIdPrefix.Length..]);
            }

            CollectReferences(data, references);
            return new BulkOperation(method, bulkId, writes, id, data, version, null, references);
        }

        private static BulkOperation Fail(string method, string? bulkId, ScimException invalid, ResourceWrites? writes = null, string? id = null) =>
            new(method, bulkId, writes, id, null, null, invalid, []);

        private static string? Text(JsonObject op, string name) =>
            ScimJsonBody.Member(op, name) is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
    }

    /// <summary>
    /// Runs the operations in request order, until all ran or failOnErrors is reached. The one exception, so that a forward
    /// reference works: an operation that references a create later in the request runs that create first (RFC 7644 §3.7:
    /// reordered only as far as the client's intent needs; until 2026-12-07 a waiting operation let every later one run
    /// before it, so a later DELETE or PATCH of the same resource could land first and change the result).
    /// </summary>
    private sealed class BulkRun(ScimCall call, string baseUrl, List<BulkOperation> operations, int failOnErrors, Func<ValueTask<TokenCheck>> recheck, ILogger logger)
    {
        // Set when the request's credential stopped holding while it ran: every operation not yet run answers it.
        private ScimResult? _halted;

        private readonly Dictionary<string, string> _created = new(StringComparer.Ordinal);
        private readonly HashSet<string> _failed = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _defined = operations
            .Select((o, index) => (o, index))
            .Where(d => d.o.Method == "POST" && d.o.BulkId is not null)
            .ToDictionary(d => d.o.BulkId!, d => d.index, StringComparer.Ordinal);
        private readonly JsonObject?[] _responses = new JsonObject?[operations.Count];

        // How deep forward references may pull creates before their operation fails (a bound on the recursion, whatever
        // Gateway:BulkMaxOperations allows).
        private const int MaxReferenceDepth = 64;

        // The operations under way, outermost first: one that runs a create it references is below that create.
        private readonly List<int> _running = [];
        private int _errors;

        public async Task<JsonArray> RunAsync()
        {
            for (var index = 0; index < operations.Count && _errors < failOnErrors; index++)
            {
                await RunInOrderAsync(index);
            }

            return new JsonArray([.. _responses.Where(r => r is not null)]);
        }

        // Runs the operation unless it ran: first each create it references that has not run, then itself. A create that is
        // under way already (below on the stack) closes a cycle: every operation from it up to this one waits for itself.
        private async Task RunInOrderAsync(int index)
        {
            if (_responses[index] is not null || _errors >= failOnErrors)
            {
                return;
            }

            _running.Add(index);
            try
            {
                var op = operations[index];
                // The creates it needs, in request order (each pulled forward as little as possible).
                var needed = op.Invalid is null ? op.References.Where(_defined.ContainsKey).OrderBy(r => _defined[r]) : Enumerable.Empty<string>();
                foreach (var reference in needed)
                {
                    if (_created.ContainsKey(reference) || _failed.Contains(reference))
                    {
                        continue; // resolved, or never resolvable (RunAsync says why)
                    }

                    var definer = _defined[reference];
                    if (_running.Count >= MaxReferenceDepth)
                    {
                        // A chain of forward references this long is not a client's intent, and each link is a frame.
                        Record(index, ScimResult.Error(409, ScimErrorType.InvalidValue, $"The operation's bulkId references are nested more than {MaxReferenceDepth} deep."), null);
                        return;
                    }

                    if (_running.IndexOf(definer) is var at and >= 0)
                    {
                        foreach (var member in _running.Skip(at).Where(m => _responses[m] is null).TakeWhile(_ => _errors < failOnErrors))
                        {
                            Record(member, ScimResult.Error(409, ScimErrorType.InvalidValue, "The operation's bulkId references are circular and cannot be resolved."), null);
                        }

                        return;
                    }

                    await RunInOrderAsync(definer);
                    if (_responses[index] is not null || _errors >= failOnErrors)
                    {
                        return; // part of a cycle found meanwhile, or failOnErrors reached
                    }
                }

                await RunAsync(index);
            }
            finally
            {
                _running.RemoveAt(_running.Count - 1);
            }
        }

        private async Task RunAsync(int index)
        {
            var op = operations[index];
            if (op.Invalid is { } invalid)
            {
                Record(index, ScimResult.Error(invalid.Status, invalid.ScimType, invalid.Message), LocationOf(op, NamedId(op)));
                return;
            }

            if (Unresolvable(op) is { } detail)
            {
                Record(index, ScimResult.Error(409, ScimErrorType.InvalidValue, detail), LocationOf(op, NamedId(op)));
                return;
            }

            var writes = op.Writes!;
            var id = op.Id is { } raw && raw.StartsWith(BulkIdPrefix, StringComparison.Ordinal) ? _created[raw[BulkIdPrefix.Length..]] : op.Id;
            var data = op.Data is null ? null : (JsonObject)Resolve(op.Data.DeepClone());
            var ifMatch = ETagCondition.Parse(op.Version);
            ScimResult result;
            try
            {
                // A Bulk can run for minutes; its authentication was checked once, before the first operation. Each operation
                // checks again that the credential holds (memory: the credential cache), so a suspension, a revocation or the
                // tenant's delete stops the rest within Gateway:TokenCacheSeconds (at once on this gateway), as it stops
                // single requests. The check's own failure (the cache's re-read) fails this operation, like its write's.
                result = (_halted ??= Halted(await recheck())) ?? op.Method switch
                {
                    "POST" => await writes.CreateAsync(call, data!),
                    "PUT" => await writes.ReplaceAsync(call, id!, data!, ifMatch),
                    "PATCH" => await writes.PatchAsync(call, id!, data!, ifMatch),
                    _ => await writes.DeleteAsync(call, id!, ifMatch),
                };
            }
            catch (ScimException e)
            {
                result = ScimResult.Error(e.Status, e.ScimType, e.Message);
            }
            catch (Exception e) when (GrainCallRetry.IsTransient(e) && !call.Aborted.IsCancellationRequested)
            {
                // Told like a single request's (warning 2002): the Bulk itself answers 200, so no status would show it.
                GatewayLog.ClusterUnavailable(logger, e, op.Method, "Bulk operation");
                result = ScimResult.Error(503, null, "The service is temporarily unavailable. Retry later.");
            }
            catch (Exception e) when (!call.Aborted.IsCancellationRequested)
            {
                // Earlier operations are done: the client must still get the BulkResponse that says which ones.
                BulkRequestLog.OperationFailed(logger, e, op.Method);
                result = ScimResult.Error(500, null, "An internal error occurred while processing this operation.");
            }

            if (op.Method == "POST" && result.IsSuccess && result.Resource is not null)
            {
                id = JsonNode.Parse(result.Resource)?["id"]?.GetValue<string>();
            }

            Record(index, result, LocationOf(op, id));
        }

        private static ScimResult? Halted(TokenCheck check) =>
            !check.IsValid ? ScimResult.Error(401, null, "The credential of this request was revoked, or its tenant deleted, while the request ran: this operation did not run.")
            : check.Suspended ? ScimResult.Error(403, null, "The tenant was suspended while this request ran: this operation did not run.")
            : null;

        // The id the operation's path names itself (a "bulkId:" reference names none until its create ran).
        private static string? NamedId(BulkOperation op) => op.Id?.StartsWith(BulkIdPrefix, StringComparison.Ordinal) == false ? op.Id : null;

        // The resource's URL, when the operation names one that can exist (a client's malformed id names none).
        private string? LocationOf(BulkOperation op, string? id) =>
            id is not null && GrainKeys.IsValidId(id) && op.Writes is { } writes ? $"{baseUrl}{writes.Kind.Type.Endpoint}/{id}" : null;

        private void Record(int index, ScimResult result, string? location)
        {
            var op = operations[index];
            if (op.Method == "POST" && op.BulkId is not null)
            {
                if (result.IsSuccess && location is not null)
                {
                    _created[op.BulkId] = location[(location.LastIndexOf('/') + 1)..];
                }
                else
                {
                    _failed.Add(op.BulkId);
                }
            }

            if (!result.IsSuccess)
            {
                _errors++;
            }

            _responses[index] = ScimHttp.BulkOperation(op.Method, op.BulkId, result, location);
        }

        // Why a reference can never be resolved (not defined by a POST of this request, or that POST failed), or null.
        private string? Unresolvable(BulkOperation op)
        {
            foreach (var reference in op.References.Order(StringComparer.Ordinal))
            {
                if (!_defined.ContainsKey(reference))
                {
                    return $"bulkId {ScimText.Quoted(reference)} is not defined by a POST operation of this request.";
                }

                if (_failed.Contains(reference))
                {
                    return $"The operation with bulkId {ScimText.Quoted(reference)} failed, so its reference cannot be resolved.";
                }
            }

            return null;
        }

        // Replaces every "bulkId:x" string value in a (cloned) data object with the id created for x, in place.
        private JsonNode Resolve(JsonNode node)
        {
            switch (node)
            {
                case JsonObject obj:
                    foreach (var (key, child) in obj.ToArray())
                    {
                        if (child is not null)
                        {
                            var resolved = Resolve(child);
                            if (!ReferenceEquals(resolved, child))
                            {
                                obj[key] = resolved;
                            }
                        }
                    }

                    return obj;
                case JsonArray array:
                    for (var i = 0; i < array.Count; i++)
                    {
                        if (array[i] is { } item && Resolve(item) is var resolved && !ReferenceEquals(resolved, item))
                        {
                            array[i] = resolved;
                        }
                    }

                    return array;
                case JsonValue value when value.TryGetValue<string>(out var text) && text.StartsWith(BulkIdPrefix, StringComparison.Ordinal):
                    return JsonValue.Create(_created[text[BulkIdPrefix.Length..]]);
                default:
                    return node;
            }
        }
    }

    private static void CollectReferences(JsonNode? node, HashSet<string> references)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (_, value) in obj)
                {
                    CollectReferences(value, references);
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    CollectReferences(item, references);
                }

                break;
            case JsonValue leaf when leaf.TryGetValue<string>(out var text) && text.StartsWith(BulkIdPrefix, StringComparison.Ordinal):
                references.Add(text[BulkIdPrefix.Length..]);
                break;
        }
    }
}

/// <summary>Log messages of <c>/Bulk</c> (and the category its logger is named after).</summary>
internal sealed partial class BulkRequestLog
{
    [LoggerMessage(2103, LogLevel.Error, "Bulk {Method} operation failed unexpectedly; the other operations were processed.")]
    public static partial void OperationFailed(ILogger logger, Exception exception, string method);
}
