using System.Text.Json.Nodes;
using Cluster.Scim.Projection;
using Cluster.Scim.Resources;
using Cluster.Scim.Schema;

namespace Cluster.Scim.Tests.Resources;

/// <summary>
/// <see cref="ScimResource.WithLocation"/> splices <c>meta.location</c> into a stamped resource's text: it must give the
/// same bytes as parsing the resource, setting <c>meta.location</c>, projecting without parameters and serializing
/// (what the gateway does for any other response), and refuse text of any other shape.
/// </summary>
public class WithLocationTests
{
    private const string Location = "https://scim.example.com/scim/v2/tenants/t-1/Users/u-1";

    public static TheoryData<string> StampedUsers() => new()
    {
        """{"userName":"a@contoso.com"}""",
        """{"userName":"jo\"meta\":{@contoso.com","displayName":"Jo \u00e9 \u2603 <b>&amp;</b> }}","active":true}""",
        """
        {"externalId":"jwong","userName":"jwong@contoso.com","active":false,
         "name":{"formatted":"Jo Wong","familyName":"Wong","givenName":"Jo"},
         "emails":[{"primary":true,"type":"work","value":"jwong@contoso.com"}],
         "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D","manager":{"value":"m-1"}}}
        """,
    };

    [Theory]
    [MemberData(nameof(StampedUsers))]
    public void SplicedTextEqualsTheRenderedResource(string body)
    {
        var type = ScimSchemas.UserResource;
        var stamped = ScimResource.Stamp(ResourceNormalizer.Normalize(JsonNode.Parse(body)!.AsObject(), type), type, "u-1",
            DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddDays(1), 7);
        var json = ScimSerializer.Serialize(stamped);

        var rendered = JsonNode.Parse(json)!.AsObject();
        rendered["meta"]!["location"] = Location;
        var expected = ScimSerializer.Serialize(ScimProjection.Apply(rendered, null, null, type));

        Assert.Equal(expected, ScimResource.WithLocation(json, Location));
    }

    [Theory]
    [InlineData("""{"id":"u-1"}""")]
    [InlineData("""{"meta":{"version":"W/\"1\""},"id":"u-1"}""")]
    [InlineData("""{"id":"u-1","meta":{"nested":{"a":1}}}""")]
    [InlineData("""{"id":"u-1","meta":{"list":[1]}}""")]
    [InlineData("")]
    public void TextOfAnotherShapeIsRefused(string json) => Assert.Null(ScimResource.WithLocation(json, Location));

    [Fact]
    public void EmptyMetaGetsTheLocationWithoutALeadingComma() =>
        Assert.Equal("""{"id":"u-1","meta":{"location":"x"}}""", ScimResource.WithLocation("""{"id":"u-1","meta":{}}""", "x"));

    [Fact]
    public void TheLocationIsJsonEscaped() =>
        Assert.Equal("""{"meta":{"a":"b","location":"x\"y"}}""", ScimResource.WithLocation("""{"meta":{"a":"b"}}""", "x\"y"));
}
