using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;

namespace Cluster.Grains.Events.Webhooks;

/// <summary>
/// Which webhook URLs may be stored and which addresses a delivery may connect to. Webhook URLs are chosen by
/// tenants' admins, so without this a webhook is a server-side request forgery tool: a URL naming
/// <c>169.254.169.254</c>, a silo's own ports or anything on the private network would make the cluster send
/// requests there. Unless <see cref="EventsOptions.AllowInsecureWebhooks"/> is set:
/// <list type="bullet">
/// <item>only <c>https</c> URLs are accepted (<see cref="TryValidate"/>, when storing);</item>
/// <item>only public unicast addresses are connected to (<see cref="IsAllowed"/>). This rule is enforced in the
/// HTTP handler's <see cref="SocketsHttpHandler.ConnectCallback"/> (<see cref="ConnectAsync"/>), which resolves the
/// host itself and connects to the very address it checked, so a DNS name that resolves to a public address when
/// stored and to a private one at delivery (DNS rebinding) is still refused. A literal address or a
/// <c>localhost</c> name is also refused when storing, for a clear message early.</item>
/// </list>
/// Redirects are not followed (<see cref="CreateHandler"/>): a redirect is a non-2xx answer, so a public receiver
/// cannot bounce a delivery to a private address, and no proxy is used, so every connection goes through the check.
/// </summary>
public static class WebhookUrlPolicy
{
    /// <summary>Longest accepted URL, in characters.</summary>
    public const int MaxUrlLength = 2048;

    private const string InsecureSetting = "Events:AllowInsecureWebhooks";

    /// <summary>IPv4 ranges that are not globally reachable unicast (IANA special-purpose registry).</summary>
    private static readonly IPNetwork[] RefusedV4 =
    [
        IPNetwork.Parse("0.0.0.0/8"),        // "this network", 0.0.0.0 unspecified
        IPNetwork.Parse("10.0.0.0/8"),       // private (RFC 1918)
        IPNetwork.Parse("100.64.0.0/10"),    // shared address space, carrier-grade NAT (RFC 6598)
        IPNetwork.Parse("127.0.0.0/8"),      // loopback
        IPNetwork.Parse("169.254.0.0/16"),   // link-local, cloud metadata services
        IPNetwork.Parse("168.63.129.16/32"), // Azure's platform address (WireServer, host DNS), reachable from every Azure VM and pod
        IPNetwork.Parse("172.16.0.0/12"),    // private (RFC 1918)
        IPNetwork.Parse("192.0.0.0/24"),     // IETF protocol assignments
        IPNetwork.Parse("192.0.2.0/24"),     // documentation (TEST-NET-1)
        IPNetwork.Parse("192.88.99.0/24"),   // 6to4 relay anycast (deprecated)
        IPNetwork.Parse("192.168.0.0/16"),   // private (RFC 1918)
        IPNetwork.Parse("198.18.0.0/15"),    // benchmarking
        IPNetwork.Parse("198.51.100.0/24"),  // documentation (TEST-NET-2)
        IPNetwork.Parse("203.0.113.0/24"),   // documentation (TEST-NET-3)
        IPNetwork.Parse("224.0.0.0/4"),      // multicast
        IPNetwork.Parse("240.0.0.0/4"),      // reserved, 255.255.255.255 broadcast
    ];

    /// <summary>IPv6 global unicast; everything outside it (loopback, unspecified, link-local, unique-local, multicast, ...) is refused.</summary>
    private static readonly IPNetwork GlobalUnicastV6 = IPNetwork.Parse("2000::/3");

    /// <summary>Inside 2000::/3 but not public.</summary>
    private static readonly IPNetwork[] RefusedV6 =
    [
        IPNetwork.Parse("2001::/23"),        // IETF protocol assignments, Teredo (2001::/32)
        IPNetwork.Parse("2001:db8::/32"),    // documentation
        IPNetwork.Parse("3fff::/20"),        // documentation (RFC 9637)
    ];

    /// <summary>IPv6 ranges that embed an IPv4 address, which is then checked instead.</summary>
    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");

    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");

    /// <summary>
    /// Checks a URL before it is stored: absolute, <c>https</c> (or <c>http</c> when <paramref name="allowInsecure"/>),
    /// a host and no user name or password, no fragment, at most <see cref="MaxUrlLength"/> characters, and, unless
    /// <paramref name="allowInsecure"/>, no literal non-public address and no <c>localhost</c> name. The error is a
    /// sentence for the admin API's problem+json.
    /// </summary>
    public static bool TryValidate(string? url, bool allowInsecure, [NotNullWhen(true)] out Uri? uri, [NotNullWhen(false)] out string? error)
    {
        uri = null;
        error = Check(url, allowInsecure, out var parsed);
        if (error is not null)
        {
            return false;
        }

        uri = parsed!;
        return true;
    }

