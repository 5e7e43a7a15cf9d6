using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Abstractions;
using Cluster.Gateway.RequestLog;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Tests;

/// <summary>
/// Issue 14's provisioning log through the real pipeline: Entra-like traffic appears newest first with its operation, status,
/// SCIM error and the one name an admin recognises; nothing else the client sent — no body, token or attribute value — is ever
/// stored; a 401 only for an existing tenant, at most once a second, never "connecting" it (a 403 of a suspended tenant is logged); paging, filters, input checks; the status; drops when the
/// buffer is full; the log switched off.
/// </summary>
public sealed class RequestLogTests(RequestLogTests.Factory factory) : IClassFixture<RequestLogTests.Factory>
{
    private const string ProbeGuid = "71e3b2a8-6f2c-4c1e-9a55-0c6f3f1b2f10";

    private readonly GatewayFactory _gateway = factory.Gateway;

    [Fact]
    public async Task EntraTrafficIsLoggedNewestFirstWithOperationStatusErrorAndName()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var sent = new List<(string Operation, int Status, string? Type)>();
        async Task<JsonObject?> Send(HttpMethod method, string path, string? body, HttpStatusCode status, string operation, string? type)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : ScimTestClient.Body(body) };
            using var response = await scim.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, $"{method} {path}: {(int)response.StatusCode} {text}");
            sent.Add((operation, (int)status, type));
            return text.Length == 0 ? null : JsonNode.Parse(text) as JsonObject;
        }

        // Test Connection, then Entra's user cycle: match, create, duplicate, match, read, update, disable, enable.
        await Send(HttpMethod.Get, $"Users?filter=userName+eq+%22{ProbeGuid}%22", null, HttpStatusCode.OK, "lookup", "User");
        await Send(HttpMethod.Get, ScimTestClient.UsersFilter("userName eq \"ada@contoso.test\""), null, HttpStatusCode.OK, "lookup", "User");
        var ada = (await Send(HttpMethod.Post, "Users", EntraPayloads.CreateUser("ada@contoso.test", "ext-ada", "ada.work@contoso.test"), HttpStatusCode.Created, "create", "User"))!;
        var adaId = ada["id"].Str();
        await Send(HttpMethod.Post, "Users", EntraPayloads.CreateUser("ADA@contoso.test", "ext-ada-2", "ada.other@contoso.test"), HttpStatusCode.Conflict, "create", "User");
        await Send(HttpMethod.Get, ScimTestClient.UsersFilter("userName eq \"ada@contoso.test\""), null, HttpStatusCode.OK, "lookup", "User");
        await Send(HttpMethod.Get, $"Users/{adaId}", null, HttpStatusCode.OK, "lookup", "User");
        await Send(HttpMethod.Patch, $"Users/{adaId}", EntraPayloads.PatchDefaultDialect("ada.new@contoso.test", "Lovelace", "E-1", "Addie"), HttpStatusCode.OK, "update", "User");
        await Send(HttpMethod.Patch, $"Users/{adaId}", EntraPayloads.SetActive("Replace", "\"False\""), HttpStatusCode.OK, "disable", "User");
        await Send(HttpMethod.Patch, $"Users/{adaId}", EntraPayloads.SetActive("replace", "true"), HttpStatusCode.OK, "enable", "User");

        // A 400 with its scimType and detail.
        await Send(HttpMethod.Post, "Users", """{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"active":true}""", HttpStatusCode.BadRequest, "create", "User");

        // Groups: create, match (as Entra: without members), membership in both dialects, rename.
        var group = (await Send(HttpMethod.Post, "Groups", """{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Sales Team"}""", HttpStatusCode.Created, "create", "Group"))!;
        var groupId = group["id"].Str();
        await Send(HttpMethod.Get, "Groups?excludedAttributes=members&filter=displayName+eq+%22Sales+Team%22", null, HttpStatusCode.OK, "lookup", "Group");
        await Send(HttpMethod.Patch, $"Groups/{groupId}", EntraPayloads.Patch($$"""{"op":"Add","path":"members","value":[{"$ref":null,"value":"{{adaId}}"}]}"""), HttpStatusCode.NoContent, "membership", "Group");
        await Send(HttpMethod.Patch, $"Groups/{groupId}", EntraPayloads.Patch($$"""{"op":"remove","path":"members[value eq \"{{adaId}}\"]"}"""), HttpStatusCode.NoContent, "membership", "Group");
        await Send(HttpMethod.Patch, $"Groups/{groupId}", EntraPayloads.Patch("""{"op":"Replace","path":"displayName","value":"Sales"}"""), HttpStatusCode.NoContent, "update", "Group");

        // Deletes, a second delete (404), an unknown endpoint (authenticated: 404 SCIM error).
        await Send(HttpMethod.Delete, $"Users/{adaId}", null, HttpStatusCode.NoContent, "delete", "User");
        await Send(HttpMethod.Delete, $"Users/{adaId}", null, HttpStatusCode.NotFound, "delete", "User");
        await Send(HttpMethod.Get, "NoSuchEndpoint", null, HttpStatusCode.NotFound, "other", null);

        await FlushAsync();
        var entries = await ReadAllAsync(tenant.TenantId, 200);
        Assert.Equal(sent.Count, entries.Count);
        entries.Reverse();
        Assert.Equal(sent, entries.Select(e => (e["operation"].Str(), e["status"]!.GetValue<int>(), e["resourceType"]?.GetValue<string>())));
        Assert.Equal(entries.Select(e => e["sequence"]!.GetValue<long>()).Order(), entries.Select(e => e["sequence"]!.GetValue<long>()));
        Assert.All(entries, e => Assert.True(DateTimeOffset.Parse(e["at"].Str(), System.Globalization.CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow.AddMinutes(-5)));
        Assert.All(entries, e => Assert.True(e["durationMs"]!.GetValue<double>() >= 0));
        Assert.All(entries, e => Assert.False(string.IsNullOrEmpty(e["requestId"]?.GetValue<string>())));

        // The probe alone is Test Connection; a lookup that found nothing has no resource.
        Assert.True(entries[0]["testConnection"]!.GetValue<bool>());
        Assert.All(entries.Skip(1), e => Assert.False(e["testConnection"]!.GetValue<bool>()));
        Assert.Null(entries[0]["resourceId"]);
        Assert.Null(entries[1]["name"]);

        // Names come from what was answered: the created user, the one the filter found, the user read and patched.
        foreach (var i in new[] { 2, 4, 5, 6, 7, 8 })
        {
            Assert.Equal((adaId, "ada@contoso.test"), (entries[i]["resourceId"]?.GetValue<string>(), entries[i]["name"]?.GetValue<string>()));
        }

        // 409 and 400: the error Entra got; no name (the answer showed none).
        Assert.Equal(("uniqueness", (string?)null, (string?)null), (entries[3]["scimType"]?.GetValue<string>(), entries[3]["name"]?.GetValue<string>(), entries[3]["resourceId"]?.GetValue<string>()));
        Assert.Contains("userName", entries[3]["detail"].Str(), StringComparison.Ordinal);
        Assert.Equal("invalidValue", entries[9]["scimType"].Str());
        Assert.Equal("Required attribute 'userName' is missing.", entries[9]["detail"].Str());

        // Groups: the displayName answered, also for the 204 membership PATCHes (the group the grain answered); the rename shows the new name.
        Assert.Equal([(groupId, "Sales Team"), (groupId, "Sales Team"), (groupId, "Sales Team"), (groupId, "Sales Team"), (groupId, "Sales")],
            entries.Skip(10).Take(5).Select(e => (e["resourceId"].Str(), e["name"].Str())));

        // The delete has the id from its route and no name (a 204 shows none); the second is a 404 with its detail.
        Assert.Equal((adaId, (string?)null), (entries[15]["resourceId"].Str(), entries[15]["name"]?.GetValue<string>()));
        Assert.Equal($"User {adaId} not found.", entries[16]["detail"].Str());
        Assert.Null(entries[17]["resourceId"]);

        var status = await StatusAsync(tenant.TenantId);
        Assert.True(status["connected"]!.GetValue<bool>());
        Assert.Equal(entries[0]["at"].Str(), status["lastTestConnectionAt"].Str());
        Assert.Equal(entries[^1]["at"].Str(), status["lastRequestAt"].Str());
        Assert.Equal(entries[^1]["sequence"]!.GetValue<long>(), status["lastError"]!["sequence"]!.GetValue<long>());
        Assert.Equal(0, status["droppedLogEntries"]!.GetValue<long>());
    }

    [Fact]
    public async Task NoTokenBodyOrAttributeValueButTheOneNameIsEverStored()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var body = EntraPayloads.CreateUserWithEnterprise("grace@contoso.test", "ext-grace-4711", "grace.secret-mail@contoso.test", "EMP-99881", "Dept-Quantum");
        var grace = await scim.PostUserAsync(body.Replace("\"givenName\"}", "\"Gracie-Given\"}", StringComparison.Ordinal));
        var id = grace["id"].Str();
        string[] requests =
        [
            $"GET Users?filter={Uri.EscapeDataString("externalId eq \"ext-grace-4711\"")}",
            $"GET Users?filter={Uri.EscapeDataString("emails[type eq \"work\"].value eq \"grace.secret-mail@contoso.test\"")}",
            $"GET Users?filter={Uri.EscapeDataString("userName eq \"grace@contoso.test\" and nickName-secret eq \"Filter-Literal-123\"")}",
            $"GET Users?filter={Uri.EscapeDataString("userName eq Unquoted-Secret-777 garbage-word")}",
            $"GET Users?filter={Uri.EscapeDataString("userName eq \"Unterminated-Secret")}",
            $"GET Users/{Uri.EscapeDataString("leaked.id@contoso.test")}",
            $"PATCH Users/{id} " + EntraPayloads.Patch("""{"op":"Replace","path":"emails[value eq \"Path-Literal-Secret\"].bogus","value":"Patch-Value-Secret"}"""),
            $"PATCH Users/{id} " + EntraPayloads.Patch("""{"op":"Replace","path":"phoneNumbers[type eq \"work\"].value","value":"+1-555-0199-SECRET"}"""),
            $"PATCH Users/{id} " + EntraPayloads.Patch("""{"op":"add","value":{"Secret-Key-Name":"Secret-Key-Value"}}"""),
            $"POST Users " + """{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"grace@contoso.test","title":"Title-Secret-Conflict"}""",
            $"POST Users/.search " + """{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"Search-Member-Secret":1}""",
            $"PATCH Users/{id} " + EntraPayloads.Patch("""{"op":"Replace","path":"displayName","value":"Display-Name-Secret"}"""),

            // Quotes inside the client's text cannot end our quotation early and leave the rest outside it.
            $"GET Users?filter={Uri.EscapeDataString("\"Quote-Start\\\" Escaped-Quote-Secret\" eq \"x\"")}",
            $"PATCH Users/{id} " + EntraPayloads.Patch("""{"op":"Replace","path":"o'Apostrophe-Secret' and 'Unbalanced-Secret","value":"x"}"""),
        ];
        foreach (var line in requests)
        {
            var parts = line.Split(' ', 3);
            using var request = new HttpRequestMessage(new HttpMethod(parts[0]), parts[1]) { Content = parts.Length > 2 ? ScimTestClient.Body(parts[2]) : null };
            using var response = await scim.SendAsync(request);
            Assert.True((int)response.StatusCode < 500, line);
        }

        // A refused credential of an existing tenant is logged as a bare 401: no token, nothing of the request.
        var wrongToken = "scim_Wrong-Token-Secret-" + new string('q', 30);
        using (var stranger = _gateway.ScimClient(tenant, wrongToken))
        using (var refused = await stranger.GetAsync("Users?filter=userName+eq+%22Unauthorized-Filter-Secret%22"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        await FlushAsync();
        var entries = await ReadAllAsync(tenant.TenantId, 200);
        Assert.Equal(requests.Length + 2, entries.Count);
        var refusal = entries[0];
        Assert.Equal((401, RequestLogCapture.RefusedDetail), (refusal["status"]!.GetValue<int>(), refusal["detail"].Str()));
        Assert.Null(refusal["resourceId"]);
        Assert.Null(refusal["name"]);

        // What is stored (the head row and every page row the probe saw written) and what the API shows.
        var stored = JsonSerializer.Serialize(StorageProbe.LastWrittenState(GrainKeys.RequestLog(tenant.TenantId), "requests"))
            + string.Concat(Enumerable.Range(0, 4).Select(p => JsonSerializer.Serialize(StorageProbe.LastWrittenState(GrainKeys.RequestLogPage(tenant.TenantId, p), "page"))));
        var shown = string.Join("\n", entries.Select(e => e.ToJsonString()));
        foreach (var text in new[] { stored, shown })
        {
            Assert.Contains("grace@contoso.test", text, StringComparison.Ordinal);
            foreach (var secret in new[]
            {
                tenant.Token, wrongToken, "Wrong-Token-Secret", "ext-grace-4711", "grace.secret-mail", "EMP-99881", "Dept-Quantum", "Gracie-Given",
                "Filter-Literal-123", "nickName-secret", "Unquoted-Secret-777", "garbage-word", "Unterminated-Secret", "leaked.id", "Path-Literal-Secret", "Patch-Value-Secret",
                "555-0199", "Secret-Key-Name", "Secret-Key-Value", "Title-Secret-Conflict", "Search-Member-Secret", "Display-Name-Secret", "Unauthorized-Filter-Secret",
                "schemas\":[", "PatchOp", "Quote-Start", "Escaped-Quote-Secret", "Apostrophe-Secret", "Unbalanced-Secret",
            })
            {
                Assert.DoesNotContain(secret, text, StringComparison.OrdinalIgnoreCase);
            }
        }

        // The details still say what went wrong, without what the client named.
        Assert.Contains(entries, e => e["detail"]?.GetValue<string>() is "Unknown attribute '…'.");
        Assert.Contains(entries, e => e["scimType"]?.GetValue<string>() == "invalidFilter" && e["detail"]!.GetValue<string>().StartsWith("Invalid filter", StringComparison.Ordinal));
        Assert.Contains(entries, e => e["detail"]?.GetValue<string>() == "User … not found.");
    }

    [Fact]
    public async Task ASuspendedTenantsRefusedCallsAreLoggedAndRefusedCredentialsAtMostOnceASecondWithoutConnectingIt()
    {
        var tenant = await _gateway.CreateTenantAsync();
        var other = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        using (var missing = _gateway.ScimClient(tenant))
        {
            missing.DefaultRequestHeaders.Authorization = null;
            Assert.Equal(HttpStatusCode.Unauthorized, (await missing.GetAsync("Users")).StatusCode);
        }

        // Another tenant's token on this tenant's route, ten times in a row: logged at most once a second, and never "connected".
        var burst = Stopwatch.StartNew();
        using (var othersToken = _gateway.ScimClient(tenant, other.Token))
        {
            for (var i = 0; i < 10; i++)
            {
                Assert.Equal(HttpStatusCode.Unauthorized, (await othersToken.GetAsync("Users")).StatusCode);
            }
        }

        var seconds = (int)Math.Ceiling(burst.Elapsed.TotalSeconds);
        await FlushAsync();
        var refusals = await ReadAllAsync(tenant.TenantId, 50);
        Assert.InRange(refusals.Count, 1, seconds + 1);
        Assert.All(refusals, e => Assert.Equal((401, RequestLogCapture.RefusedDetail), (e["status"]!.GetValue<int>(), e["detail"].Str())));
        var unconnected = await StatusAsync(tenant.TenantId);
        Assert.False(unconnected["connected"]!.GetValue<bool>());
        Assert.Equal(401, unconnected["lastError"]!["status"]!.GetValue<int>());

        var grain = _gateway.Services.GetRequiredService<IGrainFactory>().GetGrain<ITenantGrain>(GrainKeys.Tenant(tenant.TenantId));
        await grain.UpdateAsync(null, suspended: true);
        using (var refused = await scim.GetAsync("Users"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        await FlushAsync();
        var entry = (await ReadAllAsync(tenant.TenantId, 50))[0];
        Assert.Equal(refusals.Count + 1, (await ReadAllAsync(tenant.TenantId, 50)).Count);
        Assert.Equal((403, "lookup"), (entry["status"]!.GetValue<int>(), entry["operation"].Str()));
        Assert.Contains("suspended", entry["detail"].Str(), StringComparison.Ordinal);
        Assert.Empty(await ReadAllAsync(other.TenantId, 50));
        Assert.False((await StatusAsync(other.TenantId))["connected"]!.GetValue<bool>());
    }

    [Fact]
    public async Task PagesWalkTheLogNewestFirstAndFiltersSelectByOutcomeAndResource()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var bob = (await scim.CreateUserAsync("bob@paging.test"))["id"].Str();
        for (var i = 0; i < 150; i++)
        {
            using var response = await scim.GetAsync(i % 3 == 0 ? $"Users/{bob}" : i % 3 == 1 ? $"Users/{GrainKeys.NewResourceId()}" : ScimTestClient.UsersFilter($"userName eq \"x{i}@paging.test\""));
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound);
        }

        await FlushAsync();
        var all = await ReadAllAsync(tenant.TenantId, 37);
        Assert.Equal(151, all.Count);
        var sequences = all.Select(e => e["sequence"]!.GetValue<long>()).ToList();
        Assert.Equal(sequences.OrderDescending(), sequences);
        Assert.Equal(151, sequences.Distinct().Count());

        var errors = await ReadAllAsync(tenant.TenantId, 200, "&outcome=error");
        Assert.Equal(50, errors.Count);
        Assert.All(errors, e => Assert.Equal(404, e["status"]!.GetValue<int>()));
        Assert.Equal(errors.Select(e => e.ToJsonString()), (await ReadAllAsync(tenant.TenantId, 200, "&outcome=4XX")).Select(e => e.ToJsonString()));
        Assert.Equal(101, (await ReadAllAsync(tenant.TenantId, 200, "&outcome=success")).Count);
        Assert.Empty(await ReadAllAsync(tenant.TenantId, 200, "&outcome=5xx"));
        var bobs = await ReadAllAsync(tenant.TenantId, 10, $"&resourceId={bob}");
        Assert.Equal(51, bobs.Count);
        Assert.All(bobs, e => Assert.Equal(bob, e["resourceId"].Str()));
        Assert.Equal(("create", "bob@paging.test"), (bobs[^1]["operation"].Str(), bobs[^1]["name"].Str()));

        // Every input is checked.
        using var admin = _gateway.AdminClient();
        foreach (var query in new[] { "limit=0", "limit=201", "limit=abc", "limit=1&limit=2", "after=x", "after=-1", "after=1.5", "outcome=fine", "outcome=2XXX", "resourceId=a%20b", "resourceId=" + new string('a', 65), "resourceId=..%2F.." })
        {
            using var response = await admin.GetAsync($"/admin/tenants/{tenant.TenantId}/requests?{query}");
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, query);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        foreach (var path in new[] { $"/admin/tenants/{GrainKeys.NewTenantId()}/requests", $"/admin/tenants/{GrainKeys.NewTenantId()}/status", "/admin/tenants/no..such/status" })
        {
            using var response = await admin.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, path);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        using (var noKey = _gateway.CreateClient())
        using (var refused = await noKey.GetAsync($"/admin/tenants/{tenant.TenantId}/requests"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
    }

    [Fact]
    public async Task TheStatusShowsConnectionUsersActiveAndDisabledGroupsAndTheLastError()
    {
        var tenant = await _gateway.CreateTenantAsync();
        var fresh = await StatusAsync(tenant.TenantId);
        Assert.Equal(tenant.TenantId, fresh["tenantId"].Str());
        Assert.False(fresh["connected"]!.GetValue<bool>());
        Assert.All(new[] { "lastRequestAt", "lastTestConnectionAt", "lastSuccessAt", "lastError" }, key => Assert.Null(fresh[key]));
        Assert.Equal((0, 0, 0, 0), Counts(fresh));

        using var scim = _gateway.ScimClient(tenant);
        var ids = new List<string>();
        foreach (var name in new[] { "u1@status.test", "u2@status.test", "u3@status.test" })
        {
            ids.Add((await scim.CreateUserAsync(name))["id"].Str());
        }

        using (await scim.PatchUserAsync(ids[0], EntraPayloads.SetActive("Replace", "\"False\"")))
        using (await scim.PatchUserAsync(ids[1], EntraPayloads.SetActive("Replace", "\"False\"")))
        using (await scim.PatchUserAsync(ids[1], EntraPayloads.SetActive("Replace", "\"True\"")))
        using (await scim.PostAsync("Groups", ScimTestClient.Body("""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Status Group"}""")))
        using (var conflict = await scim.PostAsync("Users", ScimTestClient.Body(EntraPayloads.MinimalUser("u1@status.test"))))
        {
            Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        }

        await FlushAsync();
        var status = await StatusAsync(tenant.TenantId);
        Assert.True(status["connected"]!.GetValue<bool>());
        Assert.Null(status["lastTestConnectionAt"]);
        Assert.Equal((3, 2, 1, 1), Counts(status));
        var error = status["lastError"]!;
        Assert.Equal((409, "uniqueness", "create", "User"), (error["status"]!.GetValue<int>(), error["scimType"].Str(), error["operation"].Str(), error["resourceType"].Str()));
        Assert.True(DateTimeOffset.Parse(status["lastSuccessAt"].Str(), System.Globalization.CultureInfo.InvariantCulture) <= DateTimeOffset.Parse(status["lastRequestAt"].Str(), System.Globalization.CultureInfo.InvariantCulture));

        // Deleting the disabled user leaves two active; a probe is the last Test Connection.
        using (await scim.DeleteAsync($"Users/{ids[0]}"))
        using (await scim.GetAsync($"Users?filter=userName+eq+%22{Guid.NewGuid():N}%22"))
        {
        }

        await FlushAsync();
        status = await StatusAsync(tenant.TenantId);
        Assert.Equal((2, 2, 0, 1), Counts(status));
        Assert.Equal(status["lastRequestAt"].Str(), status["lastTestConnectionAt"].Str());
    }

    [Fact]
    public async Task AFullBufferDropsAndCountsEntriesWithoutSlowingRequests()
    {
        // A flush every minute: nothing is written while the buffer (the smallest allowed) fills.
        await using var gateway = GatewayFactory.With(new Dictionary<string, string?>
        {
            ["Portal:RequestLogBufferSize"] = "100",
            ["Portal:RequestLogFlushSeconds"] = "60",
            ["RateLimits:Default:PermitsPerSecond"] = "0",
        });
        var tenant = await gateway.CreateTenantAsync();

        // This gateway's drops only (its meters come from its own factory).
        var meters = gateway.Services.GetRequiredService<IMeterFactory>();
        using var listener = new MeterListener();
        long dropped = 0;
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "scim.requestlog.dropped" && ReferenceEquals(instrument.Meter.Scope, meters))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            if (tags.ToArray().Contains(new KeyValuePair<string, object?>("reason", RequestLogInstruments.Reasons.BufferFull)))
            {
                Interlocked.Exchange(ref dropped, value); // an observable counter: the total so far
            }
        });
        listener.Start();
        using var scim = gateway.ScimClient(tenant);
        for (var i = 0; i < 130; i++)
        {
            using var response = await scim.GetAsync($"Users/{GrainKeys.NewResourceId()}");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        Assert.Equal(100, gateway.Services.GetRequiredService<RequestLogBuffer>().Count);
        listener.RecordObservableInstruments();
        Assert.Equal(30, Interlocked.Read(ref dropped));
        await gateway.Services.GetRequiredService<RequestLogWriter>().FlushAsync();
        Assert.Equal(100, (await ReadAllAsync(gateway, tenant.TenantId, 200, "")).Count);
        Assert.Equal(30, (await StatusAsync(gateway, tenant.TenantId))["droppedLogEntries"]!.GetValue<long>());
    }

    [Fact]
    public async Task EntriesOfAFlushThatFailsAreCountedAsDroppedByTheNextOne()
    {
        // Delivery is at most once, but a loss is told: until 2026-12-07 a failed flush's entries (and the drop count it
        // carried) vanished, so the Status page showed no gap in exactly the outages that made one.
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);

        // Every flush fails while the requests are made, the writer's own (every second) as well as ours: whichever of them
        // carries an entry, it fails, and the next one counts it.
        var log = GrainKeys.RequestLog(tenant.TenantId);
        StorageProbe.FailNextWrites(log, int.MaxValue);
        try
        {
            for (var i = 0; i < 3; i++)
            {
                using var response = await scim.GetAsync($"Users/{GrainKeys.NewResourceId()}");
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            }

            await FlushAsync();
        }
        finally
        {
            StorageProbe.FailNextWrites(log, 0);
        }

        await FlushAsync();

        Assert.Equal(3, (await StatusAsync(tenant.TenantId))["droppedLogEntries"]!.GetValue<long>());
        Assert.Empty(await ReadAllAsync(tenant.TenantId, 50));
    }

    [Fact]
    public async Task TheBufferHoldsEntriesOfBoundedSizeWhateverTheClientSends()
    {
        // The buffer's bound is a number of entries; each must stay small however long the texts a client makes us echo:
        // a 100,000-character PATCH op (its detail quotes it, and redaction keeps words of the vocabulary) and a long userName.
        await using var gateway = GatewayFactory.With(new Dictionary<string, string?> { ["Portal:RequestLogFlushSeconds"] = "60" });
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        var user = await scim.CreateUserAsync(new string('n', 5_000) + "@contoso.test");
        var op = string.Join(' ', Enumerable.Repeat("add", 25_000));
        using (var refused = await scim.PatchAsync($"Users/{user["id"].Str()}", ScimTestClient.Body(
            $$"""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"{{op}}","path":"title","value":"x"}]}""")))
        {
            await refused.ExpectScimErrorAsync(HttpStatusCode.BadRequest);
        }

        // A method of the client's own making, on a refused request (logged without a credential): stored as OTHER, never as
        // sent (until 2026-12-07 its 4,000 characters reached the log and the Status page).
        using (var odd = new HttpRequestMessage(new HttpMethod("CALL-US-" + new string('X', 4_000)), "Users"))
        {
            odd.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "scim_not-the-tenants-token");
            using var refusedOdd = await scim.SendAsync(odd);
            Assert.Equal(HttpStatusCode.Unauthorized, refusedOdd.StatusCode);
        }

        var entries = gateway.Services.GetRequiredService<RequestLogBuffer>().Drain().Single(t => t.TenantId == tenant.TenantId).Entries;
        Assert.Contains(entries, e => e.Status == 401 && e.Method == "OTHER");
        Assert.All(entries, e => Assert.Contains(e.Method, new[] { "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "OTHER" }));
        Assert.Contains(entries, e => e.Status == 201 && e.Name?.Length == RequestLogEntry.MaxNameLength);
        Assert.Contains(entries, e => e.Status == 400 && e.Detail?.Length == RequestLogEntry.MaxDetailLength);
        Assert.All(entries, e => Assert.True((e.Name?.Length ?? 0) <= RequestLogEntry.MaxNameLength && (e.Detail?.Length ?? 0) <= RequestLogEntry.MaxDetailLength));
    }

    [Fact]
    public async Task WithTheLogOffNothingIsRecorded()
    {
        await using var gateway = GatewayFactory.With(new Dictionary<string, string?> { ["Portal:RequestLog"] = "false" });
        var tenant = await gateway.CreateTenantAsync();
        using var scim = gateway.ScimClient(tenant);
        await scim.CreateUserAsync("off@contoso.test");
        await gateway.Services.GetRequiredService<RequestLogWriter>().FlushAsync();
        Assert.Empty(await ReadAllAsync(gateway, tenant.TenantId, 50, ""));
        Assert.False((await StatusAsync(gateway, tenant.TenantId))["connected"]!.GetValue<bool>());
        Assert.Equal(0, gateway.Services.GetRequiredService<RequestLogBuffer>().Count);
    }

    [Theory]
    [InlineData("Portal:LogRetentionDays", "0")]
    [InlineData("Portal:LogRetentionDays", "366")]
    [InlineData("Portal:RequestLogBufferSize", "10")]
    [InlineData("Portal:RequestLogFlushSeconds", "0")]
    public void InvalidSettingsStopTheGateway(string key, string value)
    {
        using var gateway = GatewayFactory.With(new Dictionary<string, string?> { [key] = value });
        var error = Assert.Throws<OptionsValidationException>(() => gateway.CreateClient());
        Assert.Contains(key.Split(':')[1], error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Required attribute 'userName' is missing.", null, "Required attribute 'userName' is missing.")]
    [InlineData("Invalid filter: unexpected 'jwong' at position 12.", null, "Invalid filter: unexpected '…' at position 12.")]
    [InlineData("Invalid filter: found string \"jo@x.test\" at 3.", null, "Invalid filter: found string \"…\" at 3.")]
    [InlineData("Invalid path 'emails[type eq \"work\"].value': bad", null, "Invalid path 'emails[type eq \"…\"].value': bad")]
    [InlineData("Invalid path 'emails[value eq \"a@b\"].x': bad", null, "Invalid path '…': bad")]
    [InlineData("Invalid value filter 'emails[value eq jo]'.", null, "Invalid value filter '…'.")]
    [InlineData("This tenant is suspended: its provisioning is paused by the service's operator.", null, "This tenant is suspended: its provisioning is paused by the service's operator.")]
    [InlineData("User jo@x.test not found.", "jo@x.test", "User … not found.")]
    [InlineData("Member '0190f3a2b4c5d6e7f8091a2b3c4d5e6f' is not a user or group of this tenant.", null, "Member '0190f3a2b4c5d6e7f8091a2b3c4d5e6f' is not a user or group of this tenant.")]
    [InlineData("'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber' must be a string, got \"12", null, "'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber' must be a string, got \"…")]
    [InlineData("Unknown attribute 'o\\'brien'.", null, "Unknown attribute '…'.")]
    [InlineData("Invalid filter: found string \"jo\\\" doe\" at 3.", null, "Invalid filter: found string \"…\" at 3.")]
    [InlineData("Unknown attribute 'back\\\\slash'.", null, "Unknown attribute '…'.")]
    [InlineData("Invalid path 'emails[value eq \"x\\\\\"SECRET TEXT\" zz]': found 'zz'.", null, "Invalid path '…': found '…'.")]
    [InlineData("Invalid path 'emails[type eq \"wo\\\\\"rk\"].value': bad", null, "Invalid path 'emails[type eq \"…\"].value': bad")]
    [InlineData("Unknown attribute 'ab\"c SECRET'.", null, "Unknown attribute '…'.")]
    [InlineData("Truncated 'name-cut", null, "Truncated '…")]
    public void DetailsKeepTheServersWordsAndSchemaNamesOnly(string detail, string? routeId, string expected) =>
        Assert.Equal(expected, new RequestLogRedaction(Cluster.Scim.Schema.ScimSchemas.ResourceTypes).Redact(detail, routeId));

    [Fact]
    public async Task AnAccessTokenOfARevokedClientIsLoggedAsARefusal()
    {
        var tenant = await _gateway.CreateTenantAsync();
        var client = await _gateway.CreateOAuthClientAsync(tenant);
        using var scim = _gateway.ScimClient(tenant, await _gateway.AccessTokenAsync(client));
        Assert.Equal(HttpStatusCode.OK, (await scim.GetAsync("Users")).StatusCode);
        using (var admin = _gateway.AdminClient())
        {
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/admin/tenants/{tenant.TenantId}/oauth-clients/{client.ClientId}")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await scim.GetAsync("Users")).StatusCode);
        await FlushAsync();
        var entries = await ReadAllAsync(tenant.TenantId, 50);
        Assert.Equal([401, 200], entries.Select(e => e["status"]!.GetValue<int>()));
        // It names the revoked client (the admin needs a new OAuth client, not a Secret Token); never the token.
        Assert.Equal(RequestLogCapture.RevokedClientDetail(client.ClientId), entries[0]["detail"].Str());
    }

    [Fact]
    public async Task ARefusedTokenRequestOfTheTenantsOAuthClientIsLoggedWithoutItsSecret()
    {
        // An admin whose Entra uses OAuth client credentials pastes a wrong secret: Test Connection fails at the token
        // endpoint, before any SCIM request. Until 2026-12-07 the provisioning log and the Status page showed nothing.
        var tenant = await _gateway.CreateTenantAsync();
        var client = await _gateway.CreateOAuthClientAsync(tenant);
        const string WrongSecret = "scims_Wrong-Client-Secret-0123456789abcdefghijklmnopqrstu";
        using var http = _gateway.CreateClient();
        using (var refused = await http.RequestTokenAsync(client, secret: WrongSecret))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        // A client id naming a tenant that does not exist is not logged anywhere (nobody to show it to).
        var stranger = client with { ClientId = OAuthClientIds.New(GrainKeys.NewTenantId()) };
        using (var unknown = await http.RequestTokenAsync(stranger))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        }

        await FlushAsync();
        var entry = Assert.Single(await ReadAllAsync(tenant.TenantId, 50));
        Assert.Equal(("POST", RequestLogOperations.Token, 401), (entry["method"].Str(), entry["operation"].Str(), entry["status"]!.GetValue<int>()));
        Assert.Contains(client.ClientId, entry["detail"].Str(), StringComparison.Ordinal);
        Assert.DoesNotContain("Wrong-Client-Secret", entry.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain(client.Secret, entry.ToJsonString(), StringComparison.Ordinal);

        // Never "connected"; the Status page's last error is that refusal.
        var status = await StatusAsync(tenant.TenantId);
        Assert.False(status["connected"]!.GetValue<bool>());
        Assert.Equal(RequestLogOperations.Token, status["lastError"]!["operation"].Str());

        // A made-up client id of this tenant, and a revoked client: not logged (no secret of an active client to mend; the
        // first is anyone's to make up). A second later, so that the once-a-second bound does not decide.
        using (var admin = _gateway.AdminClient())
        {
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/admin/tenants/{tenant.TenantId}/oauth-clients/{client.ClientId}")).StatusCode);
        }

        await Task.Delay(TimeSpan.FromSeconds(1.1));
        foreach (var other in new[] { client, client with { ClientId = OAuthClientIds.New(tenant.TenantId) } })
        {
            using var refused = await http.RequestTokenAsync(other);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        await FlushAsync();
        Assert.Single(await ReadAllAsync(tenant.TenantId, 50));
    }

    private Task FlushAsync() => _gateway.Services.GetRequiredService<RequestLogWriter>().FlushAsync();

    private Task<List<JsonObject>> ReadAllAsync(string tenantId, int limit, string filter = "") => ReadAllAsync(_gateway, tenantId, limit, filter);

    private Task<JsonObject> StatusAsync(string tenantId) => StatusAsync(_gateway, tenantId);

    /// <summary>Every entry, page after page (newest first).</summary>
    private static async Task<List<JsonObject>> ReadAllAsync(GatewayFactory gateway, string tenantId, int limit, string filter)
    {
        using var admin = gateway.AdminClient();
        var entries = new List<JsonObject>();
        string? cursor = null;
        for (var pages = 0; pages < 100; pages++)
        {
            var page = (await admin.GetFromJsonAsync<JsonObject>($"/admin/tenants/{tenantId}/requests?limit={limit}{filter}" + (cursor is null ? "" : $"&after={cursor}")))!;
            var data = page["data"]!.AsArray().Select(e => e!.AsObject()).ToList();
            Assert.True(data.Count <= limit);
            entries.AddRange(data);
            if (!page["hasMore"]!.GetValue<bool>())
            {
                Assert.Null(page["nextCursor"]);
                return entries;
            }

            cursor = page["nextCursor"].Str();
        }

        throw new InvalidOperationException("The log never ended.");
    }

    private static async Task<JsonObject> StatusAsync(GatewayFactory gateway, string tenantId)
    {
        using var admin = gateway.AdminClient();
        return (await admin.GetFromJsonAsync<JsonObject>($"/admin/tenants/{tenantId}/status"))!;
    }

    private static (int Total, int Active, int Disabled, int Groups) Counts(JsonObject status) =>
        (status["users"]!["total"]!.GetValue<int>(), status["users"]!["active"]!.GetValue<int>(), status["users"]!["disabled"]!.GetValue<int>(), status["groups"]!["total"]!.GetValue<int>());

    /// <summary>A gateway with a storage probe (to search what is stored) and no per-tenant rate limit.</summary>
    public sealed class Factory : IDisposable
    {
        public GatewayFactory Gateway { get; } = GatewayFactory.With(new Dictionary<string, string?>
        {
            ["RateLimits:Default:PermitsPerSecond"] = "0",
            ["Gateway:TokenCacheSeconds"] = "0",
        }).WithStorageProbe();

        public void Dispose() => Gateway.Dispose();
    }
}
