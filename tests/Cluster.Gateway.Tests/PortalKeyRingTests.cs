using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Gateway.Tests;

/// <summary>
/// The gateways share one Data Protection key ring, kept on the cluster: a portal session and its antiforgery token made by
/// one gateway are accepted by another.
/// </summary>
public sealed partial class PortalKeyRingTests
{
    [Fact]
    public async Task ASessionOpenedOnOneGatewayPostsAFormThroughAnother()
    {
        await using var first = new GatewayFactory();
        var tenant = await first.CreateTenantAsync();
        await using var second = GatewayFactory.ConnectTo(first);
        string url;
        using (var admin = first.AdminClient())
        using (var link = await admin.PostAsJsonAsync($"/admin/tenants/{tenant.TenantId}/setup-links", new { }))
        {
            Assert.Equal(HttpStatusCode.Created, link.StatusCode);
            url = (await link.Content.ReadFromJsonAsync<JsonObject>())!["url"]!.GetValue<string>();
        }

        // On the first gateway: open the link (the session cookie), then the Connect page (the antiforgery cookie and token).
        var cookies = new Dictionary<string, string>(StringComparer.Ordinal);
        using var one = first.CreateClient(new() { AllowAutoRedirect = false, HandleCookies = false });
        using (var opened = await one.GetAsync(new Uri(url).PathAndQuery))
        {
            Keep(opened, cookies);
        }

        string token;
        using (var page = await Send(one, HttpMethod.Get, $"/portal/t/{tenant.TenantId}", cookies, null))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Keep(page, cookies);
            token = AntiforgeryToken().Match(await page.Content.ReadAsStringAsync()).Groups[1].Value;
        }

        // On the second gateway: the same cookies and token generate a Secret Token.
        using var two = second.CreateClient(new() { AllowAutoRedirect = false, HandleCookies = false });
        using (var posted = await Send(two, HttpMethod.Post, $"/portal/t/{tenant.TenantId}?handler=Generate", cookies, new FormUrlEncodedContent([new("__RequestVerificationToken", token)])))
        {
            Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
            Assert.Contains("Your new Secret Token.", await posted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The key ring is on the cluster (the silo stores each element encrypted under its at-rest key).
        var grains = first.Services.GetRequiredService<IGrainFactory>();
        var elements = await grains.GetGrain<IDataProtectionKeyRingGrain>(GrainKeys.DataProtectionKeyRing).GetElementsAsync();
        Assert.NotEmpty(elements);
        Assert.All(elements, xml => Assert.StartsWith("<key ", xml, StringComparison.Ordinal));
    }

    private static async Task<HttpResponseMessage> Send(HttpClient client, HttpMethod method, string path, Dictionary<string, string> cookies, HttpContent? content)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Add("Cookie", string.Join("; ", cookies.Select(c => $"{c.Key}={c.Value}")));
        return await client.SendAsync(request);
    }

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
