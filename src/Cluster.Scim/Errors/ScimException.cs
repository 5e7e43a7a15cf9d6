namespace Cluster.Scim.Errors;

/// <summary>
/// A protocol-level failure that maps to an RFC 7644 §3.12 error response.
/// Thrown by the SCIM library for bad input; mapped to HTTP in exactly one place in the gateway.
/// </summary>
public sealed class ScimException : Exception
{
    public ScimException(int status, string? scimType, string detail)
        : base(detail)
    {
        Status = status;
        ScimType = scimType;
    }

    /// <summary>HTTP status code.</summary>
    public int Status { get; }

    /// <summary>RFC 7644 <c>scimType</c> (see <see cref="ScimErrorType"/>), or null.</summary>
    public string? ScimType { get; }

    public static ScimException InvalidFilter(string detail) => new(400, ScimErrorType.InvalidFilter, detail);

    public static ScimException InvalidSyntax(string detail) => new(400, ScimErrorType.InvalidSyntax, detail);

    public static ScimException InvalidValue(string detail) => new(400, ScimErrorType.InvalidValue, detail);

    public static ScimException InvalidPath(string detail) => new(400, ScimErrorType.InvalidPath, detail);

    public static ScimException NoTarget(string detail) => new(400, ScimErrorType.NoTarget, detail);

    public static ScimException Mutability(string detail) => new(400, ScimErrorType.Mutability, detail);

    public static ScimException Uniqueness(string detail) => new(409, ScimErrorType.Uniqueness, detail);

    public static ScimException NotFound(string detail) => new(404, null, detail);
}

/// <summary>The <c>scimType</c> values of RFC 7644 §3.12.</summary>
public static class ScimErrorType
{
    public const string InvalidFilter = "invalidFilter";
    public const string TooMany = "tooMany";
    public const string Uniqueness = "uniqueness";
    public const string Mutability = "mutability";
    public const string InvalidSyntax = "invalidSyntax";
    public const string InvalidPath = "invalidPath";
    public const string NoTarget = "noTarget";
    public const string InvalidValue = "invalidValue";
    public const string InvalidVersion = "invalidVers";
    public const string Sensitive = "sensitive";

    /// <summary>
    /// 412 (an <c>If-Match</c> that does not match). Not one of RFC 7644 §3.12's keywords, which name none for 412;
    /// this service's acceptance spec (issue 3) asks for it, and a client that does not know it still has the status.
    /// </summary>
    public const string PreconditionFailed = "preconditionFailed";
}
