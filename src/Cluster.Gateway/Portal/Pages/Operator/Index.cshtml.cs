using System.Text;
using Cluster.Abstractions;
using Cluster.Gateway.Admin;
using Microsoft.AspNetCore.Mvc;

namespace Cluster.Gateway.Portal.Pages.Operator;

/// <summary>
/// The operator console's tenant list (issue 14): every tenant by name with a cursor (a name-prefix search narrows it), its
/// counts, last request and state; create a tenant (its Tenant URL and first Secret Token shown once), suspend, resume, and
/// delete after typing its name or id. Every change goes through <see cref="TenantLifecycleService"/>, as the admin API's do.
/// Bad input is answered in the page (400, 404, 409) and changes nothing.
/// </summary>
public sealed class IndexModel(TenantLifecycleService tenants, PortalTenant portal, ILogger<IndexModel> logger) : ConsolePageModel
{
    /// <summary>Tenants per page.</summary>
    public const int PageSize = 25;

    private const string NoSuchTenant = "No such tenant: it was deleted, or never existed. Nothing was changed.";

    // The search or the cursor was refused: nothing is listed.
    private bool _listRefused;

    /// <summary>The name prefix searched for (<c>q</c>): a query parameter, and a hidden field of every form so a post keeps the list.</summary>
    [BindProperty(SupportsGet = true, Name = "q")]
    public string? Search { get; set; }

    /// <summary>The listing cursor (<c>after</c>) of the page shown, kept likewise.</summary>
    [BindProperty(SupportsGet = true, Name = "after")]
    public string? After { get; set; }

    public IReadOnlyList<TenantSummary> Tenants { get; private set; } = [];

    public string? NextCursor { get; private set; }

    /// <summary>False when the search or cursor was refused, or the list could not be read: no list is shown.</summary>
    public bool Listed { get; private set; }

    /// <summary>The list could not be read (the cluster did not answer): the page says so.</summary>
    public bool ListUnavailable { get; private set; }

    /// <summary>A tenant just created: its Tenant URL and first Secret Token are shown this once.</summary>
    public NewTenant? Created { get; private set; }

    public string CreatedUrl { get; private set; } = "";

    /// <summary>The tenant whose deletion awaits its confirmation.</summary>
    public TenantSummary? Confirming { get; private set; }

    /// <summary>The name field as typed, kept when it was refused.</summary>
    public string? NameField { get; private set; }

    /// <summary>The page of the list (with the search shown) after cursor <paramref name="after"/> (null: the first): <c>?q=…&amp;after=…</c>.</summary>
    public string ListHref(string? after)
    {
        var query = new StringBuilder();
        Append(query, "q", Search);
        Append(query, "after", after);
        return query.Length == 0 ? "/portal/operator" : "/portal/operator?" + query;
    }

    public async Task<IActionResult> OnGetAsync([FromQuery(Name = "delete")] string? delete)
    {
        if (ListError() is { } error)
        {
            return await RefuseAsync(error);
        }

        if (delete is not null)
        {
            var (tenant, refused) = await FindAsync(delete);
            if (refused is not null)
            {
                return refused;
            }

            Confirming = tenant;
        }

        return await RenderAsync();
    }

    public async Task<IActionResult> OnPostCreateAsync(string? name)
    {
        NameField = name?.Length <= TenantLifecycleService.MaxNameLength ? name : null;
        if (ListError() is { } error)
        {
            return await RefuseAsync(error);
        }

        if (TenantLifecycleService.ValidName(name) is not { } valid)
        {
            return await RefuseAsync($"Enter the tenant's name: 1 to {TenantLifecycleService.MaxNameLength} characters, without control or invisible formatting characters (such as line breaks, tabs or zero-width spaces). No tenant was created.");
        }

        if (await tenants.CreateAsync(valid) is not { } created)
        {
            return await RefuseAsync("The new tenant's random id was already taken. Nothing was created: create it again.", StatusCodes.Status409Conflict);
        }

        (Created, CreatedUrl, NameField) = (created, portal.TenantUrl(this, created.TenantId), null);
        return await RenderAsync();
    }

    public Task<IActionResult> OnPostSuspendAsync(string? tenantId) => SetSuspendedAsync(tenantId, suspended: true);

    public Task<IActionResult> OnPostResumeAsync(string? tenantId) => SetSuspendedAsync(tenantId, suspended: false);

