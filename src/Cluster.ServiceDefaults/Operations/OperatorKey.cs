using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Cluster.ServiceDefaults.Operations;

/// <summary>
/// The operator credential (<c>Admin:ApiKey</c>) check shared by the admin API and the Orleans dashboard: the
/// presented key is hashed and compared with the configured key's hash in constant time. Accepted as
/// <c>Authorization: Bearer &lt;key&gt;</c> and, where a browser must get in, as HTTP Basic with any user name and
/// the key as password.
/// </summary>
public sealed class OperatorKey(string? key)
{
    public const string ConfigurationKey = "Admin:ApiKey";

    private readonly byte[]? _keyHash = string.IsNullOrEmpty(key) ? null : Hash(key);

    /// <summary>False when no key is configured (then nothing matches).</summary>
    public bool IsConfigured => _keyHash is not null;

    /// <summary>True if <paramref name="presented"/> is the operator key.</summary>
    public bool Matches(string? presented) =>
        _keyHash is not null && !string.IsNullOrEmpty(presented) && CryptographicOperations.FixedTimeEquals(Hash(presented), _keyHash);

    /// <summary>True if the request carries the key as a bearer token, or (with <paramref name="allowBasic"/>) as a Basic password.</summary>
    public bool Authorizes(HttpRequest request, bool allowBasic) =>
        Matches(Bearer(request)) || (allowBasic && Matches(BasicPassword(request)));

    /// <summary>The bearer token of a request, or empty.</summary>
    public static string Bearer(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string Scheme = "Bearer ";
        return header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) ? header[Scheme.Length..].Trim() : "";
    }

    /// <summary>The password of an HTTP Basic <c>Authorization</c> header, or empty.</summary>
    public static string BasicPassword(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string Scheme = "Basic ";
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return "";
        }

        Span<byte> buffer = stackalloc byte[512];
        if (!Convert.TryFromBase64String(header[Scheme.Length..].Trim(), buffer, out var length))
        {
            return "";
        }

        var credentials = Encoding.UTF8.GetString(buffer[..length]);
        var colon = credentials.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? "" : credentials[(colon + 1)..];
    }

    private static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));
}
