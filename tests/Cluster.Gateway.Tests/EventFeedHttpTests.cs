using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Gateway.Tests;

/// <summary>
/// Issue 12 through the real pipeline: the pull API and webhooks against a real Kestrel receiver. Signatures checked as a
/// receiver would, a failing receiver retried, a hanging one never slowing SCIM nor another tenant, cursors, hostile input.
/// </summary>
public sealed class EventFeedHttpTests : IClassFixture<EventFeedHttpTests.Factory>
{
    private readonly GatewayFactory _gateway;

    public EventFeedHttpTests(Factory factory) => _gateway = factory.Gateway;

    [Fact]
    public async Task TheFeedPagesThroughEveryChangeWithCursors()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        using var admin = _gateway.AdminClient();
        var created = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            created.Add((await scim.CreateUserAsync($"feed{i}@contoso.com"))["id"].Str());
        }

        var bulk = """
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
              {"method":"POST","path":"/Users","bulkId":"a","data":{"userName":"bulk.a@contoso.com"}},
              {"method":"POST","path":"/Users","bulkId":"b","data":{"userName":"bulk.b@contoso.com"}}]}
            """;
        using (var response = await scim.PostAsync("Bulk", ScimTestClient.Body(bulk)))
        {
            await response.ExpectScimAsync(HttpStatusCode.OK);
        }

        var events = new List<JsonObject>();
        string? cursor = null;
        for (var pages = 0; ; pages++)
        {
            var page = await admin.GetFromJsonAsync<JsonObject>($"/admin/tenants/{tenant.TenantId}/events?limit=5" + (cursor is null ? "" : $"&after={cursor}"));
            events.AddRange(page!["data"]!.AsArray().Select(e => e!.AsObject()));
            cursor = page["nextCursor"].Str();
            if (!page["hasMore"]!.GetValue<bool>())
            {
                break;
            }

            Assert.True(pages < 10);
        }

        Assert.Equal(14, events.Count);
        Assert.All(events, e => Assert.Equal("user.created", e["type"].Str()));
        Assert.Equal(created, events.Take(12).Select(e => e["resourceId"].Str()));
        Assert.Equal(["bulk.a@contoso.com", "bulk.b@contoso.com"], events.Skip(12).Select(e => e["data"]!["userName"].Str()));
        Assert.Equal(Enumerable.Range(1, 14).Select(i => (long)i), events.Select(e => e["sequence"]!.GetValue<long>()));
        Assert.All(events, e => Assert.Equal(tenant.TenantId, e["tenantId"].Str()));
        Assert.All(events, e => Assert.Null(e["changed"]));

        // Past the end: an empty page, the same cursor.
        var end = await admin.GetFromJsonAsync<JsonObject>($"/admin/tenants/{tenant.TenantId}/events?after={cursor}");
        Assert.Empty(end!["data"]!.AsArray());
        Assert.Equal(cursor, end["nextCursor"].Str());
    }

    public static TheoryData<string, int> BadFeedRequests => new()
    {
        { "events?limit=0", 400 },
        { "events?limit=1001", 400 },
        { "events?limit=ten", 400 },
        { "events?limit=1&limit=2", 400 },
        { "events?after=-1", 400 },
        { "events?after=abc", 400 },
        { "events?after=99999999999999999999999", 400 },
        { "events?after=1", 400 }, // past the end of an empty feed: reading on from it would skip the first event
        { "events?after=9223372036854775807", 400 },
        { "webhook/deliveries", 404 },
        { "webhook", 404 },
    };

    [Theory]
    [MemberData(nameof(BadFeedRequests))]
    public async Task BadFeedRequestsAreProblems(string path, int status)
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var admin = _gateway.AdminClient();
        using var response = await admin.GetAsync($"/admin/tenants/{tenant.TenantId}/{path}");
        Assert.Equal((HttpStatusCode)status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);

        using var unknown = await admin.GetAsync($"/admin/tenants/{Guid.NewGuid():N}/events");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var anonymous = _gateway.CreateClient();
        using var unauthorized = await anonymous.GetAsync($"/admin/tenants/{tenant.TenantId}/events");
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
    }

    public static TheoryData<string> BadWebhooks => new()
    {
        """{"url":""}""",
        """{"url":"not a url"}""",
        """{"url":"ftp://example.com/hook"}""",
        """{"url":"https://user:pass@example.com/hook"}""",
        """{"url":"https://example.com/hook","secret":"short"}""",
        """{"secret":"whsec_abcdefghijklmnopqrstuvwxyz0123456789"}""",
        """{"url":42}""",
        """{"url":"https://example.com/hook",""",
    };

    [Theory]
    [MemberData(nameof(BadWebhooks))]
    public async Task ABadWebhookIsRefusedAndChangesNothing(string body)
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var admin = _gateway.AdminClient();
        using var response = await admin.PutAsync($"/admin/tenants/{tenant.TenantId}/webhook", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var get = await admin.GetAsync($"/admin/tenants/{tenant.TenantId}/webhook");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task EventsArePostedSignedInOrderAndAFailingReceiverIsRetried()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.RespondWith(WebhookResponse.Status(500), WebhookResponse.Status(503), WebhookResponse.Ok);
        var tenant = await _gateway.CreateTenantAsync();
        using var admin = _gateway.AdminClient();
        var secret = await SetWebhookAsync(admin, tenant, receiver);
        var shown = await admin.GetFromJsonAsync<JsonObject>($"/admin/tenants/{tenant.TenantId}/webhook");
        Assert.Null(shown!["secret"]);
        Assert.DoesNotContain(secret, shown.ToJsonString(), StringComparison.Ordinal);

        using var scim = _gateway.ScimClient(tenant);
        var user = await scim.CreateUserAsync("hooked@contoso.com");
        using (var disable = await scim.PatchUserAsync(user["id"].Str(), EntraPayloads.SetActive("Replace", "\"False\"")))
        {
            await disable.ExpectScimAsync(HttpStatusCode.OK);
        }

        // Two failed attempts of the first event, then each event once, in order.
        var received = await receiver.WaitForAsync(4, TimeSpan.FromSeconds(60));
        Assert.All(received, r => Assert.True(r.HasValidSignature(secret), "the signature does not verify"));
        Assert.Equal(["user.created", "user.created", "user.created", "user.deactivated"], received.Select(r => r.EventType));
        Assert.Single(received.Select(r => r.EventId).Skip(0).Take(3).Distinct());
        var body = JsonNode.Parse(received[^1].BodyText)!;
        Assert.Equal(user["id"].Str(), body["resourceId"].Str());
        Assert.Equal(received[^1].EventId, body["id"].Str());

        var deliveries = await admin.GetFromJsonAsync<JsonObject>($"/admin/tenants/{tenant.TenantId}/webhook/deliveries");
        var attempts = deliveries!["data"]!.AsArray();
        Assert.Contains(attempts, a => a!["statusCode"]?.GetValue<int>() == 500 && !a["delivered"]!.GetValue<bool>());
        Assert.Contains(attempts, a => a!["delivered"]!.GetValue<bool>());

        // A ping on demand, then the webhook goes away.
        using (var test = await admin.PostAsync($"/admin/tenants/{tenant.TenantId}/webhook/test", null))
        {
            Assert.True((await test.Content.ReadFromJsonAsync<JsonObject>())!["delivered"]!.GetValue<bool>());
        }

        Assert.Equal("ping", receiver.Requests[^1].EventType);
        using (var deleted = await admin.DeleteAsync($"/admin/tenants/{tenant.TenantId}/webhook"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }
    }

    [Fact]
    public async Task AWebhookMovedToANewReceiverDeliversWhatTheOldOneDidNotGet()
    {
        await using var failing = await WebhookReceiver.StartAsync();
        failing.RespondWith(_ => WebhookResponse.Status(500));
        await using var moved = await WebhookReceiver.StartAsync();
        var tenant = await _gateway.CreateTenantAsync();
        using var admin = _gateway.AdminClient();
        await SetWebhookAsync(admin, tenant, failing);
        using var scim = _gateway.ScimClient(tenant);
        var first = await scim.CreateUserAsync("first@contoso.com");
        await failing.WaitForAsync(1, TimeSpan.FromSeconds(30));

        // The vendor points the webhook at a receiver that works, with a secret of its choosing.
        const string secret = "whsec_moved_0123456789abcdef0123456789abcdef";
        using (var put = await admin.PutAsJsonAsync($"/admin/tenants/{tenant.TenantId}/webhook", new { url = moved.Url.ToString(), secret }))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        var second = await scim.CreateUserAsync("second@contoso.com");

        // The event the old receiver never took comes first (it was skipped: the new webhook began at the feed's end).
        var received = await moved.WaitForAsync(2, TimeSpan.FromSeconds(30));
        Assert.Equal([first["id"].Str(), second["id"].Str()], received.Select(r => JsonNode.Parse(r.BodyText)!["resourceId"].Str()));
        Assert.All(received, r => Assert.True(r.HasValidSignature(secret), "the signature does not verify with the new secret"));
        Assert.Equal(failing.Requests[0].EventId, received[0].EventId);
    }

    [Fact]
    public async Task ARedeliveryIsSentAtOnceWhileARetryWaitsForItsTime()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.RespondWith(_ => WebhookResponse.Status(500));
        var tenant = await _gateway.CreateTenantAsync();
        using var admin = _gateway.AdminClient();
        await SetWebhookAsync(admin, tenant, receiver);
        using var scim = _gateway.ScimClient(tenant);
        await scim.CreateUserAsync("waiting@contoso.com");

        // Five failed attempts: the sixth waits 8 to 16 s.
        await receiver.WaitForAsync(5, TimeSpan.FromSeconds(60));
        var retryAt = DateTimeOffset.MinValue;
        await Eventually.TrueAsync(async () =>
        {
            var next = (await admin.GetFromJsonAsync<JsonObject>($"/admin/tenants/{tenant.TenantId}/webhook"))!["nextAttemptAt"];
            retryAt = next?.GetValue<DateTimeOffset>() ?? DateTimeOffset.MinValue;
            return receiver.Requests.Count == 5 && retryAt - DateTimeOffset.UtcNow > TimeSpan.FromSeconds(4);
        }, what: "the webhook recorded its sixth attempt's time");

        // The receiver is fixed and the operator redelivers: it is sent now, not at the retry's time.
        receiver.RespondWith(WebhookResponse.Ok);
        using (var redeliver = await admin.PostAsJsonAsync($"/admin/tenants/{tenant.TenantId}/webhook/redeliver", new { after = "0" }))
        {
            Assert.Equal(HttpStatusCode.Accepted, redeliver.StatusCode);
        }

        var received = await receiver.WaitForAsync(6, TimeSpan.FromSeconds(60));
        Assert.True(received[5].At < retryAt, $"delivered at {received[5].At:O}, the retry's time was {retryAt:O}");
    }

    [Fact]
    public async Task AWebhookWokenByAnEarlierActivationsReminderReleasesItOnceCaughtUp()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var tenant = await _gateway.CreateTenantAsync();
        using var admin = _gateway.AdminClient();
        await SetWebhookAsync(admin, tenant, receiver);
        using var scim = _gateway.ScimClient(tenant);
        await scim.CreateUserAsync("reminded@contoso.com");
        await receiver.WaitForAsync(1, TimeSpan.FromSeconds(30));

        var webhook = _gateway.Services.GetRequiredService<IGrainFactory>().GetGrain<IWebhookGrain>(GrainKeys.Webhook(tenant.TenantId));
        var table = _gateway.Services.GetRequiredService<IReminderTable>();
        const string reminder = "webhook-delivery";
        await Eventually.TrueAsync(async () => await table.ReadRow(webhook.GetGrainId(), reminder) is null, what: "the caught-up webhook released its reminder");

        // A reminder this activation did not register (an earlier one's, before a silo restart) fires.
        await table.UpsertRow(new ReminderEntry { GrainId = webhook.GetGrainId(), ReminderName = reminder, StartAt = DateTime.UtcNow.AddMinutes(1), Period = TimeSpan.FromMinutes(1) });
        await webhook.AsReference<IRemindable>().ReceiveReminder(reminder, new TickStatus(DateTime.UtcNow, TimeSpan.FromMinutes(1), DateTime.UtcNow));

        // Nothing is waiting: the round finds the feed read and releases the reminder (it fired every minute, each time
        // activating the webhook and its log and writing the webhook's row).
        await Eventually.TrueAsync(async () => await table.ReadRow(webhook.GetGrainId(), reminder) is null, what: "the reminder was released");
    }

    [Fact]
    public async Task AHangingReceiverSlowsNeitherScimNorAnotherTenant()
    {
        await using var hanging = await WebhookReceiver.StartAsync();
        hanging.RespondWith(WebhookResponse.Hanging);
        await using var healthy = await WebhookReceiver.StartAsync();
        var slow = await _gateway.CreateTenantAsync("Slow");
        var fast = await _gateway.CreateTenantAsync("Fast");
        using var admin = _gateway.AdminClient();
        await SetWebhookAsync(admin, slow, hanging);
        var fastSecret = await SetWebhookAsync(admin, fast, healthy);

        using var slowScim = _gateway.ScimClient(slow);
        using var fastScim = _gateway.ScimClient(fast);
        await slowScim.CreateUserAsync("first@slow.test");
        var held = (await hanging.WaitForAsync(1, TimeSpan.FromSeconds(30)))[0].EventId;

        // The slow tenant's receiver holds its first event: its SCIM writes and the other tenant's deliveries go on.
        for (var i = 0; i < 5; i++)
        {
            await slowScim.CreateUserAsync($"more{i}@slow.test");
            await fastScim.CreateUserAsync($"user{i}@fast.test");
        }

        var fastReceived = await healthy.WaitForAsync(5, TimeSpan.FromSeconds(30));
        Assert.All(fastReceived, r => Assert.True(r.HasValidSignature(fastSecret)));
        Assert.All(fastReceived, r => Assert.Equal(fast.TenantId, JsonNode.Parse(r.BodyText)!["tenantId"].Str()));
        // Nothing after the held event was sent to the slow tenant (a machine slow enough to reach the attempt's 30 s may
        // have sent the held one again: that is its retry, not a next event).
        Assert.All(hanging.Requests, r => Assert.Equal(held, r.EventId));
        hanging.ReleaseHanging();
    }

    [Fact]
    public async Task RedeliveryResendsFromACursor()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var tenant = await _gateway.CreateTenantAsync();
        using var admin = _gateway.AdminClient();
        await SetWebhookAsync(admin, tenant, receiver);
        using var scim = _gateway.ScimClient(tenant);
        await scim.CreateUserAsync("one@contoso.com");
        await scim.CreateUserAsync("two@contoso.com");
        await receiver.WaitForAsync(2, TimeSpan.FromSeconds(30));

        using var redeliver = await admin.PostAsJsonAsync($"/admin/tenants/{tenant.TenantId}/webhook/redeliver", new { after = "1" });
        Assert.Equal(HttpStatusCode.Accepted, redeliver.StatusCode);
        var received = await receiver.WaitForAsync(3, TimeSpan.FromSeconds(30));
        Assert.Equal(received[1].EventId, received[2].EventId);

        // The cursor as a number too (a parked event's sequence is one): after 1, the second event again.
        using (var numbered = await admin.PostAsJsonAsync($"/admin/tenants/{tenant.TenantId}/webhook/redeliver", new { after = 1 }))
        {
            Assert.Equal(HttpStatusCode.Accepted, numbered.StatusCode);
            Assert.Equal(received[1].EventId, (await receiver.WaitForAsync(4, TimeSpan.FromSeconds(30)))[3].EventId);
        }

        foreach (var wrong in new object[] { "x", -1, 1.5, true })
        {
            using var bad = await admin.PostAsJsonAsync($"/admin/tenants/{tenant.TenantId}/webhook/redeliver", new { after = wrong });
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }

        // A cursor past the end of the feed would silence the webhook until the feed reached it: refused, nothing changes.
        using var beyond = await admin.PostAsJsonAsync($"/admin/tenants/{tenant.TenantId}/webhook/redeliver", new { after = "999" });
        Assert.Equal(HttpStatusCode.BadRequest, beyond.StatusCode);
        Assert.Contains("past the end", await beyond.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await scim.CreateUserAsync("three@contoso.com");
        Assert.Equal(5, (await receiver.WaitForAsync(5, TimeSpan.FromSeconds(30))).Count);
    }

    [Fact]
    public async Task ARedeliveryPastWhatWasDeliveredSkipsNothing()
    {
        // A webhook stuck on its first event is told to go on from the feed's end (the feed's nextCursor pasted in): that
        // moved its cursor forward, and the events in between were never sent nor parked.
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.RespondWith(WebhookResponse.Status(500));
        var tenant = await _gateway.CreateTenantAsync();
        using var admin = _gateway.AdminClient();
        await SetWebhookAsync(admin, tenant, receiver);
        using var scim = _gateway.ScimClient(tenant);
        foreach (var name in new[] { "stuck.one", "stuck.two", "stuck.three" })
        {
            await scim.CreateUserAsync($"{name}@contoso.com");
        }

        await receiver.WaitForAsync(1, TimeSpan.FromSeconds(30));
        JsonObject feed = null!;
        await Eventually.TrueAsync(async () => (feed = (await admin.GetFromJsonAsync<JsonObject>($"/admin/tenants/{tenant.TenantId}/events"))!)["data"]!.AsArray().Count == 3, 30, "three events in the feed");
        var ids = feed["data"]!.AsArray().Select(e => e!["id"].Str()).ToList();

        receiver.RespondWith(WebhookResponse.Ok);
        var answeredOk = receiver.Requests.Count; // every request recorded from here on is answered 200
        using (var redeliver = await admin.PostAsJsonAsync($"/admin/tenants/{tenant.TenantId}/webhook/redeliver", new { after = feed["nextCursor"].Str() }))
        {
            Assert.Equal(HttpStatusCode.Accepted, redeliver.StatusCode);
        }

        await Eventually.TrueAsync(
            () => Task.FromResult(ids.All(id => receiver.Requests.Any(r => r.EventId == id && r.Index >= answeredOk))), 30, "every event delivered after the redelivery");
    }

    private static async Task<string> SetWebhookAsync(HttpClient admin, TestTenant tenant, WebhookReceiver receiver)
    {
        using var response = await admin.PutAsJsonAsync($"/admin/tenants/{tenant.TenantId}/webhook", new { url = receiver.Url.ToString() });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(receiver.Url.ToString(), body["url"].Str());
        return body["secret"].Str();
    }

    /// <summary>A gateway whose webhook attempts time out quickly (a hanging receiver is the point of one test).</summary>
    public sealed class Factory : IDisposable
    {
        public GatewayFactory Gateway { get; } = GatewayFactory.With(new Dictionary<string, string?>
        {
            ["Events:WebhookTimeoutSeconds"] = "30",
            ["RateLimits:Default:PermitsPerSecond"] = "0",
        });

        public void Dispose() => Gateway.Dispose();
    }
}

