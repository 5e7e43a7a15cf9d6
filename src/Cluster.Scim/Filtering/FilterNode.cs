using System.Text.Json.Nodes;
using Cluster.Scim.Schema;

namespace Cluster.Scim.Filtering;

/// <summary>RFC 7644 §3.4.2.2 comparison operators.</summary>
public enum ComparisonOperator
{
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// <summary>The abstract syntax tree of a SCIM filter, produced by <c>FilterParser</c>.</summary>
public abstract record FilterNode;

/// <summary><c>attrPath op compValue</c>. <see cref="Value"/> is null for the JSON literal <c>null</c>.</summary>
public sealed record ComparisonFilter(AttributePath Path, ComparisonOperator Operator, JsonValue? Value) : FilterNode;

/// <summary><c>attrPath pr</c>.</summary>
public sealed record PresentFilter(AttributePath Path) : FilterNode;

/// <summary><c>left and right</c>.</summary>
public sealed record AndFilter(FilterNode Left, FilterNode Right) : FilterNode;

/// <summary><c>left or right</c>.</summary>
public sealed record OrFilter(FilterNode Left, FilterNode Right) : FilterNode;

/// <summary><c>not (inner)</c>.</summary>
public sealed record NotFilter(FilterNode Inner) : FilterNode;

/// <summary>
/// <c>attrPath[valFilter]</c>: true when some element of the multi-valued (or complex) attribute <see cref="Path"/>
/// matches <see cref="Filter"/>, whose paths are relative to the element (sub-attribute names).
/// Entra's <c>emails[type eq "work"].value eq "x"</c> is parsed into
/// <c>ValuePathFilter(emails, And(type eq "work", value eq "x"))</c>.
/// </summary>
public sealed record ValuePathFilter(AttributePath Path, FilterNode Filter) : FilterNode;