    /// <summary>
    /// <c>true</c> when a delivery may connect to <paramref name="address"/>: any address when
    /// <paramref name="allowInsecure"/>, otherwise only public unicast. IPv4-mapped, NAT64 and 6to4 IPv6 addresses are
    /// judged by the IPv4 address they carry.
    /// </summary>
    public static bool IsAllowed(IPAddress address, bool allowInsecure)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (allowInsecure)
        {
            return true;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return !RefusedV4.Any(n => n.Contains(address));
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return false;
        }

        if (Nat64.Contains(address))
        {
            return IsAllowed(new IPAddress(address.GetAddressBytes().AsSpan(12, 4)), allowInsecure: false);
        }

        if (SixToFour.Contains(address))
        {
            return IsAllowed(new IPAddress(address.GetAddressBytes().AsSpan(2, 4)), allowInsecure: false);
        }

        return GlobalUnicastV6.Contains(address) && !RefusedV6.Any(n => n.Contains(address));
    }

    /// <summary>
    /// The primary handler of the webhook HTTP client: connections only through <see cref="ConnectAsync"/>, no
    /// redirects, no proxy, no cookies, no decompression, small response-header limit, connections recycled every
    /// 2 minutes (each new connection resolves and checks again).
    /// </summary>
    public static SocketsHttpHandler CreateHandler(bool allowInsecure) => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        PreAuthenticate = false,
        AutomaticDecompression = DecompressionMethods.None,
        MaxResponseHeadersLength = 16, // KiB
        MaxResponseDrainSize = 16 * 1024,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        ConnectCallback = (context, cancellationToken) => ConnectAsync(context.DnsEndPoint, allowInsecure, cancellationToken),
    };

    /// <summary>
    /// Resolves <paramref name="endPoint"/>'s host (a literal address is taken as it is), keeps the addresses
    /// <see cref="IsAllowed"/> accepts, and connects to the first of them that answers. Throws
    /// <see cref="WebhookAddressRefusedException"/>, before any connection attempt, when no address is allowed.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(DnsEndPoint endPoint, bool allowInsecure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var host = endPoint.Host.TrimStart('[').TrimEnd(']');
        var addresses = IPAddress.TryParse(host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = addresses.Where(a => IsAllowed(a, allowInsecure)).ToArray();
        if (allowed.Length == 0)
        {
            throw new WebhookAddressRefusedException();
        }

        ExceptionDispatchInfo? last = null;
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = ExceptionDispatchInfo.Capture(e);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        last!.Throw();
        throw new UnreachableException();
    }

    private static string? Check(string? url, bool allowInsecure, out Uri? uri)
    {
        uri = null;
        if (string.IsNullOrWhiteSpace(url))
        {
            return "url is required.";
        }

        if (url.Length > MaxUrlLength)
        {
            return $"url must be at most {MaxUrlLength} characters.";
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.IsFile || parsed.IsUnc)
        {
            return "url must be an absolute https URL.";
        }

        if (parsed.Scheme == Uri.UriSchemeHttp && !allowInsecure)
        {
            return $"url must use https (plain http is allowed only when {InsecureSetting} is true).";
        }

        if (parsed.Scheme != Uri.UriSchemeHttps && parsed.Scheme != Uri.UriSchemeHttp)
        {
            return "url must use https.";
        }

        if (parsed.UserInfo.Length > 0)
        {
            return "url must not contain a user name or password.";
        }

        if (parsed.Host.Length == 0)
        {
            return "url must name a host.";
        }

        if (parsed.Fragment.Length > 0)
        {
            return "url must not contain a fragment (#...).";
        }

        if (!allowInsecure && !IsAllowedHost(parsed))
        {
            return $"url must name a public host: loopback, private, link-local and other non-public addresses are allowed only when {InsecureSetting} is true.";
        }

        uri = parsed;
        return null;
    }

    /// <summary>Names whose addresses are known without resolving them: literal addresses and <c>localhost</c> (RFC 6761).</summary>
    private static bool IsAllowedHost(Uri uri)
    {
        var host = uri.IdnHost.TrimStart('[').TrimEnd(']');
        if (IPAddress.TryParse(host, out var address))
        {
            return IsAllowed(address, allowInsecure: false);
        }

        var name = host.TrimEnd('.');
        return !name.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            && !name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>
/// Thrown by <see cref="WebhookUrlPolicy.ConnectAsync"/> when every address of a webhook host is refused
/// (loopback, private, link-local, ...); no connection was attempted.
/// </summary>
public sealed class WebhookAddressRefusedException : IOException
{
    /// <summary>Creates the exception (its message names no host or address).</summary>
    public WebhookAddressRefusedException()
        : base("Every address of the webhook host is loopback, private, link-local or otherwise not public; Events:AllowInsecureWebhooks is off.")
    {
    }
}
