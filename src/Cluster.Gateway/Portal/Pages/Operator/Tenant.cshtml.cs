using System.Globalization;
using Cluster.Abstractions;
using Cluster.Gateway.Admin;
using Cluster.Gateway.Hosting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Cluster.Gateway.Portal.Pages.Operator;

/// <summary>
/// One tenant in the operator console: its setup links (created and shown once, revoked) and its webhook (settings,
/// delivery status, test, redelivery, removal), through the same operations as the admin API.
/// </summary>
public sealed class TenantModel(PortalTenant portal, IGrainFactory grains, IOptions<GatewayOptions> options, ILogger<TenantModel> logger) : ConsolePageModel
{
    [FromRoute]
    public string TenantId { get; set; } = "";

    public TenantInfo? Tenant { get; private set; }

    public WebhookInfo? Webhook { get; private set; }

    public IReadOnlyList<DeliveryAttempt> Deliveries { get; private set; } = [];

    /// <summary>A setup link just made: its URL is shown this once.</summary>
    public (string Url, DateTimeOffset ExpiresAt)? NewLink { get; private set; }

    /// <summary>A webhook secret just generated: shown this once.</summary>
    public string? NewWebhookSecret { get; private set; }

    /// <summary>The lifetime field as typed, kept when it was refused.</summary>
    public string ExpiresInMinutes { get; private set; } = SetupLinkEndpoints.DefaultMinutes.ToString(CultureInfo.InvariantCulture);

    /// <summary>The webhook URL field as typed, kept when it was refused.</summary>
    public string? WebhookUrl { get; private set; }

    public Task<IActionResult> OnGetAsync() => RenderAsync();

    public async Task<IActionResult> OnPostCreateLinkAsync(string? expiresInMinutes)
    {
        ExpiresInMinutes = expiresInMinutes?.Trim() ?? "";
        if (!int.TryParse(ExpiresInMinutes, NumberStyles.None, CultureInfo.InvariantCulture, out var minutes) || SetupLinkEndpoints.LifetimeError(minutes) is not null)
        {
            return await RefuseAsync(SetupLinkEndpoints.LifetimeError(-1)!);
        }

        if (await portal.LoadAsync(TenantId) is null)
        {
            return NotFound();
        }

        if (await SetupLinkEndpoints.CreateLinkAsync(grains, TenantId, minutes, logger) is not { } link)
        {
            return await RefuseAsync(SetupLinkEndpoints.TooManyLinks, StatusCodes.Status409Conflict);
        }

        NewLink = (SetupLinkEndpoints.Url(Request, options, TenantId, link.Secret), link.ExpiresAt);
        return await RenderAsync();
    }

    public async Task<IActionResult> OnPostRevokeLinksAsync()
    {
        if (await portal.LoadAsync(TenantId) is null)
        {
            return NotFound();
        }

        var revoked = await SetupLinkEndpoints.RevokeLinksAsync(grains, TenantId, logger);
        return await SayAsync(revoked == 1 ? "1 setup link is revoked: its sessions end within seconds." : $"{revoked} setup links are revoked: their sessions end within seconds.");
    }

    public async Task<IActionResult> OnPostSetWebhookAsync(string? url)
    {
        WebhookUrl = url?.Trim();
        if (string.IsNullOrEmpty(WebhookUrl) || WebhookUrl.Length > 2048)
        {
            return await RefuseAsync("Enter the https URL that receives the events (at most 2,048 characters).");
        }

        if (await portal.LoadAsync(TenantId) is null)
        {
            return NotFound();
        }

        var result = await Webhooks().SetAsync(WebhookUrl, secret: null);
        if (result.Webhook is null)
        {
            return await RefuseAsync(result.Error ?? "That URL cannot receive webhooks.");
        }

        NewWebhookSecret = result.GeneratedSecret;
        WebhookUrl = null;
        return await SayAsync("The webhook is set, signed with the secret below: it delivers the events from now on, and a replaced webhook's undelivered events too.");
    }

    public async Task<IActionResult> OnPostTestWebhookAsync()
    {
        if (await portal.LoadAsync(TenantId) is null)
        {
            return NotFound();
        }

        return await Webhooks().TestAsync() switch
        {
            null => await RefuseAsync("This tenant has no webhook."),
            { Delivered: true } attempt => await SayAsync($"The receiver answered the ping with {attempt.StatusCode} in {attempt.Duration.TotalMilliseconds:0} ms."),
            var attempt => await RefuseAsync($"The ping was not delivered: {Describe(attempt)}.", StatusCodes.Status200OK),
        };
    }

    public async Task<IActionResult> OnPostRedeliverAsync(string? after)
    {
        if (string.IsNullOrEmpty(after) || after.Length > 19 || !long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out var cursor))
        {
            return await RefuseAsync("Enter a cursor: a sequence number of the event feed, or 0 for the oldest retained event.");
        }

        if (await portal.LoadAsync(TenantId) is null)
        {
            return NotFound();
        }

        return await Webhooks().RedeliverAsync(cursor) switch
        {
            RedeliverResult.Started => await SayAsync($"Redelivery started: every event after {cursor} is delivered again, in order."),
            RedeliverResult.Expired => await RefuseAsync("The events after that cursor are older than the retention window and were erased.", StatusCodes.Status410Gone),
            RedeliverResult.Beyond => await RefuseAsync("That cursor is past the end of the feed: no event has that sequence yet."),
            _ => await RefuseAsync("This tenant has no webhook."),
        };
    }

    public async Task<IActionResult> OnPostDeleteWebhookAsync()
    {
        if (await portal.LoadAsync(TenantId) is null)
        {
            return NotFound();
        }

        return await Webhooks().DeleteAsync()
            ? await SayAsync("The webhook is removed: no more events are delivered. The event feed keeps them.")
            : await RefuseAsync("This tenant has no webhook.");
    }

    /// <summary>An attempt's outcome in words.</summary>
    public static string Describe(DeliveryAttempt attempt) => attempt switch
    {
        { Delivered: true } => $"delivered ({attempt.StatusCode})",
        { StatusCode: { } status } => $"answered {status}",
        _ => attempt.Error switch
        {
            DeliveryErrors.Timeout => "no answer in time",
            DeliveryErrors.Connection => "connection failed",
            DeliveryErrors.Dns => "host name did not resolve",
            DeliveryErrors.Tls => "TLS handshake failed",
            DeliveryErrors.Protocol => "not a valid HTTP answer",
            DeliveryErrors.RefusedAddress => "refused: the host's addresses are not public",
            DeliveryErrors.RefusedUrl => "refused: the URL is not allowed",
            var other => other ?? "failed",
        },
    };

    protected override async Task<IActionResult> RenderAsync()
    {
        Tenant = await portal.LoadAsync(TenantId);
        if (Tenant is null)
        {
            return NotFound();
        }

        Webhook = await Webhooks().GetAsync();
        Deliveries = Webhook is null ? [] : await Webhooks().GetDeliveriesAsync();
        ViewData["Nav"] = PortalTenant.Navigation(TenantId, "operator", operatorSession: true);
        return Page();
    }

    private IWebhookGrain Webhooks() => grains.Grain<IWebhookGrain>(GrainKeys.Webhook(TenantId));
}
