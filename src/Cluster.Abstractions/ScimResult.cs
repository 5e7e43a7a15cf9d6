namespace Cluster.Abstractions;

/// <summary>
/// The outcome of a SCIM operation on a grain: an HTTP status plus either the resource JSON or an error
/// (<c>scimType</c>, <c>detail</c>). Expected outcomes travel as values, never as exceptions across the grain
/// boundary; the gateway maps them to HTTP in one place.
/// </summary>
[GenerateSerializer, Immutable, Alias("scim.ScimResult")]
public sealed record ScimResult(
    [property: Id(0)] int Status,
    [property: Id(1)] string? Resource,
    [property: Id(2)] string? ScimType,
    [property: Id(3)] string? Detail,
    [property: Id(4)] long Version)
{
    public bool IsSuccess => Status is >= 200 and < 300;

    public static ScimResult Ok(string resource, long version) => new(200, resource, null, null, version);

    public static ScimResult Created(string resource, long version) => new(201, resource, null, null, version);

    public static ScimResult NoContent() => new(204, null, null, null, 0);

    public static ScimResult NotFound(string detail) => new(404, null, null, detail, 0);

    public static ScimResult Error(int status, string? scimType, string detail) => new(status, null, scimType, detail, 0);

    /// <summary>
    /// 412: an <c>If-Match</c> precondition failed (RFC 7644 §3.14), with <c>scimType</c> <c>preconditionFailed</c>
    /// (see <see cref="Cluster.Scim.Errors.ScimErrorType.PreconditionFailed"/>); <paramref name="current"/> is the
    /// resource's current version, for the response's <c>ETag</c>.
    /// </summary>
    public static ScimResult PreconditionFailed(long current) =>
        new(412, null, Cluster.Scim.Errors.ScimErrorType.PreconditionFailed, "Failed to update. Resource has changed on the server (If-Match does not match the current version).", current);

    /// <summary>The error a <see cref="Cluster.Scim.Errors.ScimException"/> describes.</summary>
    public static ScimResult Error(Cluster.Scim.Errors.ScimException exception) =>
        Error(exception.Status, exception.ScimType, exception.Message);
}
