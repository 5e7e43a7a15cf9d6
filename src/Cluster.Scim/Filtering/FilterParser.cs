using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cluster.Scim.Errors;
using Cluster.Scim.Schema;

namespace Cluster.Scim.Filtering;

/// <summary>
/// Recursive-descent parser for the RFC 7644 §3.4.2.2 filter grammar, plus the Microsoft Entra ID dialects:
/// <list type="bullet">
/// <item><c>emails[type eq "work"].value eq "x"</c> becomes <c>ValuePathFilter(emails, And(type eq "work", value eq "x"))</c>;</item>
/// <item>unquoted simple values (<c>externalId eq jyoung</c>) are read as strings when they are not a keyword, number, boolean or null.</item>
/// </list>
/// Operators, <c>and</c>/<c>or</c>/<c>not</c>, <c>true</c>/<c>false</c>/<c>null</c> are case-insensitive; <c>and</c> binds tighter than <c>or</c>.
/// Every malformed input throws <see cref="ScimException"/> with <c>scimType</c> <c>invalidFilter</c>; no other exception escapes.
/// The parser does not look at the schema: unknown attributes are rejected by <see cref="FilterEvaluator.Validate"/>.
/// </summary>
public static partial class FilterParser
{
    /// <summary>Longest accepted filter, in characters.</summary>
    public const int MaxLength = 10_000;

    /// <summary>Deepest accepted nesting of parentheses, <c>not (…)</c> and value paths.</summary>
    public const int MaxDepth = 50;

    /// <summary>
    /// Most comparisons (<c>eq</c> … <c>pr</c>, inside value paths too) in one filter. A filter is evaluated against every
    /// resource it scans, and every element of a multi-valued attribute: hundreds of <c>or</c> terms, which fit in
    /// <see cref="MaxLength"/>, made one request cost minutes of a gateway's CPU. Entra sends one.
    /// </summary>
    public const int MaxComparisons = 100;

    private static readonly string[] ReservedWords = ["and", "or", "not", "pr", "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"];

    /// <summary>Parses a filter expression into its AST.</summary>
    public static FilterNode Parse(string filter) =>
        new Parser(filter, "filter", ScimException.InvalidFilter).ParseFilter();

    /// <summary>
    /// Parses a PATCH path (<c>attrPath</c> or <c>attrPath "[" valFilter "]" ["." subAttr]</c>) with the same tokenizer and grammar.
    /// Errors are reported as <c>invalidPath</c>. Used by <see cref="Patching.PatchPath.Parse"/>.
    /// </summary>
    internal static (AttributePath Attribute, FilterNode? ValueFilter, string? SubAttribute) ParsePatchPath(string path) =>
        new Parser(path, "path", ScimException.InvalidPath).ParsePatchPath();

