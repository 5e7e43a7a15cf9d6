using System.Globalization;
using System.Text;
using Cluster.Scim.Resources;
using CsCheck;

namespace Cluster.Scim.Tests.Properties;

/// <summary>
/// Invariant 12 as a property (CsCheck, shrinking): any two spellings of one name — each character precomposed or
/// decomposed, in either case — have one canonical form, so they are one userName; the canonical form is a fixed point.
/// </summary>
public class CanonicalIdentityPropertyTests
{
    // Letters with canonical decompositions and case pairs, plain letters, digits and e-mail punctuation.
    private static readonly string[] Letters =
    [
        "é", "É", "è", "ê", "ë", "å", "Å", "ö", "Ö", "ü", "ñ", "Ñ", "ç", "ø", "ß", "ẞ", "σ", "ς", "Σ", "ǅ", "ǆ", "Ǆ",
        "ａ", "Ａ", "ｚ", "한", "글", "ệ", "Ḉ", "a", "B", "z", "0", "9", ".", "@", "-", "_",
    ];

    private static readonly Gen<string> Name = Gen.Int[0, Letters.Length - 1].Array[1, 12].Select(ix => string.Concat(ix.Select(i => Letters[i])));

    // Another spelling of the same name: each character independently decomposed (NFD) or not, upper- or lower-cased.
    private static readonly Gen<string> Respelled = Name.SelectMany(name => Gen.Int[0, 3].Array[name.Length].Select(choice =>
    {
        var builder = new StringBuilder();
        var elements = StringInfo.GetTextElementEnumerator(name);
        for (var i = 0; elements.MoveNext(); i++)
        {
            var element = (string)elements.Current;
            element = (choice[i % choice.Length] & 1) == 0 ? element.ToUpperInvariant() : element.ToLowerInvariant();
            builder.Append((choice[i % choice.Length] & 2) == 0 ? element.Normalize(NormalizationForm.FormD) : element.Normalize(NormalizationForm.FormC));
        }

        return $"{name}\n{builder}";
    }));

    [Fact]
    public void EverySpellingOfANameHasOneCanonicalForm() =>
        Respelled.Sample(pair =>
        {
            var (a, b) = (pair.Split('\n')[0], pair.Split('\n')[1]);
            var canonical = ScimIdentity.Canonical(a);
            return canonical == ScimIdentity.Canonical(b) && canonical == ScimIdentity.Canonical(canonical) && canonical.IsNormalized(NormalizationForm.FormC);
        }, iter: 5_000);
}
