using System.Text;
using System.Text.Json.Nodes;
using Cluster.Scim.Errors;
using Cluster.Scim.Filtering;
using Cluster.Scim.Resources;
using Cluster.Scim.Schema;

namespace Cluster.Scim.Tests.Resources;

/// <summary>Invariant 12 (one person, one userName): the canonical form, and the characters identifying names may not hold.</summary>
public class ScimIdentityTests
{
    public static TheoryData<string, string> SameName => new()
    {
        { "\u00E9mile@x.test", "e\u0301mile@x.test" },                 // precomposed é vs e + combining acute
        { "\u00C9MILE@X.TEST", "e\u0301mile@x.test" },                 // and case
        { "Ångström", "A\u030Angstro\u0308m" },
        { "\u212Bngstr\u00F6m", "\u00C5ngstr\u00F6m" },                  // ANGSTROM SIGN is NFC Å
        { "\u212Aelvin", "kelvin" },                                   // KELVIN SIGN is NFC K
        { "stra\u00DFe", "STRA\u1E9EE" },                              // ß and capital sharp s
        { "\u03C3\u03BF\u03C6\u03CC\u03C2", "\u03A3\u039F\u03A6\u038C\u03A3" }, // final sigma
        { "\uFF4A\uFF57\uFF4F\uFF4E\uFF47", "\uFF2A\uFF37\uFF2F\uFF2E\uFF27" }, // full-width, both cases
        { "Jo.Wong@Contoso.com", "jo.wong@CONTOSO.COM" },
        { "\uD55C\uAE00", "\u1112\u1161\u11AB\u1100\u1173\u11AF" },       // Hangul syllables vs jamo
    };

    public static TheoryData<string, string> DifferentNames => new()
    {
        { "emile", "\u00E9mile" },                                      // an accent is not a case
        { "jwong", "\uFF4A\uFF57\uFF4F\uFF4E\uFF47" },                  // full-width is not ASCII (no compatibility folding)
        { "a b", "a\u00A0b" },
        { "ss", "\u00DF" },                                             // no full case folding: ß ≠ ss
    };

    [Theory]
    [MemberData(nameof(SameName))]
    public void CanonicallyEqualSpellingsAreOneName(string first, string second)
    {
        Assert.Equal(ScimIdentity.Canonical(first), ScimIdentity.Canonical(second));
        Assert.True(ScimIdentity.Equal(first, second));
    }

    [Theory]
    [MemberData(nameof(DifferentNames))]
    public void DifferentNamesStayDifferent(string first, string second) => Assert.False(ScimIdentity.Equal(first, second));

    [Theory]
    [InlineData("Jo.Wong@contoso.com")]
    [InlineData("")]
    public void AsciiCanonicalFormIsUpperCaseAsBefore(string value) => Assert.Equal(value.ToUpperInvariant(), ScimIdentity.Canonical(value));

    [Fact]
    public void CanonicalIsTotalAndIdempotentOverUnicode()
    {
        // Every BMP code point (and a sample of astral ones) alone and after a base letter: never throws, NFC, a fixed point.
        var samples = Enumerable.Range(0, 0x10000).Select(c => ((char)c).ToString())
            .Concat(Enumerable.Range(0, 0x800).Select(i => char.ConvertFromUtf32(0x10000 + (i * 509))))
            .SelectMany(s => new[] { s, "a" + s, s + "\u0301", "\u00C5" + s });
        foreach (var sample in samples)
        {
            var canonical = ScimIdentity.Canonical(sample);
            Assert.Equal(canonical, ScimIdentity.Canonical(canonical));
        }
    }

    [Fact]
    public void LoneSurrogatesDoNotMakeComparisonsThrow() =>
        Assert.Equal(ScimIdentity.Canonical("a\uFFFDb"), ScimIdentity.Canonical("a\uD800b"));

    [Theory]
    [InlineData("userName", "a\u0000b")]
    [InlineData("userName", "tab\there")]
    [InlineData("userName", "line\nbreak")]
    [InlineData("userName", "del\u007F")]
    [InlineData("userName", "c1\u0085")]
    [InlineData("userName", "c1\u009F")]
    [InlineData("userName", "non\uFFFEchar")]
    [InlineData("userName", "non\uFFFFchar")]
    [InlineData("displayName", "Jo\u001BWong")]
    [InlineData("externalId", "ext\r")]
    public void ControlCharactersAreRefusedInUserIdentifiers(string attribute, string value)
    {
        var body = new JsonObject { ["userName"] = "ok@x.test", [attribute] = value };
        var e = Assert.Throws<ScimException>(() => ResourceNormalizer.Normalize(body, ScimSchemas.UserResource));
        Assert.Equal((400, ScimErrorType.InvalidValue), (e.Status, e.ScimType));
        Assert.Contains(attribute, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("displayName", "Sales\u0000")]
    [InlineData("externalId", "\u0090")]
    public void ControlCharactersAreRefusedInGroupIdentifiers(string attribute, string value)
    {
        var body = new JsonObject { ["displayName"] = "Sales", [attribute] = value };
        var e = Assert.Throws<ScimException>(() => ResourceNormalizer.Normalize(body, ScimSchemas.GroupResource));
        Assert.Equal((400, ScimErrorType.InvalidValue), (e.Status, e.ScimType));
    }

    [Fact]
    public void OtherAttributesMayHoldThem()
    {
        var user = ResourceNormalizer.Normalize(new JsonObject { ["userName"] = "ok", ["title"] = "a\tb", ["name"] = new JsonObject { ["formatted"] = "x\ny" } }, ScimSchemas.UserResource);
        Assert.Equal("a\tb", user["title"]!.GetValue<string>());
    }

    [Fact]
    public void NamesAreStoredAsSent()
    {
        var decomposed = "e\u0301mile@x.test";
        var user = ResourceNormalizer.Normalize(new JsonObject { ["userName"] = decomposed }, ScimSchemas.UserResource);
        Assert.Equal(decomposed, user["userName"]!.GetValue<string>());
        Assert.False(user["userName"]!.GetValue<string>().IsNormalized(NormalizationForm.FormC));
    }

    [Theory]
    [MemberData(nameof(SameName))]
    public void FiltersCompareTheCanonicalForm(string stored, string probed)
    {
        var user = new JsonObject { ["userName"] = stored, ["emails"] = new JsonArray(new JsonObject { ["type"] = "work", ["value"] = stored }) };
        foreach (var filter in new[] { $"userName eq \"{probed}\"", $"emails[type eq \"work\"].value eq \"{probed}\"", $"userName sw \"{probed}\"", $"userName co \"{probed}\"" })
        {
            Assert.True(FilterEvaluator.Matches(FilterParser.Parse(filter), user, ScimSchemas.UserResource), filter);
        }

        Assert.False(FilterEvaluator.Matches(FilterParser.Parse($"userName ne \"{probed}\""), user, ScimSchemas.UserResource));
    }
}