    [GeneratedRegex(@"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex JsonNumber();

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    private static bool IsWord(Token token, string word) =>
        token.Kind == TokenKind.Word && string.Equals(token.Text, word, StringComparison.OrdinalIgnoreCase);

    private static ComparisonOperator? ParseOperator(string text) => text.ToLowerInvariant() switch
    {
        "eq" => ComparisonOperator.Eq,
        "ne" => ComparisonOperator.Ne,
        "co" => ComparisonOperator.Co,
        "sw" => ComparisonOperator.Sw,
        "ew" => ComparisonOperator.Ew,
        "gt" => ComparisonOperator.Gt,
        "ge" => ComparisonOperator.Ge,
        "lt" => ComparisonOperator.Lt,
        "le" => ComparisonOperator.Le,
        _ => null,
    };

    private sealed class Parser
    {
        private readonly string _what;
        private readonly Func<string, ScimException> _error;
        private readonly List<Token> _tokens;
        private int _index;
        private int _depth;
        private int _comparisons;

        public Parser(string? text, string what, Func<string, ScimException> error)
        {
            _what = what;
            _error = error;
            if (string.IsNullOrWhiteSpace(text))
            {
                throw Fail($"the {what} is empty.");
            }

            if (text.Length > MaxLength)
            {
                throw Fail($"the {what} is {text.Length} characters long; at most {MaxLength} are allowed.");
            }

            _tokens = FilterTokenizer.Tokenize(text, Fail);
        }

        private Token Current => _tokens[_index];

        public FilterNode ParseFilter()
        {
            var node = ParseOr(inValuePath: false);
            ExpectEnd();
            return node;
        }

        public (AttributePath, FilterNode?, string?) ParsePatchPath()
        {
            var path = ParsePath();
            FilterNode? filter = null;
            string? sub = null;
            if (Current.Kind == TokenKind.LeftBracket)
            {
                filter = ParseValueFilter(path);
                sub = TryParseSubAttributeSuffix();
            }

            ExpectEnd();
            return (path, filter, sub);
        }

        // orExpr := andExpr *("or" andExpr)
        private FilterNode ParseOr(bool inValuePath)
        {
            var left = ParseAnd(inValuePath);
            while (IsWord(Current, "or"))
            {
                _index++;
                left = new OrFilter(left, ParseAnd(inValuePath));
            }

            return left;
        }

        // andExpr := unary *("and" unary)
        private FilterNode ParseAnd(bool inValuePath)
        {
            var left = ParseUnary(inValuePath);
            while (IsWord(Current, "and"))
            {
                _index++;
                left = new AndFilter(left, ParseUnary(inValuePath));
            }

            return left;
        }

        // unary := "not" "(" orExpr ")" / "(" orExpr ")" / attrExp / valuePath
        private FilterNode ParseUnary(bool inValuePath)
        {
            if (IsWord(Current, "not"))
            {
                var not = Current;
                _index++;
                if (Current.Kind != TokenKind.LeftParen)
                {
                    throw Fail($"expected '(' after 'not' at position {not.Position}, found {Describe(Current)}.");
                }

                return new NotFilter(ParseParenthesized(inValuePath));
            }

            if (Current.Kind == TokenKind.LeftParen)
            {
                return ParseParenthesized(inValuePath);
            }

            var path = ParsePath();
            if (Current.Kind != TokenKind.LeftBracket)
            {
                return ParseComparison(path);
            }

            if (inValuePath)
            {
                throw Fail($"value paths cannot be nested (position {Current.Position}).");
            }

            var inner = ParseValueFilter(path);
            if (TryParseSubAttributeSuffix() is not { } sub)
            {
                return new ValuePathFilter(path, inner);
            }

            // Entra: emails[type eq "work"].value eq "x" => emails[type eq "work" and value eq "x"]
            var comparison = ParseComparison(new AttributePath(null, sub, null));
            return new ValuePathFilter(path, new AndFilter(inner, comparison));
        }

        private FilterNode ParseParenthesized(bool inValuePath)
        {
            var open = Current;
            _index++;
            Enter(open);
            var inner = ParseOr(inValuePath);
            if (Current.Kind != TokenKind.RightParen)
            {
                throw Fail($"expected ')' to close '(' at position {open.Position}, found {Describe(Current)}.");
            }

            _index++;
            _depth--;
            return inner;
        }

        private FilterNode ParseValueFilter(AttributePath path)
        {
            var open = Current;
            if (path.SubAttributeName is not null)
            {
                throw Fail($"a value filter must follow an attribute name, not the sub-attribute path {ScimText.Quoted(Shorten(path.ToString()))}.");
            }

            _index++;
            Enter(open);
            var inner = ParseOr(inValuePath: true);
            if (Current.Kind != TokenKind.RightBracket)
            {
                throw Fail($"expected ']' to close '[' at position {open.Position}, found {Describe(Current)}.");
            }

            _index++;
            _depth--;
            return inner;
        }

        /// <summary>Reads the <c>.subAttr</c> that may follow a value filter's <c>]</c>.</summary>
        private string? TryParseSubAttributeSuffix()
        {
            if (Current.Kind != TokenKind.Word || !Current.Text.StartsWith('.'))
            {
                return null;
            }

            var sub = Current.Text[1..];
            if (!AttributePath.IsAttrName(sub))
            {
                throw Fail($"{ScimText.Quoted(Shorten(Current.Text))} at position {Current.Position} is not a valid sub-attribute.");
            }

            _index++;
            return sub;
        }

        private AttributePath ParsePath()
        {
            var token = Current;
            if (token.Kind != TokenKind.Word)
            {
                throw Fail($"expected an attribute path at position {token.Position}, found {Describe(token)}.");
            }

            if (IsWord(token, "and") || IsWord(token, "or") || IsWord(token, "not")
                || !AttributePath.TryParse(token.Text, out var path))
            {
                throw Fail($"expected an attribute path at position {token.Position}, found {Describe(token)}.");
            }

            _index++;
            return path;
        }

        // attrExp := attrPath "pr" / attrPath compareOp compValue
        private FilterNode ParseComparison(AttributePath path)
        {
            if (++_comparisons > MaxComparisons)
            {
                throw Fail($"the {_what} has more than {MaxComparisons} comparisons.");
            }

            var token = Current;
            if (token.Kind != TokenKind.Word)
            {
                throw Fail($"expected an operator after {ScimText.Quoted(Shorten(path.ToString()))} at position {token.Position}, found {Describe(token)}.");
            }

            _index++;
            if (IsWord(token, "pr"))
            {
                return new PresentFilter(path);
            }

            var op = ParseOperator(token.Text)
                ?? throw Fail($"unknown operator {Describe(token)} at position {token.Position}; expected eq, ne, co, sw, ew, gt, ge, lt, le or pr.");
            return new ComparisonFilter(path, op, ParseValue(token));
        }

        // compValue := false / null / true / number / string  (+ Entra's unquoted strings)
        private JsonValue? ParseValue(Token op)
        {
            var token = Current;
            switch (token.Kind)
            {
                case TokenKind.String:
                    _index++;
                    return JsonValue.Create(token.Text);
                case TokenKind.Word when IsWord(token, "true"):
                    _index++;
                    return JsonValue.Create(true);
                case TokenKind.Word when IsWord(token, "false"):
                    _index++;
                    return JsonValue.Create(false);
                case TokenKind.Word when IsWord(token, "null"):
                    _index++;
                    return null;
                case TokenKind.Word when JsonNumber().IsMatch(token.Text):
                    _index++;
                    return (JsonValue)JsonNode.Parse(token.Text)!;
                case TokenKind.Word when !IsReserved(token.Text):
                    _index++;
                    return JsonValue.Create(token.Text);
                default:
                    throw Fail($"missing value after operator {ScimText.Quoted(Shorten(op.Text))} at position {op.Position}, found {Describe(token)}.");
            }
        }

        private void ExpectEnd()
        {
            if (Current.Kind != TokenKind.End)
            {
                throw Fail($"unexpected {Describe(Current)} at position {Current.Position}.");
            }
        }

        private void Enter(Token open)
        {
            if (++_depth > MaxDepth)
            {
                throw Fail($"nesting deeper than {MaxDepth} levels at position {open.Position}.");
            }
        }

        private static bool IsReserved(string word)
        {
            foreach (var reserved in ReservedWords)
            {
                if (string.Equals(word, reserved, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }

            return false;
        }

        private static string Describe(Token token) => token.Kind switch
        {
            TokenKind.End => "end of input",
            TokenKind.String => $"string {ScimText.QuotedString(Shorten(token.Text))}",
            _ => ScimText.Quoted(Shorten(token.Text)),
        };

        private ScimException Fail(string message) => _error($"Invalid {_what}: {message}");
    }
}
