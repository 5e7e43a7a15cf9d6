using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Cluster.Abstractions;

/// <summary>
/// Validation of settings that a host reads while it is being built (cluster membership, grain storage), before
/// <c>ValidateOnStart</c> could run: the same data annotations, failing the process at once with every problem named.
/// </summary>
public static class OptionsCheck
{
    /// <summary>
    /// Returns <paramref name="options"/> when its data annotations hold; otherwise throws an
    /// <see cref="OptionsValidationException"/> naming the section and each failure.
    /// </summary>
    /// <param name="options">The bound settings.</param>
    /// <param name="section">The configuration section they came from, named in the failures.</param>
    public static T Validated<T>(T options, string section)
        where T : class
    {
        var failures = Failures(options, section).ToList();
        return failures.Count == 0 ? options : throw new OptionsValidationException(section, typeof(T), failures);
    }

    /// <summary>
    /// The data-annotation failures of <paramref name="value"/>, each as <c>section:Member: message</c>; none when it is valid.
    /// Also for options validators that check nested settings section by section.
    /// </summary>
    /// <param name="value">The bound settings (or a nested part of them).</param>
    /// <param name="section">The configuration section they came from.</param>
    public static IEnumerable<string> Failures(object value, string section)
    {
        var results = new List<ValidationResult>();
        return Validator.TryValidateObject(value, new ValidationContext(value), results, validateAllProperties: true)
            ? []
            : results.Select(r => $"{section}:{string.Join(',', r.MemberNames)}: {r.ErrorMessage}");
    }
}
