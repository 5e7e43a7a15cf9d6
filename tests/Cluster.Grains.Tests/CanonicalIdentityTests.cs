using System.Text;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;
using CsCheck;

namespace Cluster.Grains.Tests;

/// <summary>
/// Invariant 12 (one person, one userName) on the two-silo cluster: spellings that are canonically equal (Unicode NFC,
/// case-folded) are one name for uniqueness and lookups, even when many creates race across silos; each resource keeps
/// the spelling it was sent.
/// </summary>
[Collection(ClusterFixture.Collection)]
public sealed class CanonicalIdentityTests(ClusterFixture fixture)
{
    // Five spellings of one name: precomposed, decomposed, and case variants of each (plus the ANGSTROM SIGN).
    private static readonly string[] Spellings =
    [
        "\u00E9mile.\u00E5ngstr\u00F6m@contoso.com",
        "e\u0301mile.a\u030Angstro\u0308m@contoso.com",
        "\u00C9MILE.\u00C5NGSTR\u00D6M@CONTOSO.COM",
        "E\u0301MILE.\u212BNGSTRO\u0308M@contoso.com",
        "\u00E9MILE.a\u030Angstr\u00D6m@Contoso.com",
    ];

    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task FiftyRacingCreatesOfCanonicallyEqualUserNamesGiveExactlyOneUser()
    {
        var tenantId = GrainKeys.NewTenantId();
        var ids = Enumerable.Range(0, 50).Select(_ => GrainKeys.NewResourceId()).ToArray();
        var results = await Task.WhenAll(ids.Select((id, i) => Grains.User(tenantId, id).CreateAsync(Users.Resource(Spellings[i % Spellings.Length]))));

        Assert.Single(results, r => r.Status == 201);
        Assert.Equal(49, results.Count(r => r.Status == 409 && r.ScimType == "uniqueness"));
        var w = Array.FindIndex(results, r => r.Status == 201);
        Assert.Equal(Spellings[w % Spellings.Length], Users.UserNameOf(results[w]));
        foreach (var spelling in Spellings)
        {
            Assert.Equal([ids[w]], await Grains.IndexEntry(tenantId, IndexNames.UserName, spelling).LookupAsync());
        }

        await Invariants.AssertConsistentAsync(Grains, tenantId, ids);
    }

    [Fact]
    public async Task FiftyRacingCreatesOfCanonicallyEqualGroupNamesGiveExactlyOneGroup()
    {
        var tenantId = GrainKeys.NewTenantId();
        var ids = Enumerable.Range(0, 50).Select(_ => GrainKeys.NewResourceId()).ToArray();
        var names = Spellings.Select(s => "Caf\u00E9 " + s).Concat(Spellings.Select(s => "CAFE\u0301 " + s)).ToArray();
        var results = await Task.WhenAll(ids.Select((id, i) => Grains.Group(tenantId, id).CreateAsync(Groups.Resource(names[i % names.Length]))));

        Assert.Single(results, r => r.Status == 201);
        Assert.Equal(49, results.Count(r => r.Status == 409 && r.ScimType == "uniqueness"));
        var winner = ids[Array.FindIndex(results, r => r.Status == 201)];
        Assert.Equal([winner], await Grains.IndexEntry(tenantId, IndexNames.GroupDisplayName, names[1]).LookupAsync());
    }

    [Fact]
    public async Task ARenameToAnotherSpellingOfATakenNameConflictsAndTheHolderMayRespellItsOwn()
    {
        var tenantId = GrainKeys.NewTenantId();
        var holder = await Grains.CreateUserAsync(tenantId, Spellings[0]);
        var other = await Grains.CreateUserAsync(tenantId, "other@contoso.com");

        var rename = await Grains.User(tenantId, other).PatchAsync(Users.RenamePatch(Spellings[1]));
        Assert.Equal((409, "uniqueness"), (rename.Status, rename.ScimType));

        // The holder re-spelling its own name (NFC → NFD) is not a conflict, and the new spelling is what it returns.
        var respell = await Grains.User(tenantId, holder).PatchAsync(Users.RenamePatch(Spellings[3]));
        Assert.Equal(200, respell.Status);
        var stored = Users.UserNameOf(await Grains.User(tenantId, holder).GetAsync())!;
        Assert.Equal(Spellings[3], stored);
        Assert.False(stored.IsNormalized(NormalizationForm.FormC));
        await Invariants.AssertConsistentAsync(Grains, tenantId, [holder, other], (IndexNames.UserName, Spellings[2]));
    }

    [Fact]
    public Task AnyTwoSpellingsOfOneNameNeverMakeTwoUsers() =>
        // CsCheck: each character of a random name precomposed or decomposed, upper or lower; the second create is 409 and
        // the name's lookup finds the first user under either spelling. Shrinks to the smallest failing pair.
        Gen.Select(Gen.Int[0, Spellings.Length - 1], Gen.Int[0, Spellings.Length - 1], Gen.Int[0, 9999])
            .SampleAsync(
                async sample =>
                {
                    var (first, second, suffix) = sample;
                    var tenantId = GrainKeys.NewTenantId();
                    var (a, b) = ($"{suffix}.{Spellings[first]}", $"{suffix}.{Spellings[second]}");
                    var holder = await Grains.CreateUserAsync(tenantId, a);
                    var duplicate = await Grains.User(tenantId, GrainKeys.NewResourceId()).CreateAsync(Users.Resource(b));
                    Assert.Equal((409, "uniqueness"), (duplicate.Status, duplicate.ScimType));
                    Assert.Equal([holder], await Grains.IndexEntry(tenantId, IndexNames.UserName, b).LookupAsync());
                },
                iter: 40,
                threads: 1);

    [Fact]
    public async Task WorkEmailAndExternalIdLookupsFindEverySpelling()
    {
        var tenantId = GrainKeys.NewTenantId();
        var id = await Grains.CreateUserAsync(tenantId, "plain@contoso.com", externalId: "ext-\u00E9", workEmail: Spellings[0]);
        foreach (var spelling in Spellings)
        {
            Assert.Equal([id], await Grains.IndexEntry(tenantId, IndexNames.UserWorkEmail, spelling).LookupAsync());
        }

        Assert.Equal([id], await Grains.IndexEntry(tenantId, IndexNames.UserExternalId, "EXT-E\u0301").LookupAsync());
    }
}
