using System.Text.Json.Nodes;
using Cluster.Abstractions;

namespace Cluster.Grains.Tests;

/// <summary>
/// What each index holds for a resource: <see cref="ResourceKind.ValuesIn"/> (one index, what a filter's lookup checks a
/// candidate against) gives exactly what <see cref="ResourceKind.ValuesOf"/> (every index of the kind, what a write claims)
/// gives for that index, so a lookup never disagrees with the entries a write made; and what each mapping holds.
/// </summary>
public sealed class IndexValuesTests
{
    private static readonly string[] UserJson =
    [
        """{"userName":"Ann@Contoso.com","externalId":"e-1","emails":[{"type":"work","value":"ann@contoso.com"},{"type":"home","value":"ann@home.example"},{"type":"Work","value":"ANN@contoso.com"},{"type":"work","value":"second@contoso.com"}]}""",
        """{"userName":"bob","emails":[{"type":"work"},{"value":"no-type@contoso.com"},{"type":"work","value":42},"not an object"]}""",
        """{"userName":7,"externalId":null,"emails":{"type":"work","value":"not-an-array@contoso.com"}}""",
        """{}""",
    ];

    public static TheoryData<string> Users() => [.. UserJson];

    [Theory]
    [MemberData(nameof(Users))]
    public void EachUserIndexHoldsWhatTheWholeSetHoldsForIt(string json)
    {
        var user = JsonNode.Parse(json)!.AsObject();
        var all = ResourceKind.User.ValuesOf(user);
        Assert.Equal(IndexNames.UserIndexes.Order(), all.Keys.Order());
        foreach (var index in IndexNames.UserIndexes)
        {
            Assert.Equal(all[index], ResourceKind.User.ValuesIn(user, index));
        }
    }

    [Fact]
    public void WorkEmailsAreTheWorkValuesOnceEachAfterNormalizing()
    {
        var user = JsonNode.Parse(UserJson[0])!.AsObject();
        Assert.Equal(["ann@contoso.com", "second@contoso.com"], UserIndexes.ValuesIn(user, IndexNames.UserWorkEmail));
        Assert.Equal(["Ann@Contoso.com"], UserIndexes.ValuesIn(user, IndexNames.UserName));
        Assert.Equal(["e-1"], UserIndexes.ValuesIn(user, IndexNames.UserExternalId));
    }

    [Fact]
    public void ValuesThatAreNotStringsAreNotIndexed()
    {
        foreach (var json in new[] { UserJson[1], UserJson[2], UserJson[3] })
        {
            var user = JsonNode.Parse(json)!.AsObject();
            Assert.Empty(UserIndexes.ValuesIn(user, IndexNames.UserWorkEmail));
            Assert.Empty(UserIndexes.ValuesIn(user, IndexNames.UserExternalId));
        }

        Assert.Equal(["bob"], UserIndexes.ValuesIn(JsonNode.Parse(UserJson[1])!.AsObject(), IndexNames.UserName));
        Assert.Empty(UserIndexes.ValuesIn(null, IndexNames.UserName));
    }

    [Fact]
    public void EachGroupIndexHoldsWhatTheWholeSetHoldsForIt()
    {
        foreach (var json in new[] { """{"displayName":"Sales","externalId":"g-1"}""", """{"displayName":["x"]}""", "{}" })
        {
            var group = JsonNode.Parse(json)!.AsObject();
            var all = ResourceKind.Group.ValuesOf(group);
            Assert.Equal(IndexNames.GroupIndexes.Order(), all.Keys.Order());
            foreach (var index in IndexNames.GroupIndexes)
            {
                Assert.Equal(all[index], ResourceKind.Group.ValuesIn(group, index));
            }
        }

        Assert.Equal(["Sales"], GroupIndexes.ValuesIn(JsonNode.Parse("""{"displayName":"Sales"}""")!.AsObject(), IndexNames.GroupDisplayName));
    }

    [Fact]
    public void AnIndexOfAnotherKindIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => UserIndexes.ValuesIn(null, IndexNames.GroupDisplayName));
        Assert.Throws<ArgumentOutOfRangeException>(() => GroupIndexes.ValuesIn(null, IndexNames.UserName));
    }
}
