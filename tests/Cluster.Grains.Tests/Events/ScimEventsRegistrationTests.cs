using Cluster.Grains.Events;
using Cluster.Grains.Events.Webhooks;
using Cluster.TestInfrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Cluster.Grains.Tests.Events;

/// <summary><c>AddScimEvents</c> on a plain host: <see cref="EventsOptions"/> bound and validated at start-up.</summary>
public sealed class ScimEventsRegistrationTests
{
    [Fact]
    public async Task AHostWithAKeyStartsWithTheDefaults()
    {
        using var host = Build(new() { ["Events:SecretKey"] = TestEvents.SecretKey });
        await host.StartAsync();

        var options = host.Services.GetRequiredService<IOptions<EventsOptions>>().Value;
        Assert.Equal(30, options.RetentionDays);
        Assert.False(options.AllowInsecureWebhooks);
        Assert.Equal(3, options.WebhookRetryDays);
        Assert.Equal(10, options.WebhookTimeoutSeconds);
        Assert.NotNull(host.Services.GetRequiredService<WebhookSender>());
        var protector = host.Services.GetRequiredService<WebhookSecretProtector>();
        Assert.Equal("s", protector.Unprotect(protector.Protect("s", "t"), "t"));
        await host.StopAsync();
    }

    [Fact]
    public async Task AHostWithoutAKeyDoesNotStartAndSaysWhy()
    {
        using var host = Build([]);
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("Events:SecretKey (environment Events__SecretKey) is required", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Events:SecretKey", "not-base64!")]
    [InlineData("Events:SecretKey", "AAAAAAAAAAAAAAAAAAAAAA==")] // 16 bytes
    [InlineData("Events:SecretKey", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // 36 bytes
    [InlineData("Events:RetentionDays", "0.00001")]
    [InlineData("Events:RetentionDays", "366")]
    [InlineData("Events:WebhookRetryDays", "0")]
    [InlineData("Events:WebhookRetryDays", "30.5")]
    [InlineData("Events:WebhookTimeoutSeconds", "0")]
    [InlineData("Events:WebhookTimeoutSeconds", "61")]
    [InlineData("Events:RetentionDays", "2")] // shorter than the retry window (3 days by default)
    public async Task AnInvalidSettingStopsTheHostAtStartUp(string key, string value)
    {
        using var host = Build(new() { ["Events:SecretKey"] = TestEvents.SecretKey, [key] = value });
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains(key.Split(':')[1], error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(TestEvents.SecretKey, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheLimitsThemselvesAreAccepted()
    {
        using var host = Build(new()
        {
            ["Events:SecretKey"] = EventsOptions.NewSecretKey(),
            ["Events:RetentionDays"] = "365",
            ["Events:WebhookRetryDays"] = "0.01",
            ["Events:WebhookTimeoutSeconds"] = "60",
            ["Events:AllowInsecureWebhooks"] = "true",
        });
        await host.StartAsync();
        Assert.True(host.Services.GetRequiredService<IOptions<EventsOptions>>().Value.AllowInsecureWebhooks);
        await host.StopAsync();
    }

    [Fact]
    public void AddScimEventsIsIdempotent()
    {
        var services = new ServiceCollection();
        services.AddScimEvents().AddScimEvents();
        Assert.Single(services, d => d.ServiceType == typeof(WebhookSender));
        Assert.Single(services, d => d.ServiceType == typeof(WebhookSecretProtector));
    }

    [Fact]
    public void NewSecretKeyMakesValidDistinctKeys()
    {
        var keys = Enumerable.Range(0, 20).Select(_ => EventsOptions.NewSecretKey()).ToList();
        Assert.All(keys, k => Assert.True(EventsOptions.TryDecodeSecretKey(k, out var bytes) && bytes.Length == 32));
        Assert.Equal(keys.Count, keys.Distinct(StringComparer.Ordinal).Count());
    }

    private static IHost Build(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddScimEvents();
        return builder.Build();
    }
}