    public async Task<IActionResult> OnPostDeleteAsync(string? tenantId, string? confirm)
    {
        if (ListError() is { } error)
        {
            return await RefuseAsync(error);
        }

        var (summary, refused) = await FindAsync(tenantId);
        if (summary is null)
        {
            return refused!;
        }

        // The name or id as typed must match the tenant the form names: a mismatch (or nothing typed) deletes nothing.
        var typed = confirm?.Trim();
        if (string.IsNullOrEmpty(typed) || (!string.Equals(typed, summary.Name, StringComparison.Ordinal) && !string.Equals(typed, summary.TenantId, StringComparison.Ordinal)))
        {
            Confirming = summary;
            return await RefuseAsync($"The confirmation does not match: type the tenant's name, “{summary.Name}”, or its id, {summary.TenantId}, exactly. Nothing was deleted.");
        }

        if (await tenants.DeleteAsync(summary.TenantId) is not { Deletion: { } deletion })
        {
            return await RefuseAsync(NoSuchTenant, StatusCodes.Status404NotFound);
        }

        return await SayAsync($"“{summary.Name}” ({summary.TenantId}) is being deleted: its credentials are refused from now on, and its data is erased in the background (phase: {deletion.Phase}).");
    }

    private async Task<IActionResult> SetSuspendedAsync(string? tenantId, bool suspended)
    {
        if (ListError() is { } error)
        {
            return await RefuseAsync(error);
        }

        if ((await FindAsync(tenantId)).Refused is { } refused)
        {
            return refused;
        }

        if (await tenants.UpdateAsync(tenantId!, name: null, suspended) is not { } summary)
        {
            return await RefuseAsync(NoSuchTenant, StatusCodes.Status404NotFound);
        }

        return await SayAsync(summary.Suspended
            ? $"“{summary.Name}” is suspended: its SCIM requests are refused (403) until it is resumed."
            : $"“{summary.Name}” is resumed: its SCIM requests are served again.");
    }

    // The live tenant the id names; or the refusal when the id is malformed (400) or names no live tenant (404).
    private async Task<(TenantSummary? Tenant, IActionResult? Refused)> FindAsync(string? tenantId)
    {
        if (!GrainKeys.IsValidId(tenantId))
        {
            return (null, await RefuseAsync("That is not a tenant id (each tenant's id is shown in the list). Nothing was changed."));
        }

        return await tenants.GetAsync(tenantId!) is { Deletion: null } tenant
            ? (tenant, null)
            : (null, await RefuseAsync(NoSuchTenant, StatusCodes.Status404NotFound));
    }

    // Why the search or the cursor is refused, or null.
    private string? ListError()
    {
        Search = string.IsNullOrWhiteSpace(Search) ? null : Search.Trim();
        if (Search is not null && !TenantLifecycleService.IsValidPrefix(Search))
        {
            (Search, After, _listRefused) = (null, null, true);
            return $"Search for the start of a name: at most {TenantLifecycleService.MaxNameLength} characters, without control or invisible formatting characters.";
        }

        After = string.IsNullOrEmpty(After) ? null : After;
        if (After is not null && !TenantListingKey.TryParseCursor(After, out _))
        {
            (After, _listRefused) = (null, true);
            return "That page of the list does not exist: its cursor is not one this page made. Start again from the first page.";
        }

        return null;
    }

    protected override async Task<IActionResult> RenderAsync()
    {
        // A refused search or cursor lists nothing (the refusal says why).
        if (!_listRefused)
        {
            var after = TenantListingKey.TryParseCursor(After, out var cursor) ? cursor : (TenantListingKey?)null;
            try
            {
                var page = await tenants.ListAsync(after, Search, PageSize);
                (Tenants, NextCursor, Listed) = (page.Tenants, page.NextCursor, true);
            }
            catch (Exception e) when (!HttpContext.RequestAborted.IsCancellationRequested)
            {
                // A change above has landed (a new tenant's only showing of its Secret Token, a suspension): it is shown
                // without the list rather than lost behind an error page. A page that only lists answers 503.
                GatewayLog.TenantListUnavailable(logger, e);
                ListUnavailable = true;
                if (Message is null && Created is null)
                {
                    Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                }
            }
        }

        ViewData["Nav"] = PortalTenant.ConsoleNavigation();
        return Page();
    }

    private static void Append(StringBuilder query, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            query.Append(query.Length == 0 ? "" : "&").Append(name).Append('=').Append(Uri.EscapeDataString(value));
        }
    }
}
