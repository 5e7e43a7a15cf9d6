using System.Text.Json.Nodes;
using Cluster.Scim.Projection;
using Cluster.Scim.Schema;
using CsCheck;

namespace Cluster.Scim.Tests.Properties;

/// <summary>
/// Property test of <c>attributes</c> / <c>excludedAttributes</c> (RFC 7644 §3.4.2.5) on random users, for whole
/// attributes (core, common, enterprise with or without URN, the whole extension), names in any case, with unknown or
/// malformed names mixed in (ignored). Reference: <c>attributes</c> keeps exactly the listed attributes plus
/// <c>schemas</c> and <c>id</c>; <c>excludedAttributes</c> drops exactly the listed ones (never <c>schemas</c>/<c>id</c>),
/// an emptied extension object disappearing.
/// </summary>
public sealed class ProjectionPropertyTests
{
    private const string Ent = UserModel.Ent;
    private static readonly ResourceTypeDefinition Type = ScimSchemas.UserResource;

    private static readonly string[] Core =
        ["userName", "displayName", "title", "externalId", "nickName", "active", "name", "emails", "phoneNumbers", "addresses", "meta", "id", "schemas"];

    private static readonly string[] Junk = ["foo", "urn:example:x:y", "emails[", "name..givenName", "$ref", "urn:", "1abc"];

    [Fact]
    public void WholeAttributeSelections_MatchTheReference() =>
        Choices.Generator(Select).Sample(Check, iter: 1_000, print: s => $"{(s.Include ? "attributes" : "excludedAttributes")}={s.Csv}\non {PropertyJson.Show(s.User)}");

    /// <summary>A random user and a selection of whole attributes, with what the selection names.</summary>
    private sealed record Selection(JsonObject User, bool Include, string Csv, HashSet<string> Core, HashSet<string> Enterprise, bool WholeExtension);

    private static Selection Select(Choices g)
    {
        var user = PopUser.Create(g).Json;
        var names = new List<string>();
        var core = new HashSet<string>(StringComparer.Ordinal);
        var enterprise = new HashSet<string>(StringComparer.Ordinal);
        var wholeExtension = false;
        for (var i = g.Int(1, 4); i > 0; i--)
        {
            switch (g.Int(0, 9))
            {
                case < 6:
                    var name = g.Pick(Core);
                    core.Add(name);
                    names.Add(g.Chance(0.2) ? $"{UserModel.Core}:{name}" : g.Case(name));
                    break;
                case < 8:
                    var attribute = g.Pick(new[] { "employeeNumber", "department", "manager" });
                    enterprise.Add(attribute);
                    names.Add(g.Chance(0.5) ? $"{Ent}:{g.Case(attribute)}" : g.Case(attribute));
                    break;
                case 8:
                    wholeExtension = true;
                    names.Add(g.Chance(0.3) ? Ent.ToUpperInvariant() : Ent);
                    break;
                default:
                    names.Add(g.Pick(Junk));
                    break;
            }
        }

        var include = g.Chance(0.5);
        return new Selection(user, include, string.Join(g.Chance(0.5) ? "," : " , ", names), core, enterprise, wholeExtension);
    }

    private static void Check(Selection selection)
    {
        var (user, include, csv, core, enterprise, wholeExtension) = selection;
        var list = ScimProjection.ParseList(csv);
        var actual = include ? ScimProjection.Apply(user, list, null, Type) : ScimProjection.Apply(user, null, list, Type);

        var expected = new JsonObject();
        var extension = user[Ent] as JsonObject;
        foreach (var (key, value) in user)
        {
            if (key == Ent)
            {
                var kept = new JsonObject();
                foreach (var (attribute, attributeValue) in extension!)
                {
                    var listed = wholeExtension || enterprise.Contains(attribute);
                    if (include ? listed : !listed)
                    {
                        kept[attribute] = attributeValue?.DeepClone();
                    }
                }

                if (kept.Count > 0)
                {
                    expected[key] = kept;
                }

                continue;
            }

            var always = key is "id" or "schemas";
            if (always || (include ? core.Contains(key) : !core.Contains(key)))
            {
                expected[key] = value?.DeepClone();
            }
        }

        if (!PropertyJson.Same(expected, actual))
        {
            Assert.Fail($"{(include ? "attributes" : "excludedAttributes")}={csv}\non {PropertyJson.Show(user)}\n"
                + $"expected {PropertyJson.Show(expected)}\nactual   {PropertyJson.Show(actual)}");
        }
    }
}
