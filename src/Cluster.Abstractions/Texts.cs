namespace Cluster.Abstractions;

/// <summary>Cutting text to a length.</summary>
public static class Texts
{
    /// <summary>At most <paramref name="max"/> UTF-16 units of <paramref name="text"/>, never half of a surrogate pair.</summary>
    public static string AtMost(string text, int max) =>
        text.Length <= max ? text : text[..(char.IsHighSurrogate(text[max - 1]) ? max - 1 : max)];
}
