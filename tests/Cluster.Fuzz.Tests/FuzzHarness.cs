using System.Globalization;

namespace Cluster.Fuzz.Tests;

/// <summary>
/// Sends one generated request and checks the invariants of issue 11, "nothing a client sends can break the cluster":
/// <list type="number">
/// <item>never a 5xx, and every error in the surface's format (<see cref="ErrorContract"/>);</item>
/// <item>on any 4xx the fuzzed tenant's state is unchanged (<see cref="TenantSnapshot"/> before and after);</item>
/// <item>the other tenant's state never changes, whatever the answer (isolation).</item>
/// </list>
/// A 2xx may change the tenant: its state after the request is the next baseline. Requests run one at a time (the
/// baselines would race otherwise).
/// </summary>
public sealed class FuzzHarness(FuzzCluster cluster, FuzzWorld world, ErrorContract errors) : IDisposable
{
    // A hang guard, not a performance threshold: a request that never answers fails with its name instead of a
    // blame-hang kill that names nothing.
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    private readonly HttpClient _client = cluster.CreateClient();
    private readonly SortedDictionary<int, int> _statuses = [];
    private readonly System.Diagnostics.Stopwatch _reading = new();
    private readonly SortedDictionary<string, int> _known = new(StringComparer.Ordinal);
    private TenantSnapshot? _baseline;
    private TenantSnapshot? _other;

    /// <summary>How many requests got each status.</summary>
    public string Statuses => string.Join(", ", _statuses.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Key}: {s.Value}")));

    /// <summary>How many requests succeeded (a surface where none does is not being tested).</summary>
    public int Successes => _statuses.Where(s => s.Key < 300).Sum(s => s.Value);

    public int Total => _statuses.Values.Sum();

    /// <summary>How often each known, reported bug (<see cref="KnownFailures"/>) was seen instead of failing the run.</summary>
    public string Known => string.Join("; ", _known.Select(k => string.Create(CultureInfo.InvariantCulture, $"{k.Value}× {k.Key}")));

    /// <summary>Time spent reading tenants' state (the rest is requests and generation).</summary>
    public TimeSpan Reading => _reading.Elapsed;

    /// <summary>Sends <paramref name="request"/> and throws <see cref="InvariantViolationException"/> when an invariant fails.</summary>
    public async Task CheckAsync(FuzzRequest request)
    {
        try
        {
            if (await world.TopUpAsync())
            {
                _baseline = null;
            }

            _baseline ??= await SettledAsync();
            _other ??= await ReadOtherAsync();
            world.Observe(_baseline);

            using var message = request.ToMessage();
            using var timeout = new CancellationTokenSource(HangGuard);
            HttpResponseMessage response;
            try
            {
                response = await _client.SendAsync(message, timeout.Token);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                throw new InvariantViolationException($"no response within {HangGuard.TotalSeconds} s (a hang)");
            }

            using (response)
            {
                var body = await response.Content.ReadAsStringAsync();
                var status = (int)response.StatusCode;
                _statuses[status] = _statuses.GetValueOrDefault(status) + 1;

                string Answer() => $"{status} {response.Content.Headers.ContentType}\n{(body.Length > 2000 ? body[..2000] + "…" : body)}";
                if (errors.Violation(request, response, body) is { } violation)
                {
                    // A known, reported bug is counted, and the state is still checked; anything else fails.
                    var bug = KnownFailures.Explain(request, status, violation)
                        ?? throw new InvariantViolationException($"{violation}\nresponse: {Answer()}");
                    _known[bug] = _known.GetValueOrDefault(bug) + 1;
                }

                var after = status < 400 ? await SettledAsync() : await ReadAsync(world.Tenant.TenantId);
                if (status >= 400 && after.DifferenceFrom(_baseline) is { } change)
                {
                    throw new InvariantViolationException($"a {status} changed the tenant's state\nresponse: {Answer()}\n{change}");
                }

                var other = await ReadOtherAsync();
                if (other.DifferenceFrom(_other) is { } leak)
                {
                    throw new InvariantViolationException($"a request to another tenant changed this one\nresponse: {Answer()}\n{leak}");
                }

                _baseline = after;
                world.Observe(after);
            }
        }
        catch
        {
            // The failed request may have changed anything: start the next one from a fresh reading.
            (_baseline, _other) = (null, null);
            throw;
        }
    }

    public void Dispose() => _client.Dispose();

    // The other tenant holds only what SeedAsync gave it (nothing else may create anything there): reading just that,
    // and its tokens, is enough to see a leak and much cheaper than walking its directory after every request.
    private Task<TenantSnapshot> ReadOtherAsync() => ReadAsync(world.Other.TenantId, [world.OtherUserId], [world.OtherGroupId]);

    private async Task<TenantSnapshot> ReadAsync(string tenantId, IReadOnlyList<string>? userIds = null, IReadOnlyList<string>? groupIds = null)
    {
        _reading.Start();
        try
        {
            return await TenantSnapshot.ReadAsync(cluster.Grains, tenantId, userIds, groupIds);
        }
        finally
        {
            _reading.Stop();
        }
    }

    // A 2xx may leave work in flight (one-way calls such as a deleted member telling its groups): read until two
    // readings agree, so the next request is judged against settled state.
    private async Task<TenantSnapshot> SettledAsync()
    {
        var tenantId = world.Tenant.TenantId;
        var last = await ReadAsync(tenantId);
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var next = await ReadAsync(tenantId);
            if (next.Digest == last.Digest)
            {
                return next;
            }

            last = next;
            await Task.Delay(10);
        }

        throw new InvariantViolationException($"tenant {tenantId} did not settle: it kept changing after the request had been answered");
    }
}

/// <summary>An invariant the response or the state after it broke; the message says which and shows the evidence.</summary>
public sealed class InvariantViolationException(string message) : Exception(message);

