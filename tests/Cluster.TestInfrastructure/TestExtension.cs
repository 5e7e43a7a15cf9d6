using System.Globalization;

namespace Cluster.TestInfrastructure;

/// <summary>
/// The operator-defined extension schemas every test host runs with (configuration section <c>Scim:Extensions</c>),
/// given to the silos (<see cref="ClusterFixture"/>) and the gateway (<see cref="GatewayFactory"/>) alike, as a
/// deployment must. The User extension covers every mutability and the required-when-present rule; the Group extension
/// an immutable attribute on groups.
/// </summary>
public static class TestExtension
{
    public const string UserUrn = "urn:ietf:params:scim:schemas:extension:acme:2.0:User";

    public const string GroupUrn = "urn:ietf:params:scim:schemas:extension:acme:2.0:Group";

    /// <summary>The configuration keys and values, as an operator would write them (environment form: <c>Scim__Extensions__0__Schema</c>).</summary>
    public static IReadOnlyDictionary<string, string?> Settings { get; } = Build();

    /// <summary>
    /// <see cref="Settings"/> without the User extension: the configuration of a host whose operator removed it from
    /// <c>Scim:Extensions</c>. The Group extension stays. (The schema set is one per process, so such a host runs in a
    /// process of its own.)
    /// </summary>
    public static IReadOnlyDictionary<string, string?> WithoutUserExtension { get; } =
        Settings.Where(s => !s.Key.StartsWith("Scim:Extensions:0:", StringComparison.Ordinal)).ToDictionary();

    private static Dictionary<string, string?> Build()
    {
        var settings = new Dictionary<string, string?>();
        void Extension(int index, string urn, string name, string resourceType, params (string Name, string Type, string Mutability, bool Required, string[] Subs)[] attributes)
        {
            var prefix = $"Scim:Extensions:{index}:";
            settings[prefix + "Schema"] = urn;
            settings[prefix + "Name"] = name;
            settings[prefix + "ResourceType"] = resourceType;
            settings[prefix + "Required"] = "false";
            settings[prefix + "Description"] = $"Test extension for {resourceType} resources.";
            for (var i = 0; i < attributes.Length; i++)
            {
                var a = attributes[i];
                var key = prefix + "Attributes:" + i.ToString(CultureInfo.InvariantCulture) + ":";
                settings[key + "Name"] = a.Name;
                settings[key + "Type"] = a.Type;
                settings[key + "Mutability"] = a.Mutability;
                settings[key + "Required"] = a.Required ? "true" : "false";
                settings[key + "Description"] = $"Test attribute {a.Name}.";
                for (var s = 0; s < a.Subs.Length; s++)
                {
                    var (subName, subType) = (a.Subs[s].Split(':')[0], a.Subs[s].Split(':')[1]);
                    var subKey = key + "SubAttributes:" + s.ToString(CultureInfo.InvariantCulture) + ":";
                    settings[subKey + "Name"] = subName;
                    settings[subKey + "Type"] = subType;
                }
            }

            if (resourceType == "User")
            {
                settings[prefix + "Attributes:5:MultiValued"] = "true"; // tags
            }
        }

        Extension(
            0, UserUrn, "AcmeUser", "User",
            ("site", "string", "readWrite", true, []),
            ("badgeId", "string", "immutable", false, []),
            ("pin", "string", "writeOnly", false, []),
            ("score", "integer", "readOnly", false, []),
            ("office", "complex", "readWrite", false, ["building:string", "floor:integer"]),
            ("tags", "string", "readWrite", false, []));
        Extension(
            1, GroupUrn, "AcmeGroup", "Group",
            ("costCode", "string", "readWrite", false, []),
            ("code", "string", "immutable", false, []));
        return settings;
    }
}
