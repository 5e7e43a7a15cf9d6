using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Gateway.Auth;
using Cluster.Gateway.Hosting;
using Cluster.Gateway.Http;
using Cluster.Gateway.Querying;
using Cluster.Scim.Resources;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Admin;

/// <summary>
/// The tenant lifecycle (issue 13; docs/architecture.md, "Tenant lifecycle and offboarding"): list tenants by name with a
/// cursor (<c>GET /admin/tenants?after=&amp;limit=&amp;q=</c>, a cost proportional to the page), rename, suspend and resume
/// (<c>PATCH /admin/tenants/{tenantId}</c>), and offboard (<c>DELETE /admin/tenants/{tenantId}</c>: 202, then <c>GET</c> shows
/// the deletion's progress until the tenant is gone). Every input is validated before anything changes; errors are problem+json.
/// </summary>
public static class TenantLifecycleEndpoints
{
    /// <summary>Tenants per page when <c>limit</c> is not given.</summary>
    public const int DefaultLimit = 50;

    /// <summary>Most tenants per page.</summary>
    public const int MaxLimit = 200;

    /// <summary>Longest tenant name (and name prefix searched for).</summary>
    public const int MaxNameLength = 200;

    // A PATCH body is two small members; anything near this is not one.
    private const int MaxPatchBytes = 16 * 1024;

    public static RouteGroupBuilder MapTenantLifecycle(this RouteGroupBuilder admin)
    {
        admin.MapGet("/tenants", ListAsync);
        admin.MapPatch("/tenants/{tenantId}", PatchAsync);
        admin.MapDelete("/tenants/{tenantId}", DeleteAsync);
        return admin;
    }

    /// <summary>The tenant name rule, for create and rename: trimmed, 1 to 200 characters, no control characters. Null when invalid.</summary>
    public static string? ValidName(string? raw) =>
        raw?.Trim() is { Length: > 0 and <= MaxNameLength } name && !name.Any(char.IsControl) ? name : null;

    /// <summary>The problem for a name that breaks <see cref="ValidName"/>.</summary>
    public static ProblemHttpResult InvalidName() =>
        TypedResults.Problem(statusCode: 400, title: "Invalid tenant name", detail: "'name' is required: 1 to 200 characters, no control characters.");

    /// <summary>A tenant as <c>GET /admin/tenants/{tenantId}</c> shows it: the full view, or its deletion's progress.</summary>
    public static JsonObject View(TenantSummary summary, string scimUrl)
    {
        if (summary.Deletion is { } deletion)
        {
            return new JsonObject
            {
                ["tenantId"] = summary.TenantId,
                ["name"] = summary.Name,
                ["createdAt"] = summary.CreatedAt,
                ["deleting"] = new JsonObject
                {
                    ["startedAt"] = deletion.StartedAt,
                    ["phase"] = deletion.Phase,
                    ["rowsErased"] = deletion.RowsErased,
                    ["passes"] = deletion.Passes,
                },
            };
        }

        var json = Item(summary);
        json["scimUrl"] = scimUrl;
        json["tokens"] = new JsonArray([.. summary.Tokens.Select(t => (JsonNode)new JsonObject { ["id"] = t.Id, ["createdAt"] = t.CreatedAt })]);
        return json;
    }

    private static JsonObject Item(TenantSummary summary) => new()
    {
        ["tenantId"] = summary.TenantId,
        ["name"] = summary.Name,
        ["createdAt"] = summary.CreatedAt,
        ["suspended"] = summary.Suspended,
        ["userCount"] = summary.UserCount,
        ["groupCount"] = summary.GroupCount,
        ["lastRequestAt"] = summary.LastRequestAt,
    };

