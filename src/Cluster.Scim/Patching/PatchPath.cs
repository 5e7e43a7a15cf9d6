using Cluster.Scim.Errors;
using Cluster.Scim.Filtering;
using Cluster.Scim.Schema;

namespace Cluster.Scim.Patching;

/// <summary>
/// An RFC 7644 §3.5.2 PATCH path: <c>attrPath</c> or <c>attrPath "[" valFilter "]" ["." subAttr]</c>.
/// <list type="bullet">
/// <item><c>name.givenName</c>: <see cref="Attribute"/> carries the sub-attribute, <see cref="ValueFilter"/> and <see cref="SubAttribute"/> are null.</item>
/// <item><c>emails[type eq "work"].value</c>: <see cref="Attribute"/> = <c>emails</c>, <see cref="ValueFilter"/> = <c>type eq "work"</c>, <see cref="SubAttribute"/> = <c>value</c>.</item>
/// <item><c>urn:…:enterprise:2.0:User:manager.value</c>: the URN is in <see cref="AttributePath.SchemaUrn"/>.</item>
/// </list>
/// The path is not checked against a schema here; the value filter's paths are relative to the element
/// (match them with <see cref="FilterEvaluator.MatchesElement"/>).
/// </summary>
public sealed record PatchPath(AttributePath Attribute, FilterNode? ValueFilter, string? SubAttribute)
{
    /// <summary>Parses a PATCH path; malformed paths throw <see cref="ScimException"/> with <c>scimType</c> <c>invalidPath</c>.</summary>
    public static PatchPath Parse(string path)
    {
        var (attribute, filter, sub) = FilterParser.ParsePatchPath(path);
        return new PatchPath(attribute, filter, sub);
    }

    public override string ToString()
    {
        var text = Attribute.ToString();
        if (ValueFilter is not null)
        {
            text += $"[{FilterFormatter.Format(ValueFilter)}]";
        }

        return SubAttribute is null ? text : $"{text}.{SubAttribute}";
    }
}
