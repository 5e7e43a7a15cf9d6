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
        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            return options;
        }

        throw new OptionsValidationException(section, typeof(T), results.Select(r =>
            $"{section}:{string.Join(',', r.MemberNames)}: {r.ErrorMessage}"));
    }
}
