using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cluster.Gateway.Portal.Pages.Tenant;

/// <summary>The read-only user and group lists: one model, specialised by kind (<see cref="UsersModel"/>, <see cref="GroupsModel"/>).</summary>
public abstract class DirectoryModel(PortalTenant portal, PortalDirectory directory, ResourceKind kind) : PageModel
{
    [FromRoute]
    public string TenantId { get; set; } = "";

    [FromQuery(Name = "q")]
    public string? Search { get; set; }

    [FromQuery(Name = "page")]
    public int PageNumber { get; set; } = 1;

    public int Total { get; private set; }

    public int Pages => Math.Max(1, (Total + PortalDirectory.PageSize - 1) / PortalDirectory.PageSize);

    public IReadOnlyList<JsonObject> Items { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync()
    {
        if (await portal.LoadAsync(TenantId) is null)
        {
            return NotFound();
        }

        var groups = kind == ResourceKind.Group;
        // Never half of a surrogate pair: the search goes into a filter, whose parser refuses one.
        Search = string.IsNullOrWhiteSpace(Search) ? null : Texts.AtMost(Search, 256);
        PageNumber = Math.Clamp(PageNumber, 1, 100_000);
        (Total, Items) = await directory.ListAsync(kind, TenantId, Search, PageNumber);
        if (Items.Count == 0 && PageNumber > Pages)
        {
            // A page past the end (an old link, an edited address): the last page, not an empty table under its count.
            PageNumber = Pages;
            (Total, Items) = await directory.ListAsync(kind, TenantId, Search, PageNumber);
        }
        ViewData["Nav"] = PortalTenant.Navigation(TenantId, groups ? "groups" : "users", User.HasClaim(c => c.Type == PortalHosting.Claims.Operator));
        return Page();
    }

    /// <summary>A string attribute of a resource, for display (empty when absent).</summary>
    public static string Text(JsonNode? resource, string name) =>
        resource?[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : "";
}

/// <summary>The users page.</summary>
public sealed class UsersModel(PortalTenant portal, PortalDirectory directory) : DirectoryModel(portal, directory, ResourceKind.User);

/// <summary>The groups page.</summary>
public sealed class GroupsModel(PortalTenant portal, PortalDirectory directory) : DirectoryModel(portal, directory, ResourceKind.Group);
