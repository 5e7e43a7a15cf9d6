namespace Cluster.Grains.State;

/// <summary>The one way grains change persisted state.</summary>
internal static class StateWrites
{
    /// <summary>
    /// Makes <paramref name="value"/> the grain's state once storage has it (cleared instead when
    /// <paramref name="clear"/>). If the write fails, the activation keeps the previous state, is deactivated so the
    /// next call reloads from storage, and the exception propagates: nothing unacknowledged is ever served.
    /// </summary>
    public static async Task CommitAsync<T>(this IPersistentState<T> state, T value, IGrainBase grain, bool clear = false)
    {
        var previous = state.State;
        state.State = value;
        try
        {
            if (clear)
            {
                await state.ClearStateAsync();
            }
            else
            {
                await state.WriteStateAsync();
            }
        }
        catch
        {
            state.State = previous;
            grain.DeactivateOnIdle();
            throw;
        }
    }
}
