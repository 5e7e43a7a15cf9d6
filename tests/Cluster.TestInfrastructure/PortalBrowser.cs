using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Cluster.TestInfrastructure;

/// <summary>A customer portal session as a browser holds it: the <c>Cookie</c> header (session and antiforgery cookies) and the token its forms carry.</summary>
public sealed record PortalSession(string Cookie, string AntiforgeryToken);

/// <summary>
/// Opens the customer portal without a browser, as one would: a setup link from the admin API, opened and its form posted for
/// the session cookie, then the Connect page for the antiforgery cookie and its forms' token. Cookies are kept by hand (no cookie container), so a
/// test can present them to another gateway or change them.
/// </summary>
public static partial class PortalBrowser
{
    public static async Task<PortalSession> OpenAsync(GatewayFactory gateway, string tenantId)
    {
        string url;
        using (var admin = gateway.AdminClient())
        using (var link = await admin.PostAsJsonAsync($"/admin/tenants/{tenantId}/setup-links", new { }))
        {
            link.EnsureSuccessStatusCode();
            url = new Uri((await link.Content.ReadFromJsonAsync<JsonObject>())!["url"]!.GetValue<string>()).PathAndQuery;
        }

        using var browser = gateway.CreateClient(new() { HandleCookies = false, AllowAutoRedirect = false });
        var cookies = new Dictionary<string, string>(StringComparer.Ordinal);
        string linkToken;
        using (var opened = await browser.GetAsync(url))
        {
            opened.EnsureSuccessStatusCode();
            Keep(opened, cookies);
            linkToken = AntiforgeryToken().Match(await opened.Content.ReadAsStringAsync()).Groups[1].Value;
        }

        // The link's page asks before it starts a session: its form, posted.
        using (var open = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent([new("__RequestVerificationToken", linkToken)]) })
        {
            open.Headers.Add("Cookie", CookieHeader(cookies));
            using var continued = await browser.SendAsync(open);
            if (continued.StatusCode != System.Net.HttpStatusCode.Redirect)
            {
                throw new InvalidOperationException($"The setup link's form answered {(int)continued.StatusCode}.");
            }

            Keep(continued, cookies);
        }

        using var page = new HttpRequestMessage(HttpMethod.Get, $"/portal/t/{tenantId}");
        page.Headers.Add("Cookie", CookieHeader(cookies));
        using var connect = await browser.SendAsync(page);
        connect.EnsureSuccessStatusCode();
        Keep(connect, cookies);
        var token = AntiforgeryToken().Match(await connect.Content.ReadAsStringAsync()).Groups[1].Value;
        return new PortalSession(CookieHeader(cookies), token);
    }

    private static string CookieHeader(Dictionary<string, string> cookies) => string.Join("; ", cookies.Select(c => $"{c.Key}={c.Value}"));

    private static void Keep(HttpResponseMessage response, Dictionary<string, string> cookies)
    {
        foreach (var header in response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [])
        {
            var pair = header.Split(';', 2)[0].Split('=', 2);
            cookies[pair[0]] = pair[1];
        }
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}
