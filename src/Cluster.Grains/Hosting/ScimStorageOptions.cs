using System.ComponentModel.DataAnnotations;

namespace Cluster.Grains.Hosting;

/// <summary>Where grain state lives. Section <c>Storage</c> (environment: <c>Storage__Provider</c>, ...).</summary>
public sealed class ScimStorageOptions
{
    public const string SectionName = "Storage";

    /// <summary><c>AzureTable</c> (default; Azure Storage or Azurite) or <c>Memory</c> (tests, throwaway dev runs).</summary>
    [RegularExpression("^(?i)(azuretable|memory)$", ErrorMessage = "must be AzureTable or Memory.")]
    public string Provider { get; set; } = "AzureTable";

    /// <summary>Azure Storage connection string. Default: Azurite on its standard ports.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "is required (an Azure Storage connection string; UseDevelopmentStorage=true for Azurite).")]
    public string ConnectionString { get; set; } = "UseDevelopmentStorage=true";

    /// <summary>Azure Table that holds grain state (Azure's table-name rules: 3–63 letters or digits, not starting with a digit).</summary>
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,62}$", ErrorMessage = "must be 3–63 letters or digits, starting with a letter.")]
    public string TableName { get; set; } = "ScimGrainState";
}