/// <summary>Retention (issue 12): pages older than <c>Events:RetentionDays</c> are erased, and a cursor before them answers 410.</summary>
public sealed class EventRetentionTests
{
    [Fact]
    public async Task ACursorOlderThanTheRetentionWindowIs410()
    {
        using var gateway = WithShortRetention();
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        using var admin = gateway.AdminClient();
        // More than a page of events (16 a page; only sealed pages are erased), written at once so that the fresh cursor is
        // asked well inside the window, then more, sequentially. No event is older than the time since the first create
        // began: while that is under the window, nothing may have been erased (on a machine so slow that it is not, a 410
        // would be right, and the answer proves nothing either way).
        var window = TimeSpan.FromDays(0.0001);
        var writing = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => scim.CreateUserAsync($"old{i}@contoso.com")));
        using (var fresh = await admin.GetAsync($"/admin/tenants/{tenant.TenantId}/events?after=0"))
        {
            if (writing.Elapsed < window)
            {
                Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
            }
        }

        for (var i = 20; i < 40; i++)
        {
            await scim.CreateUserAsync($"old{i}@contoso.com");
        }

        await WriteUntilTheOldestPageIsErasedAsync(scim, admin, tenant.TenantId, "new");

        // Without a cursor the feed starts at the oldest retained event: the new ones are there.
        var page = await admin.GetFromJsonAsync<JsonObject>($"/admin/tenants/{tenant.TenantId}/events?limit=1000");
        Assert.Contains(page!["data"]!.AsArray(), e => e!["data"]!["userName"].Str().StartsWith("new", StringComparison.Ordinal));
        Assert.DoesNotContain(page["data"]!.AsArray(), e => e!["data"]!["userName"].Str() == "old0@contoso.com");

        // A redelivery after "0" sends every retained event, as the API, CLI and portal say (it was a 410 once retention
        // had erased the oldest).
        await using var receiver = await WebhookReceiver.StartAsync();
        using (var set = await admin.PutAsJsonAsync($"/admin/tenants/{tenant.TenantId}/webhook", new { url = receiver.Url.ToString() }))
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        }

        using (var redeliver = await admin.PostAsJsonAsync($"/admin/tenants/{tenant.TenantId}/webhook/redeliver", new { after = "0" }))
        {
            Assert.Equal(HttpStatusCode.Accepted, redeliver.StatusCode);
        }

        // The first sent is the oldest event retained when the redelivery read the feed: the oldest listed above, or a later
        // one if retention erased its page meanwhile (it goes on about every second here), never one after the oldest
        // retained now.
        var first = await receiver.WaitForAsync(1, TimeSpan.FromSeconds(30));
        var sent = JsonNode.Parse(first[0].BodyText)!["sequence"]!.GetValue<long>();
        var oldest = (await admin.GetFromJsonAsync<JsonObject>($"/admin/tenants/{tenant.TenantId}/events?limit=1"))!["data"]![0]!["sequence"]!.GetValue<long>();
        Assert.InRange(sent, page["data"]![0]!["sequence"]!.GetValue<long>(), oldest);
    }

    [Fact]
    public async Task EventsErasedBeforeTheWebhookDeliveredThemAreListedAsExpired()
    {
        // A receiver down for longer than the retention window (about 9 s here): the events erased meanwhile are never
        // sent, and the webhook says which. Until 2026-12-07 only the silo's log did (warning 3104).
        using var gateway = WithShortRetention();
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        using var admin = gateway.AdminClient();
        await using var receiver = await WebhookReceiver.StartAsync();
        var up = 0;
        var delivered = new ConcurrentDictionary<long, bool>();
        receiver.RespondWith(r =>
        {
            if (Volatile.Read(ref up) == 0)
            {
                return WebhookResponse.Status(503);
            }

            delivered[JsonNode.Parse(r.BodyText)!["sequence"]!.GetValue<long>()] = true;
            return WebhookResponse.Ok;
        });
        using (var set = await admin.PutAsJsonAsync($"/admin/tenants/{tenant.TenantId}/webhook", new { url = receiver.Url.ToString() }))
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        }

        // More than a page of events (16 a page; only sealed pages are erased), then writes past the window until the
        // oldest page is gone.
        foreach (var batch in Enumerable.Range(0, 40).Chunk(20))
        {
            await Task.WhenAll(batch.Select(i => scim.CreateUserAsync($"down{i}@contoso.com")));
        }

        await WriteUntilTheOldestPageIsErasedAsync(scim, admin, tenant.TenantId, "later");

        // The receiver is back: the webhook catches up with the feed's end.
        Interlocked.Exchange(ref up, 1);
        var end = long.Parse((await admin.GetFromJsonAsync<JsonObject>($"/admin/tenants/{tenant.TenantId}/events?limit=1000"))!["nextCursor"].Str(), CultureInfo.InvariantCulture);
        JsonObject webhook = null!;
        await Eventually.TrueAsync(async () =>
        {
            webhook = (await admin.GetFromJsonAsync<JsonObject>($"/admin/tenants/{tenant.TenantId}/webhook"))!;
            return long.Parse(webhook["cursor"].Str(), CultureInfo.InvariantCulture) >= end;
        }, seconds: 60, what: "the webhook caught up");

        // Every event is delivered, parked or listed as expired, exactly one of them; the expired ones were never sent.
        var expired = webhook["expired"]!.AsArray()
            .SelectMany(x => Sequences(long.Parse(x!["after"].Str(), CultureInfo.InvariantCulture), long.Parse(x["through"].Str(), CultureInfo.InvariantCulture)))
            .ToList();
        Assert.NotEmpty(expired);
        Assert.Equal(
            webhook["expired"]!.AsArray().Sum(x => x!["count"]!.GetValue<long>()),
            expired.Count);
        var parked = webhook["parked"]!.AsArray().Select(p => p!["sequence"]!.GetValue<long>()).ToList();
        List<long> all = [.. expired, .. parked, .. delivered.Keys];
        Assert.Equal(Sequences(0, end), all.Order());

        static IEnumerable<long> Sequences(long after, long through)
        {
            for (var s = after + 1; s <= through; s++)
            {
                yield return s;
            }
        }
    }

    // A retention window (and webhook retry window) of about 9 seconds (0.0001 day), so the tests can wait it out.
    private static GatewayFactory WithShortRetention() =>
        GatewayFactory.With(new Dictionary<string, string?> { ["Events:RetentionDays"] = "0.0001", ["Events:WebhookRetryDays"] = "0.0001" });

    // Past the window (about 9 s), users named {prefix}{n} are created one by one until a cursor of 0 answers 410: each write
    // lets the log check its retention (at most once per tenth of the window).
    private static async Task WriteUntilTheOldestPageIsErasedAsync(HttpClient scim, HttpClient admin, string tenantId, string prefix)
    {
        await Task.Delay(TimeSpan.FromSeconds(10));
        for (var attempt = 0; ; attempt++)
        {
            await scim.CreateUserAsync($"{prefix}{attempt}@contoso.com");
            using var response = await admin.GetAsync($"/admin/tenants/{tenantId}/events?after=0");
            if (response.StatusCode == HttpStatusCode.Gone)
            {
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                return;
            }

            Assert.True(attempt < 60, "the expired pages were never erased");
            await Task.Delay(500);
        }
    }

    [Fact]
    public async Task ABacklogOfExpiredPagesIsErasedInShortPassesThatGoOnWithoutFurtherWrites()
    {
        using var gateway = WithShortRetention();
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        using var admin = gateway.AdminClient();

        // 21 pages of events (16 a page): more than one pass erases (16 pages, so that no prepare waits on more).
        foreach (var batch in Enumerable.Range(0, 21 * 16).Chunk(32))
        {
            await Task.WhenAll(batch.Select(i => scim.CreateUserAsync($"old{i}@contoso.com")));
        }

        await Task.Delay(TimeSpan.FromSeconds(10));

        // One write starts retention; the passes after the first go on by themselves, each moving the feed's start by at
        // most 16 pages, so the start is seen between where it was and where it ends.
        var log = gateway.Services.GetRequiredService<IGrainFactory>().GetGrain<IEventLogGrain>(GrainKeys.EventLog(tenant.TenantId));
        var starts = new SortedSet<long> { (await log.GetInfoAsync()).First };
        await scim.CreateUserAsync("new@contoso.com");
        await Eventually.TrueAsync(async () =>
        {
            var info = await log.GetInfoAsync();
            starts.Add(info.First);
            return info.Next - info.First <= 16; // the open page, the new event's, is never erased
        }, seconds: 60, what: "every expired page erased");
        Assert.True(starts.Count >= 3, $"the feed's start went {string.Join(" → ", starts)}: in one pass");

        var left = await admin.GetFromJsonAsync<JsonObject>($"/admin/tenants/{tenant.TenantId}/events?limit=1000");
        Assert.Contains("new@contoso.com", left!["data"]!.AsArray().Select(e => e!["data"]!["userName"].Str()));
    }
}
