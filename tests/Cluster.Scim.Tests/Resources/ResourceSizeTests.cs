using Cluster.Scim.Schema;

namespace Cluster.Scim.Tests.Resources;

/// <summary>
/// The bound on a stored resource (<see cref="ScimResource.MaxStoredBytes"/>), in UTF-8 bytes: a write past it is 413, except
/// that a resource stored larger before the bound existed may still change without growing by a kilobyte or more.
/// </summary>
public class ResourceSizeTests
{
    private static string Json(int bytes) => $$"""{"userName":"{{new string('x', bytes - 15)}}"}""";

    [Fact]
    public void UpToTheBoundIsStoredAndPastItIs413CountingUtf8Bytes()
    {
        Assert.Null(ScimResource.CheckSize(Json(ScimResource.MaxStoredBytes), null, ScimSchemas.UserResource));
        var error = ScimResource.CheckSize(Json(ScimResource.MaxStoredBytes + 1), null, ScimSchemas.UserResource);
        Assert.Equal((413, null), (error!.Status, error.ScimType));
        Assert.Contains("User", error.Message, StringComparison.Ordinal);

        // 'é' is one character and two bytes.
        var accents = $$"""{"userName":"{{new string('é', ScimResource.MaxStoredBytes / 2)}}"}""";
        Assert.NotNull(ScimResource.CheckSize(accents, null, ScimSchemas.UserResource));
        Assert.True(accents.Length < ScimResource.MaxStoredBytes);
    }

    [Fact]
    public void AResourceStoredLargerBeforeTheBoundMayChangeButNotGrow()
    {
        var stored = Json(ScimResource.MaxStoredBytes * 2);
        Assert.Null(ScimResource.CheckSize(Json((ScimResource.MaxStoredBytes * 2) + 2), stored, ScimSchemas.UserResource)); // "active": false, version 99 → 100
        Assert.Null(ScimResource.CheckSize(Json(ScimResource.MaxStoredBytes + 10), stored, ScimSchemas.UserResource));
        Assert.NotNull(ScimResource.CheckSize(Json((ScimResource.MaxStoredBytes * 2) + 100), stored, ScimSchemas.UserResource)); // a value added
        Assert.NotNull(ScimResource.CheckSize(Json(ScimResource.MaxStoredBytes + 1), Json(100), ScimSchemas.UserResource));
    }

    [Fact]
    public void AResourceWithinTheBoundCannotLeaveItOneChangeAtATime()
    {
        // Each change under 1 KiB of growth was allowed from anywhere near the bound, so PATCHes could grow a user without end
        // (and its events past what the event log's row is sized for).
        const int Max = ScimResource.MaxStoredBytes;
        Assert.NotNull(ScimResource.CheckSize(Json(Max + 800), Json(Max - 100), ScimSchemas.UserResource));
        Assert.Null(ScimResource.CheckSize(Json(Max), Json(Max - 100), ScimSchemas.UserResource));

        // One at the bound can still be disabled (a byte or two more), but no change grows it by more past the bound, and
        // such changes never take it further than the bound plus the slack.
        Assert.Null(ScimResource.CheckSize(Json(Max + 2), Json(Max), ScimSchemas.UserResource));
        Assert.Null(ScimResource.CheckSize(Json(Max + 12), Json(Max + 10), ScimSchemas.UserResource));
        Assert.NotNull(ScimResource.CheckSize(Json(Max + 13), Json(Max + 10), ScimSchemas.UserResource));
        var slack = ScimResource.OversizeSlackBytes;
        Assert.NotNull(ScimResource.CheckSize(Json(Max + slack + 1), Json(Max + slack), ScimSchemas.UserResource));
        Assert.NotNull(ScimResource.CheckSize(Json(Max + 1), null, ScimSchemas.UserResource)); // a create gets no slack
    }
}
