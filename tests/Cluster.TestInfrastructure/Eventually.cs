using Xunit;

namespace Cluster.TestInfrastructure;

/// <summary>
/// Polls a condition that one-way calls or background steps make true shortly, against a wall-clock bound (busy
/// machines stall a loop of counted attempts); fails with <c>what</c> when the bound passes.
/// </summary>
public static class Eventually
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
