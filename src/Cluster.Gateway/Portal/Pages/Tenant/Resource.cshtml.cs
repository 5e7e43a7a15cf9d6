using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cluster.Gateway.Portal.Pages.Tenant;

/// <summary>One user or group, read-only: its attributes as provisioned, and its groups (a user) or members (a group).</summary>
public sealed class ResourceModel(PortalTenant portal, PortalDirectory directory) : PageModel
{
    /// <summary>Members listed on a group's page (the rest are counted).</summary>
    public const int MembersShown = 500;

    [FromRoute]
    public string TenantId { get; set; } = "";

    [FromRoute]
    public string Kind { get; set; } = "";

    [FromRoute]
    public string Id { get; set; } = "";

    public string Title { get; private set; } = "";

    public List<(string Name, string Value)> Attributes { get; } = [];

    public string LinksTitle { get; private set; } = "";

    public List<(string Text, string Href)> Links { get; } = [];

    public int MoreLinks { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        var kind = Kind == "groups" ? ResourceKind.Group : ResourceKind.User;
        if (await portal.LoadAsync(TenantId) is null || await directory.GetAsync(kind, TenantId, Id) is not { } resource)
        {
            return NotFound();
        }

        Title = DirectoryModel.Text(resource, kind == ResourceKind.Group ? "displayName" : "userName");
        foreach (var (name, value) in resource)
        {
            if (name is "schemas" or "members" or "groups")
            {
                continue;
            }

            Flatten(name, value);
        }

        var related = (kind == ResourceKind.Group ? resource["members"] : resource["groups"]) as JsonArray ?? [];
        LinksTitle = kind == ResourceKind.Group ? $"Members ({related.Count})" : $"Groups ({related.Count})";
        foreach (var item in related.OfType<JsonObject>().Take(MembersShown))
        {
            var id = DirectoryModel.Text(item, "value");
            var isGroup = kind == ResourceKind.User || DirectoryModel.Text(item, "type") == "Group";
            var text = DirectoryModel.Text(item, "display") is { Length: > 0 } display ? display : id;
            Links.Add((isGroup && kind == ResourceKind.Group ? $"{text} (group)" : text, $"/portal/t/{TenantId}/{(isGroup ? "groups" : "users")}/{id}"));
        }

        MoreLinks = Math.Max(0, related.Count - MembersShown);
        ViewData["Nav"] = PortalTenant.Navigation(TenantId, Kind, User.HasClaim(c => c.Type == PortalHosting.Claims.Operator));
        return Page();
    }

    // Attributes as "name.sub" rows; arrays of complex values one row per element.
    private void Flatten(string name, JsonNode? value)
    {
        switch (value)
        {
            case JsonObject obj:
                foreach (var (sub, subValue) in obj)
                {
                    Flatten(name.StartsWith("urn:", StringComparison.Ordinal) ? $"{name[(name.LastIndexOf(':') + 1)..]}.{sub}" : $"{name}.{sub}", subValue);
                }

                break;
            case JsonArray array:
                foreach (var (element, i) in array.Select((e, i) => (e, i)))
                {
                    Flatten($"{name}[{i}]", element);
                }

                break;
            case JsonValue scalar:
                Attributes.Add((name, scalar.GetValueKind() == System.Text.Json.JsonValueKind.String ? scalar.GetValue<string>() : scalar.ToJsonString()));
                break;
        }
    }
}
