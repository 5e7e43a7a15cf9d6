using Cluster.Scim.Errors;

namespace Cluster.Scim.Schema;

/// <summary>
/// An RFC 7644 §3.10 attribute path without a value filter: <c>[URN ":"] attrName ["." subAttr]</c>,
/// e.g. <c>userName</c>, <c>name.givenName</c>,
/// <c>urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value</c>.
/// </summary>
public sealed record AttributePath(string? SchemaUrn, string AttributeName, string? SubAttributeName)
{
    /// <summary>
    /// Parses an attribute path. The URN part ends at the last ':' (URNs contain dots, e.g. "2.0"),
    /// and a '.' after that separates a sub-attribute.
    /// </summary>
    public static AttributePath Parse(string text)
    {
        if (!TryParse(text, out var path))
        {
            throw ScimException.InvalidPath($"{ScimText.Quoted(Truncate(text))} is not a valid attribute path.");
        }

        return path;
    }

    public static bool TryParse(string text, out AttributePath path)
    {
        path = null!;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        string? urn = null;
        var rest = text;
        if (text.StartsWith("urn:", StringComparison.OrdinalIgnoreCase))
        {
            var lastColon = text.LastIndexOf(':');
            urn = text[..lastColon];
            rest = text[(lastColon + 1)..];
            if (urn.Length <= 4)
            {
                return false;
            }
        }

        var dot = rest.IndexOf('.');
        var name = dot < 0 ? rest : rest[..dot];
        var sub = dot < 0 ? null : rest[(dot + 1)..];
        if (!IsAttrName(name) || (sub is not null && !IsAttrName(sub)))
        {
            return false;
        }

        path = new AttributePath(urn, name, sub);
        return true;
    }

    /// <summary>RFC 7643 §2.1: ATTRNAME = ALPHA *(nameChar), nameChar = "-" / "_" / DIGIT / ALPHA; "$ref" is allowed too.</summary>
    public static bool IsAttrName(string name)
    {
        if (name.Length == 0)
        {
            return false;
        }

        if (name == "$ref")
        {
            return true;
        }

        if (!char.IsAsciiLetter(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The same path without its sub-attribute.</summary>
    public AttributePath Parent => this with { SubAttributeName = null };

    public override string ToString()
    {
        var core = SubAttributeName is null ? AttributeName : $"{AttributeName}.{SubAttributeName}";
        return SchemaUrn is null ? core : $"{SchemaUrn}:{core}";
    }

    private static string Truncate(string text) => text.Length <= 100 ? text : text[..100] + "…";
}
