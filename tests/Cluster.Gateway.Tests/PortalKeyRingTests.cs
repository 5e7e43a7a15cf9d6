using System.Net;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Gateway.Tests;

/// <summary>
/// The gateways share one Data Protection key ring, kept on the cluster: a portal session and its antiforgery token made by
/// one gateway are accepted by another.
/// </summary>
public sealed class PortalKeyRingTests
{
    [Fact]
    public async Task ASessionOpenedOnOneGatewayPostsAFormThroughAnother()
    {
        await using var first = new GatewayFactory();
        var tenant = await first.CreateTenantAsync();
        await using var second = GatewayFactory.ConnectTo(first);

        // On the first gateway: the setup link (the session cookie), then the Connect page (the antiforgery cookie and token).
        var session = await PortalBrowser.OpenAsync(first, tenant.TenantId);

        // On the second gateway: the same cookies and token generate a Secret Token.
        using var two = second.CreateClient(new() { AllowAutoRedirect = false, HandleCookies = false });
        using (var post = new HttpRequestMessage(HttpMethod.Post, $"/portal/t/{tenant.TenantId}?handler=Generate")
        {
            Content = new FormUrlEncodedContent([new("__RequestVerificationToken", session.AntiforgeryToken)]),
        })
        {
            post.Headers.Add("Cookie", session.Cookie);
            using var posted = await two.SendAsync(post);
            Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
            Assert.Contains("Your new Secret Token.", await posted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The key ring is on the cluster (the silo stores each element encrypted under its at-rest key).
        var grains = first.Services.GetRequiredService<IGrainFactory>();
        var elements = await grains.GetGrain<IDataProtectionKeyRingGrain>(GrainKeys.DataProtectionKeyRing).GetElementsAsync();
        Assert.NotEmpty(elements);
        Assert.All(elements, xml => Assert.StartsWith("<key ", xml, StringComparison.Ordinal));
    }
}
