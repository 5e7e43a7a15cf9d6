using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.Net.Http.Headers;

namespace Cluster.Gateway.Portal;

/// <summary>
/// The portal's stylesheet and script, embedded in the gateway assembly (no build chain, no wwwroot to deploy with it)
/// and served at <c>/portal/assets/{name}?v={hash}</c>: the hash changes with the content, so browsers may cache them
/// for a year. Pages reference them through <see cref="Href"/>; the Content-Security-Policy allows nothing inline.
/// </summary>
public static class PortalAssets
{
    private sealed record Asset(byte[] Content, string ContentType, string Version);

    private static readonly FrozenDictionary<string, Asset> All = Load();

    /// <summary>The URL of asset <paramref name="name"/> (e.g. <c>portal.css</c>), versioned by its content.</summary>
    public static string Href(string name) => $"/portal/assets/{name}?v={All[name].Version}";

    /// <summary>Maps <c>GET /portal/assets/{name}</c>.</summary>
    public static void Map(RouteGroupBuilder portal) => portal.MapGet("/assets/{name}", Serve).AllowAnonymous();

    private static IResult Serve(string name, HttpContext context)
    {
        if (!All.TryGetValue(name, out var asset))
        {
            return Results.NotFound();
        }

        var etag = new EntityTagHeaderValue($"\"{asset.Version}\"");
        context.Response.Headers.CacheControl = context.Request.Query["v"] == asset.Version ? "public, max-age=31536000, immutable" : "no-cache";
        return Results.Bytes(asset.Content, asset.ContentType, entityTag: etag);
    }

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(PortalAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var (name, type) in new[] { ("portal.css", "text/css; charset=utf-8"), ("portal.js", "text/javascript; charset=utf-8") })
        {
            using var stream = assembly.GetManifestResourceStream($"Portal.Assets.{name}")
                ?? throw new InvalidOperationException($"The portal asset {name} is not embedded in {assembly.GetName().Name}.");
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var bytes = buffer.ToArray();
            assets[name] = new Asset(bytes, type, Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]);
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
