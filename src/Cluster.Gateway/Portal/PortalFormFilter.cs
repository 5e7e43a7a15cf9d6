using Cluster.Gateway.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;

namespace Cluster.Gateway.Portal;

/// <summary>
/// A post to a portal page names one of its forms (<c>?handler=…</c>); one that names none, or one the page does not have, is
/// refused with the portal's 400 page before the page runs (Razor Pages would otherwise render the page without its model:
/// found by the fuzz harness).
/// </summary>
public sealed class PortalFormFilter : IAsyncPageFilter
{
    public Task OnPageHandlerSelectionAsync(PageHandlerSelectedContext context) => Task.CompletedTask;

    public async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        if (context.HandlerMethod is null && !HttpMethods.IsGet(context.HttpContext.Request.Method) && !HttpMethods.IsHead(context.HttpContext.Request.Method))
        {
            await SurfaceErrors.Write(context.HttpContext, StatusCodes.Status400BadRequest, "This page has no such form.").ExecuteAsync(context.HttpContext);
            context.Result = new EmptyResult();
            return;
        }

        await next();
    }
}
