using Cluster.Gateway.Querying;
using Cluster.Scim.Filtering;

namespace Cluster.Gateway.Tests;

/// <summary>Which group filters are Entra's membership pre-check (answered without members unless asked, entra-scim.md §2.8).</summary>
public sealed class MemberFilterTests
{
    [Theory]
    [InlineData("id eq \"g\" and members[value eq \"u\"]", true)]
    [InlineData("id eq \"g\" and members eq \"u\"", true)]
    [InlineData("members eq \"u\" and ID eq \"g\"", true)]
    [InlineData("id eq \"g\" and members.value eq \"u\"", true)]
    [InlineData("id eq \"g\" and Members.VALUE eq \"u\"", true)] // attribute names are case-insensitive (RFC 7643 §2.1)
    [InlineData("id eq \"g\" and members.display eq \"u\"", false)]
    [InlineData("urn:ietf:params:scim:schemas:core:2.0:Group:id eq \"g\" and members eq \"u\"", true)]
    [InlineData("members eq \"u\"", false)] // which groups hold u: members are shown, as for any query
    [InlineData("id eq \"g\"", false)]
    [InlineData("id eq \"g\" or members eq \"u\"", false)]
    [InlineData("id eq \"g\" and members pr", false)]
    [InlineData("id eq \"g\" and members ne \"u\"", false)]
    [InlineData("id ne \"g\" and members eq \"u\"", false)]
    [InlineData("id eq \"g\" and displayName eq \"x\"", false)]
    public void TellsTheMembershipPreCheck(string filter, bool expected) =>
        Assert.Equal(expected, MemberFilter.IsMembershipCheck(FilterParser.Parse(filter)));

    [Fact]
    public void NoFilterIsNoPreCheck() => Assert.False(MemberFilter.IsMembershipCheck(null));
}