    private static async Task<IResult> ListAsync(HttpRequest request, IGrainFactory grains)
    {
        var query = request.Query;
        var limit = DefaultLimit;
        if (query.TryGetValue("limit", out var limitText)
            && (limitText.Count != 1 || !int.TryParse(limitText[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            return TypedResults.Problem(statusCode: 400, title: "Invalid limit", detail: $"'limit' must be a whole number from 1 to {MaxLimit}.");
        }

        TenantListingKey? after = null;
        if (query.TryGetValue("after", out var afterText) && afterText.ToString().Length > 0)
        {
            if (afterText.Count != 1 || !TenantListingKey.TryParseCursor(afterText[0], out var cursor))
            {
                return TypedResults.Problem(statusCode: 400, title: "Invalid cursor", detail: "'after' must be a cursor returned as 'nextCursor' by an earlier page.");
            }

            after = cursor;
        }

        string? q = null;
        if (query.TryGetValue("q", out var qText))
        {
            q = qText.Count == 1 ? qText[0] : null;
            if (q is null || q.Length > MaxNameLength || q.Any(char.IsControl))
            {
                return TypedResults.Problem(statusCode: 400, title: "Invalid q", detail: $"'q' is a name prefix: at most {MaxNameLength} characters, no control characters.");
            }
        }

        var prefix = string.IsNullOrEmpty(q) ? null : TenantListingKey.SortName(q);
        var page = await grains.GetGrain<ITenantRegistryGrain>(GrainKeys.TenantRegistry()).ListAsync(after, prefix, limit);
        var summaries = await Task.WhenAll(page.Keys.Select(k => grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(k.TenantId)).GetSummaryAsync()));
        var data = new JsonArray();
        foreach (var (key, summary) in page.Keys.Zip(summaries))
        {
            if (summary is null || summary.Deletion is not null || TenantListingKey.For(key.TenantId, summary.Name) != key)
            {
                // A stale key (a create or rename that crashed halfway, a tenant being deleted): the tenant removes it in its turn.
                _ = grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(key.TenantId)).ReconcileListingAsync(key);
                continue;
            }

            // A prefix longer than the sorted part of names is checked on the whole name too.
            if (q is { Length: > TenantListingKey.MaxNameLength } && !ScimIdentity.Canonical(summary.Name).StartsWith(ScimIdentity.Canonical(q), StringComparison.Ordinal))
            {
                continue;
            }

            data.Add(Item(summary));
        }

        return TypedResults.Json(new JsonObject
        {
            ["data"] = data,
            ["nextCursor"] = page.HasMore ? page.Keys[^1].ToCursor() : null,
        });
    }

    private static async Task<IResult> PatchAsync(
        string tenantId, HttpRequest request, IGrainFactory grains, TenantCredentialCache credentials, IOptions<GatewayOptions> options, ILogger<CreateTenantRequest> logger)
    {
        if (!GrainKeys.IsValidId(tenantId))
        {
            return NotFound();
        }

        // Malformed JSON, a wrong Content-Type or an oversized body: ScimException, answered as problem+json on this surface.
        var body = await ScimHttp.ReadObjectAsync(request, MaxPatchBytes);
        if (body.Count == 0)
        {
            return Invalid("Give 'name' and/or 'suspended'.");
        }

        string? name = null;
        bool? suspended = null;
        foreach (var (member, value) in body)
        {
            switch (member)
            {
                case "name":
                    if (value?.GetValueKind() != JsonValueKind.String || ValidName(value.GetValue<string>()) is not { } valid)
                    {
                        return InvalidName();
                    }

                    name = valid;
                    break;
                case "suspended":
                    if (value?.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
                    {
                        return Invalid("'suspended' must be true or false.");
                    }

                    suspended = value.GetValue<bool>();
                    break;
                default:
                    return Invalid($"Unknown member '{Printable(member)}': a tenant has 'name' and 'suspended'.");
            }
        }

        var tenant = grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenantId));
        if (await tenant.UpdateAsync(name, suspended) is null || await tenant.GetSummaryAsync() is not { Deletion: null } summary)
        {
            return NotFound();
        }

        // A suspension (or a resume) takes effect at once on this gateway; on the others within Gateway:TokenCacheSeconds.
        credentials.Invalidate(tenantId);
        GatewayLog.TenantUpdated(logger, tenantId, summary.Suspended);
        return TypedResults.Json(View(summary, ScimUrls.TenantBase(request, options, tenantId)));
    }

    private static async Task<IResult> DeleteAsync(
        string tenantId, HttpRequest request, IGrainFactory grains, TenantCredentialCache credentials, IOptions<GatewayOptions> options, ILogger<CreateTenantRequest> logger)
    {
        if (!GrainKeys.IsValidId(tenantId))
        {
            return NotFound();
        }

        var tenant = grains.GetGrain<ITenantGrain>(GrainKeys.Tenant(tenantId));
        if (await tenant.DeleteAsync() is null || await tenant.GetSummaryAsync() is not { } summary)
        {
            return NotFound();
        }

        // This gateway refuses the tenant's credentials at once; every other within Gateway:TokenCacheSeconds.
        credentials.Invalidate(tenantId);
        GatewayLog.TenantDeleteAccepted(logger, tenantId);
        return TypedResults.Json(View(summary, ScimUrls.TenantBase(request, options, tenantId)), statusCode: StatusCodes.Status202Accepted);
    }

    private static ProblemHttpResult Invalid(string detail) => TypedResults.Problem(statusCode: 400, title: "Invalid tenant change", detail: detail);

    private static ProblemHttpResult NotFound() => TypedResults.Problem(statusCode: 404, title: "Not found", detail: "No such tenant.");

    // A member name echoed in an error: at most 64 characters.
    private static string Printable(string member) => member.Length <= 64 ? member : member[..64] + "…";
}
