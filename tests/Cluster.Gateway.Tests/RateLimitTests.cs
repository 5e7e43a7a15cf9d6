using System.Net;
using Cluster.Abstractions;
using Cluster.Gateway.Limits;
using Cluster.TestInfrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Gateway.Tests;

/// <summary>
/// Per-tenant token buckets, the per-address budget of failed lookups and the gateway-wide concurrency limit, through
/// the real pipeline. No timing: the tiny limits refill one token every 1000 s, and the concurrency test holds a request
/// open inside the gateway.
/// </summary>
public sealed class RateLimitTests
{
    [Fact]
    public async Task ATenantOverItsLimitGets429WithScimBodyAndRetryAfterWhileAnotherTenantIsUnaffected()
    {
        var limitedId = GrainKeys.NewTenantId();
        await using var gateway = GatewayFactory.With(new Dictionary<string, string?>
        {
            [$"RateLimits:Tenants:{limitedId}:PermitsPerSecond"] = "0.001",
            [$"RateLimits:Tenants:{limitedId}:Burst"] = "3",
        });
        var limited = await ScimUsers.CreateTenantWithIdAsync(gateway, limitedId);
        var other = await gateway.CreateTenantAsync("Fabrikam");
        using var limitedClient = ScimUsers.Authorized(gateway.CreateClient(), limited);
        using var otherClient = gateway.ScimClient(other);

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? throttled = null;
        for (var i = 0; i < 6; i++)
        {
            var response = await limitedClient.GetAsync(ScimUsers.Filter($"probe{i}@contoso.com"));
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests && throttled is null)
            {
                throttled = response;
            }
            else
            {
                response.Dispose();
            }
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        using (throttled)
        {
            Assert.Equal(ScimUsers.ScimJson, throttled!.Content.Headers.ContentType?.MediaType);
            var retryAfter = throttled.Headers.RetryAfter?.Delta;
            Assert.NotNull(retryAfter);
            Assert.True(retryAfter >= TimeSpan.FromSeconds(1));
            var body = await ScimUsers.BodyAsync(throttled);
            Assert.Equal("urn:ietf:params:scim:api:messages:2.0:Error", body["schemas"]![0]!.GetValue<string>());
            Assert.Equal("429", body["status"]!.GetValue<string>());
            Assert.Null(body["scimType"]);
            Assert.False(string.IsNullOrWhiteSpace(body["detail"]?.GetValue<string>()));
        }

        // A write of the throttled tenant is refused before it reaches a grain: nothing is created.
        using (var create = await limitedClient.PostAsync("Users", ScimUsers.NewUser("never@contoso.com")))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, create.StatusCode);
        }

        // The other tenant, on the default limits, is not affected.
        for (var i = 0; i < 20; i++)
        {
            using var response = await otherClient.GetAsync(ScimUsers.Filter($"probe{i}@fabrikam.com"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var created = await otherClient.PostAsync("Users", ScimUsers.NewUser("jo@fabrikam.com"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        // Operators see the refusals: the product meter counts them by reason.
        using var metricsClient = gateway.CreateClient();
        var metrics = await metricsClient.GetStringAsync("/metrics");
        Assert.Matches(@"scim_limits_rejections_total\{[^}]*reason=""tenant-rate""[^}]*\} [1-9]", metrics);
    }

    [Fact]
    public async Task ATenantsNewLimitsApplyAtItsNextRequestAndABulkWithinTheNewBurstIsServed()
    {
        var tenantId = GrainKeys.NewTenantId();
        await using var gateway = GatewayFactory.With(new Dictionary<string, string?>
        {
            [$"RateLimits:Tenants:{tenantId}:PermitsPerSecond"] = "0.001",
            [$"RateLimits:Tenants:{tenantId}:Burst"] = "3",
        });
        var tenant = await ScimUsers.CreateTenantWithIdAsync(gateway, tenantId);
        using var scim = gateway.ScimClient(tenant);
        const string bulk = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
        string Bulk(int operations) => $$$"""{"schemas":["{{{bulk}}}"],"Operations":[{{{string.Join(",", Enumerable.Range(0, operations).Select(i =>
            $$$$"""{"method":"POST","path":"/Users","bulkId":"b{{{{i}}}}","data":{"userName":"{{{{Guid.NewGuid():N}}}}@contoso.com"}}"""))}}}]}""";

        // Both buckets exist with the old burst: the HTTP requests' (two of its three tokens taken) and the Bulk operations'.
        using (var first = await scim.PostAsync("Bulk", ScimTestClient.Body(Bulk(2))))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        using (var lookup = await scim.GetAsync(ScimUsers.Filter("probe@contoso.com")))
        {
            Assert.Equal(HttpStatusCode.OK, lookup.StatusCode);
        }

        // The operator raises the tenant's burst while the gateway runs (a configuration reload).
        var configuration = (IConfigurationRoot)gateway.Services.GetRequiredService<IConfiguration>();
        configuration[$"RateLimits:Tenants:{tenantId}:Burst"] = "10";
        configuration.Reload();

        // A Bulk of more operations than the old burst is served (it was a 500: the old bucket cannot grant that many),
        // and the HTTP requests get the new burst at once, not after their bucket went idle.
        using (var larger = await scim.PostAsync("Bulk", ScimTestClient.Body(Bulk(6))))
        {
            var body = await larger.ExpectScimAsync(HttpStatusCode.OK);
            Assert.All(body["Operations"]!.AsArray(), o => Assert.Equal("201", o!["status"]!.GetValue<string>()));
        }

        for (var i = 0; i < 5; i++)
        {
            using var response = await scim.GetAsync(ScimUsers.Filter($"probe{i}@contoso.com"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var users = await scim.GetAsync("Users?count=0"))
        {
            Assert.Equal(8, (await users.ExpectScimAsync(HttpStatusCode.OK))["totalResults"]!.GetValue<int>());
        }

        // A reload with an invalid limit is refused by validation; requests go on under the last valid limits.
        configuration[$"RateLimits:Tenants:{tenantId}:Burst"] = "0";
        _ = Record.Exception(configuration.Reload); // the options' change callback may throw the validation failure here
        using var after = await scim.GetAsync(ScimUsers.Filter("after@contoso.com"));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task DefaultLimitsDoNotThrottleAnEntraBurst()
    {
        await using var gateway = new GatewayFactory();
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);

        // 100 requests at once: four seconds of Entra's 25 req/s, all in one burst.
        var responses = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => scim.GetAsync(ScimUsers.Filter($"u{i}@contoso.com"))));
        try
        {
            Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    [Fact]
    public async Task SlowTokenRequestsTakeNoneOfTheSlotsScimRequestsNeed()
    {
        // An anonymous token request dribbling its body holds the one OAuth slot.
        await using var held = await HeldPost.StartAsync(new Dictionary<string, string?>
        {
            ["RateLimits:MaxConcurrentRequests"] = "1",
            ["RateLimits:MaxQueuedRequests"] = "0",
            ["RateLimits:MaxConcurrentTokenRequests"] = "1",
            ["RateLimits:MaxQueuedTokenRequests"] = "0",
            ["OAuth:BodyTimeoutSeconds"] = "300", // the held body must not time out and free its slot on a slow machine
        }, h => h.Anonymous.PostAsync("/oauth2/token", TokenForm()));

        // Another token request finds the OAuth slots taken: 503 with Retry-After, in OAuth's error shape.
        using (var second = await held.Anonymous.PostAsync("/oauth2/token", TokenForm()))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, second.StatusCode);
            Assert.NotNull(second.Headers.RetryAfter);
            Assert.Equal("application/json", second.Content.Headers.ContentType?.MediaType);
        }

        // Entra's SCIM request still gets the gateway's one slot (it was a 503: token requests shared it).
        using (var scim = await held.Client.GetAsync(ScimUsers.Filter("x@contoso.com")))
        {
            Assert.Equal(HttpStatusCode.OK, scim.StatusCode);
        }

        // Released, it is answered like any token request of a client the gateway does not know.
        using var first = await held.ReleaseAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, first.StatusCode);
    }

    [Fact]
    public async Task ATokenRequestWhoseBodyDoesNotArriveIsAnsweredAndGivesUpItsSlot()
    {
        await using var held = await HeldPost.StartAsync(new Dictionary<string, string?>
        {
            ["RateLimits:MaxConcurrentTokenRequests"] = "1",
            ["RateLimits:MaxQueuedTokenRequests"] = "0",
        }, h => h.Anonymous.PostAsync("/oauth2/token", TokenForm()));

        // Never released: the gateway stops waiting for the body.
        using (var timedOut = await held.Held.WaitAsync(TimeSpan.FromSeconds(60)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, timedOut.StatusCode);
            var body = await timedOut.Content.ReadAsStringAsync();
            Assert.Contains("\"invalid_request\"", body, StringComparison.Ordinal);
            Assert.Contains("did not arrive", body, StringComparison.Ordinal);
        }

        // Its slot is free again: the next token request is served (a client it does not know: 401, not 503).
        using var next = await held.Anonymous.PostAsync("/oauth2/token", TokenForm());
        Assert.Equal(HttpStatusCode.Unauthorized, next.StatusCode);
    }

    [Fact]
    public async Task OneAddressCannotTakeEveryOAuthSlot()
    {
        // One address's slow token request holds its one slot: its next request is refused at once (it took the shared pool
        // too, and with it every tenant's token requests); another address's request is served from the pool.
        await using var held = await HeldPost.StartAsync(new Dictionary<string, string?>
        {
            ["RateLimits:MaxConcurrentTokenRequests"] = "4",
            ["RateLimits:MaxQueuedTokenRequests"] = "0",
            ["RateLimits:MaxConcurrentTokenRequestsPerAddress"] = "1",
            ["RateLimits:MaxQueuedTokenRequestsPerAddress"] = "0",
            ["OAuth:BodyTimeoutSeconds"] = "300", // the held body must not time out and free its slot on a slow machine
        }, h => h.Anonymous.SendAsync(TokenRequest("198.51.100.7")));

        using (var again = await held.Anonymous.SendAsync(TokenRequest("198.51.100.7")))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, again.StatusCode);
            Assert.NotNull(again.Headers.RetryAfter);
            Assert.Contains("temporarily_unavailable", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Addresses share slots by a hash seeded per process: take one that does not share the first one's.
        var first = FailedAuthenticationLimiter.AddressPartition(IPAddress.Parse("198.51.100.7"));
        var otherAddress = Enumerable.Range(1, 254).Select(i => $"203.0.113.{i}").First(a => FailedAuthenticationLimiter.AddressPartition(IPAddress.Parse(a)) != first);
        using (var other = await held.Anonymous.SendAsync(TokenRequest(otherAddress)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, other.StatusCode); // served: a client the gateway does not know
        }

        using var released = await held.ReleaseAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, released.StatusCode);
    }

    private const string ClientAddressHeader = "X-Test-Client-Address";

    private static HttpRequestMessage TokenRequest(string clientAddress)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token") { Content = TokenForm() };
        request.Headers.Add(ClientAddressHeader, clientAddress);
        return request;
    }

    private static FormUrlEncodedContent TokenForm() => new(new Dictionary<string, string>
    {
        ["grant_type"] = "client_credentials",
        ["client_id"] = "nobody",
        ["client_secret"] = "wrong",
    });

    [Fact]
    public async Task RequestsBeyondTheConcurrencyLimitGet503WithRetryAfter()
    {
        // The request certainly holds the only concurrency slot (the limiter runs before any handler).
        await using var held = await HeldPost.StartAsync(new Dictionary<string, string?>
        {
            ["RateLimits:MaxConcurrentRequests"] = "1",
            ["RateLimits:MaxQueuedRequests"] = "0",
        }, "held@contoso.com");
        using var second = ScimUsers.Authorized(held.Gateway.CreateClient(), held.Tenant);

        using (var rejected = await second.GetAsync(ScimUsers.Filter("x@contoso.com")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, rejected.StatusCode);
            Assert.NotNull(rejected.Headers.RetryAfter);
            Assert.Equal(ScimUsers.ScimJson, rejected.Content.Headers.ContentType?.MediaType);
            Assert.Equal("503", (await ScimUsers.BodyAsync(rejected))["status"]!.GetValue<string>());
        }

        // Health stays outside the limit.
        using (var health = await held.Gateway.CreateClient().GetAsync("/alive"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        using (var first = await held.ReleaseAsync())
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }

        // The slot is free again.
        using var after = await second.GetAsync(ScimUsers.Filter("held@contoso.com"));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(1, (await ScimUsers.BodyAsync(after))["totalResults"]!.GetValue<int>());
    }

    [Fact]
    public async Task ATenantWithAllItsSlotsInUseGets429AndOtherTenantsAreServed()
    {
        // One tenant's request holds its only slot (a slow body); its next request is 429 at once, and takes none of the
        // gateway's slots, so another tenant is served as usual.
        await using var held = await HeldPost.StartAsync(new Dictionary<string, string?>
        {
            ["RateLimits:MaxConcurrentRequestsPerTenant"] = "1",
            ["RateLimits:MaxQueuedRequestsPerTenant"] = "0",
            ["RateLimits:MaxConcurrentRequests"] = "2",
            ["RateLimits:MaxQueuedRequests"] = "0",
        }, "slow@contoso.com");
        var other = await ScimUsers.CreateTenantWithIdAsync(held.Gateway, GrainKeys.NewTenantId());
        using var again = ScimUsers.Authorized(held.Gateway.CreateClient(), held.Tenant);
        using var neighbour = ScimUsers.Authorized(held.Gateway.CreateClient(), other);

        using (var refused = await again.GetAsync(ScimUsers.Filter("x@contoso.com")))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
            Assert.Equal(ScimUsers.ScimJson, refused.Content.Headers.ContentType?.MediaType);
            Assert.Equal("429", (await ScimUsers.BodyAsync(refused))["status"]!.GetValue<string>());
        }

        using (var served = await neighbour.GetAsync(ScimUsers.Filter("x@contoso.com")))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }

        using (var first = await held.ReleaseAsync())
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }

        using var after = await again.GetAsync(ScimUsers.Filter("slow@contoso.com"));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    /// <summary>
    /// A gateway with <c>settings</c> and one tenant, whose POST of a user is held in progress: the gateway's handler blocks
    /// on its first read of the body (<see cref="HoldFirstBodyRead"/>) until <see cref="ReleaseAsync"/>.
    /// </summary>
    private sealed class HeldPost : IAsyncDisposable
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private GatewayFactory _configured = null!;
        private HttpClient _client = null!;
        private Task<HttpResponseMessage> _held = null!;

        public WebApplicationFactory<Cluster.Silo.SiloHostEntry> Gateway { get; private set; } = null!;

        public TestTenant Tenant { get; private set; } = null!;

        /// <summary>A client of the tenant's (its secret token).</summary>
        public HttpClient Client => _client;

        /// <summary>A client without credentials.</summary>
        public HttpClient Anonymous { get; private set; } = null!;

        /// <summary>Holds the tenant's <c>POST /Users</c> of <paramref name="userName"/>.</summary>
        public static Task<HeldPost> StartAsync(Dictionary<string, string?> settings, string userName) =>
            StartAsync(settings, held => held.Client.PostAsync("Users", ScimUsers.NewUser(userName)));

        /// <summary>Holds the POST <paramref name="send"/> makes (the first of the process after the tenant was made).</summary>
        public static async Task<HeldPost> StartAsync(Dictionary<string, string?> settings, Func<HeldPost, Task<HttpResponseMessage>> send)
        {
            var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var post = new HeldPost { _configured = GatewayFactory.With(settings) };
            post.Gateway = post._configured.WithWebHostBuilder(b => b.ConfigureServices(s =>
                s.AddSingleton<IStartupFilter>(new HoldFirstBodyRead(entered, post._release))));
            post.Tenant = await ScimUsers.CreateTenantWithIdAsync(post.Gateway, GrainKeys.NewTenantId());
            post._client = ScimUsers.Authorized(post.Gateway.CreateClient(), post.Tenant);
            post.Anonymous = post.Gateway.CreateClient();
            post._held = send(post);
            await entered.Task.WaitAsync(TimeSpan.FromSeconds(60));
            return post;
        }

        /// <summary>The held request's response, once it came without a release.</summary>
        public Task<HttpResponseMessage> Held => _held;

        /// <summary>Lets the held request read its body; its response.</summary>
        public Task<HttpResponseMessage> ReleaseAsync()
        {
            _release.TrySetResult();
            return _held;
        }

        public async ValueTask DisposeAsync()
        {
            _release.TrySetResult();
            _client.Dispose();
            Anonymous.Dispose();
            await Gateway.DisposeAsync();
            await _configured.DisposeAsync();
        }
    }

    /// <summary>Makes the first request body read of the process wait (after signalling) until released.</summary>
    private sealed class HoldFirstBodyRead(TaskCompletionSource entered, TaskCompletionSource release) : IStartupFilter
    {
        private int _used;

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                // The test server has no client address: a test names one (as a proxy's forwarded address would).
                if (context.Request.Headers.TryGetValue(ClientAddressHeader, out var address))
                {
                    context.Connection.RemoteIpAddress = IPAddress.Parse(address.ToString());
                }

                if (HttpMethods.IsPost(context.Request.Method) && Interlocked.Exchange(ref _used, 1) == 0)
                {
                    context.Request.Body = new GatedStream(context.Request.Body, entered, release);
                }

                await nextMiddleware(context);
            });
            next(app);
        };
    }

    private sealed class GatedStream(Stream inner, TaskCompletionSource entered, TaskCompletionSource release) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            entered.TrySetResult();
            await release.Task.WaitAsync(cancellationToken);
            return await inner.ReadAsync(buffer, cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
