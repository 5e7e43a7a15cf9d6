using System.ComponentModel.DataAnnotations;

namespace Cluster.Gateway.Hosting;

/// <summary>Gateway settings. Section <c>Gateway</c>.</summary>
public sealed class GatewayOptions : IValidatableObject
{
    public const string SectionName = "Gateway";

    /// <summary>
    /// Public base URL (e.g. <c>https://scim.example.com</c>) used in <c>scimUrl</c> and <c>meta.location</c>.
    /// Empty: taken from each request's scheme and host.
    /// </summary>
    public string PublicBaseUrl { get; set; } = "";

    /// <summary>How long a gateway trusts a tenant's token list before asking the tenant grain again (revocation delay).</summary>
    [Range(0, 5)]
    public double TokenCacheSeconds { get; set; } = 2;

    /// <summary>
    /// Most tenants a gateway keeps in its credential cache (tenants that exist, and ids remembered as unknown). Default
    /// 100,000 entries: about 300 bytes for an unknown id and 500 for a tenant with two tokens, so at most about 50 MB.
    /// When it is full, new entries are not kept until a background compaction has dropped some, unknown ids first,
    /// then the least recently used.
    /// </summary>
    [Range(100, 10_000_000)]
    public int CredentialCacheSize { get; set; } = 100_000;

    /// <summary>
    /// How long a gateway remembers that a tenant id does not exist, so repeated requests for it need no grain call.
    /// Default 30 s; 0 = not remembered.
    /// </summary>
    [Range(0, 300)]
    public double UnknownTenantCacheSeconds { get; set; } = 30;

    /// <summary>Largest accepted SCIM request body, in bytes (413 beyond).</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Largest page a list or filter returns (<c>count</c> is capped to it).</summary>
    [Range(1, 1000)]
    public int MaxPageSize { get; set; } = 200;

    /// <summary>
    /// Most operations one <c>/Bulk</c> request may carry (RFC 7644 §3.7.4; 413 beyond), and never more than the tenant's
    /// rate-limit burst plus one (<c>TenantRateLimitPolicy.MaxBulkOperations</c>). Advertised per tenant in
    /// <c>/ServiceProviderConfig</c>. The default matches the default burst (400).
    /// </summary>
    [Range(1, 100_000)]
    public int BulkMaxOperations { get; set; } = 400;

    /// <summary>Largest accepted <c>/Bulk</c> request body, in bytes (413 beyond). Advertised in <c>/ServiceProviderConfig</c>.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int BulkMaxPayloadSize { get; set; } = 1024 * 1024;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // It makes every Tenant URL, meta.location, setup link and token issuer: refused at start-up rather than shown.
        if (PublicBaseUrl.Length > 0 && !(Uri.TryCreate(PublicBaseUrl, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http"
            && uri.Query.Length == 0 && uri.Fragment.Length == 0))
        {
            yield return new ValidationResult(
                "Gateway:PublicBaseUrl must be empty or an absolute http(s) URL without query or fragment, e.g. https://scim.example.com.",
                [nameof(PublicBaseUrl)]);
        }
    }
}

/// <summary>Operator credential for the admin API. Section <c>Admin</c>.</summary>
public sealed class AdminOptions
{
    public const string SectionName = "Admin";

    /// <summary>The operator key (<c>Admin__ApiKey</c>). Required: the gateway refuses to start without one.</summary>
    [Required(ErrorMessage = "Admin:ApiKey (environment Admin__ApiKey) is required: set an operator key of at least 16 characters.")]
    [MinLength(16, ErrorMessage = "Admin:ApiKey must be at least 16 characters.")]
    public string ApiKey { get; set; } = "";
}
