using Cluster.Abstractions;
using Cluster.Gateway.Admin;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cluster.Gateway.Portal.Pages.Tenant;

/// <summary>
/// The provisioning log: the tenant's recent SCIM requests, newest first, a page at a time, filtered by outcome and by user or
/// group id. The query string is the admin API's (<c>after</c>, <c>limit</c>, <c>outcome</c>, <c>resourceId</c>), read by the
/// same parser; a bad value is a 400 page naming it.
/// </summary>
public sealed class LogModel(PortalTenant portal, IGrainFactory grains) : PageModel
{
    [FromRoute]
    public string TenantId { get; set; } = "";

    public RequestLogPage Entries { get; private set; } = new([], null, false);

    public string? Outcome { get; private set; }

    public string? ResourceId { get; private set; }

    public string? Error { get; private set; }

    // The page size the request asked for, kept by the link to the next page (null: the default).
    private int? Limit { get; set; }

    public async Task<IActionResult> OnGetAsync()
    {
        if (await portal.LoadAsync(TenantId) is null)
        {
            return NotFound();
        }

        ViewData["Nav"] = PortalTenant.Navigation(TenantId, "log", User.HasClaim(c => c.Type == PortalHosting.Claims.Operator));
        if (!RequestLogEndpoints.TryParseQuery(Request.Query, out var query, out var error))
        {
            Error = $"{error.Title}: {error.Detail}";
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        (Outcome, ResourceId, Limit) = (query.Outcome, query.ResourceId, Request.Query.ContainsKey("limit") ? query.Limit : null);
        Entries = await grains.Grain<IRequestLogGrain>(GrainKeys.RequestLog(TenantId)).ReadAsync(query);
        return Page();
    }

    /// <summary>The link to the next (older) page, keeping the filters.</summary>
    public string OlderHref() => QueryString.Create(new Dictionary<string, string?>
    {
        ["after"] = Entries.NextCursor?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["outcome"] = Outcome,
        ["resourceId"] = ResourceId,
        ["limit"] = Limit?.ToString(System.Globalization.CultureInfo.InvariantCulture),
    }.Where(p => p.Value is not null)).ToString();
}
