using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cluster.Gateway.Portal.Pages.Operator;

/// <summary>
/// What the operator console's pages share: the page's one message (a confirmation, or a refusal with its status code, the
/// page shown again as it was) and the render that follows every form.
/// </summary>
public abstract class ConsolePageModel : PageModel
{
    public string? Message { get; private set; }

    public bool MessageIsError { get; private set; }

    /// <summary>The page, as a GET shows it (or 404 when its tenant does not exist).</summary>
    protected abstract Task<IActionResult> RenderAsync();

    /// <summary>The page with a confirmation.</summary>
    protected Task<IActionResult> SayAsync(string message)
    {
        (Message, MessageIsError) = (message, false);
        return RenderAsync();
    }

    /// <summary>The page with a refusal, answered with <paramref name="status"/>: nothing was changed.</summary>
    protected Task<IActionResult> RefuseAsync(string message, int status = StatusCodes.Status400BadRequest)
    {
        (Message, MessageIsError) = (message, true);
        Response.StatusCode = status;
        return RenderAsync();
    }
}
