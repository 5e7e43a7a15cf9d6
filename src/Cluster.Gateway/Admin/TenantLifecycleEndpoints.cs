using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Gateway.Hosting;
using Cluster.Gateway.Http;
using Cluster.Gateway.Querying;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Cluster.Scim;

namespace Cluster.Gateway.Admin;

/// <summary>
/// The tenant lifecycle (issue 13; docs/architecture.md, "Tenant lifecycle and offboarding"): list tenants by name with a
/// cursor (<c>GET /admin/tenants?after=&amp;limit=&amp;q=</c>, a cost proportional to the page), rename, suspend and resume
/// (<c>PATCH /admin/tenants/{tenantId}</c>), and offboard (<c>DELETE /admin/tenants/{tenantId}</c>: 202, then <c>GET</c> shows
/// the deletion's progress until the tenant is gone). Every input is validated before anything changes; errors are problem+json.
/// The work is <see cref="TenantLifecycleService"/>'s, which the operator console shares.
/// </summary>
public static class TenantLifecycleEndpoints
{
    /// <summary>Tenants per page when <c>limit</c> is not given.</summary>
    public const int DefaultLimit = 50;

    /// <summary>Most tenants per page.</summary>
    public const int MaxLimit = 200;

    // A PATCH body is two small members; anything near this is not one.
    private const int MaxPatchBytes = 16 * 1024;

    public static RouteGroupBuilder MapTenantLifecycle(this RouteGroupBuilder admin)
    {
        admin.MapGet("/tenants", ListAsync);
        admin.MapPatch("/tenants/{tenantId}", PatchAsync);
        admin.MapDelete("/tenants/{tenantId}", DeleteAsync);
        return admin;
    }

    /// <summary>The problem for a name that breaks <see cref="TenantLifecycleService.ValidName"/>.</summary>
    public static ProblemHttpResult InvalidName() =>
        TypedResults.Problem(statusCode: 400, title: "Invalid tenant name", detail: "'name' is required: 1 to 200 characters, no control or invisible formatting characters.");

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

    private static async Task<IResult> ListAsync(HttpRequest request, TenantLifecycleService tenants)
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
            if (!TenantLifecycleService.IsValidPrefix(q))
            {
                return TypedResults.Problem(statusCode: 400, title: "Invalid q", detail: $"'q' is a name prefix: at most {TenantLifecycleService.MaxNameLength} characters, no control or invisible formatting characters.");
            }
        }

        var page = await tenants.ListAsync(after, q, limit);
        return TypedResults.Json(new JsonObject
        {
            ["data"] = new JsonArray([.. page.Tenants.Select(t => (JsonNode)Item(t))]),
            ["nextCursor"] = page.NextCursor,
        });
    }

    private static async Task<IResult> PatchAsync(string tenantId, HttpRequest request, TenantLifecycleService tenants, IOptions<GatewayOptions> options)
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
                    if (value?.GetValueKind() != JsonValueKind.String || TenantLifecycleService.ValidName(value.GetValue<string>()) is not { } valid)
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
                    return Invalid($"Unknown member {ScimText.Quoted(Printable(member))}: a tenant has 'name' and 'suspended'.");
            }
        }

        if (await tenants.UpdateAsync(tenantId, name, suspended) is not { } summary)
        {
            return NotFound();
        }

        return TypedResults.Json(View(summary, ScimUrls.TenantBase(request, options, tenantId)));
    }

    private static async Task<IResult> DeleteAsync(string tenantId, HttpRequest request, TenantLifecycleService tenants, IOptions<GatewayOptions> options)
    {
        if (!GrainKeys.IsValidId(tenantId))
        {
            return NotFound();
        }

        if (await tenants.DeleteAsync(tenantId) is not { } summary)
        {
            return NotFound();
        }

        return TypedResults.Json(View(summary, ScimUrls.TenantBase(request, options, tenantId)), statusCode: StatusCodes.Status202Accepted);
    }

    private static ProblemHttpResult Invalid(string detail) => TypedResults.Problem(statusCode: 400, title: "Invalid tenant change", detail: detail);

    private static ProblemHttpResult NotFound() => TypedResults.Problem(statusCode: 404, title: "Not found", detail: "No such tenant.");

    // A member name echoed in an error: at most 64 characters.
    private static string Printable(string member) => member.Length <= 64 ? member : Texts.AtMost(member, 64) + "…";
}
