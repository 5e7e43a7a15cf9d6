namespace Cluster.Grains.Tests.Tenants;

/// <summary>Polls a condition that one-way calls or background steps make true shortly.</summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<Task<bool>> condition, int seconds = 30, string? what = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Not true within {seconds} s: {what ?? "condition"}.");
            await Task.Delay(50);
        }
    }
}
