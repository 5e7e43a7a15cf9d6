using System.Globalization;
using System.Text;
using Cluster.Scim.Errors;

namespace Cluster.Scim.Filtering;

/// <summary>The kinds of lexical tokens in a SCIM filter or PATCH path.</summary>
internal enum TokenKind
{
    /// <summary>Any run of characters other than whitespace, parentheses, brackets and quotes: attribute paths, operators, keywords, numbers, unquoted values.</summary>
    Word,

    /// <summary>A JSON string literal; <see cref="Token.Text"/> holds the decoded value.</summary>
    String,
    LeftParen,
    RightParen,
    LeftBracket,
    RightBracket,
    End,
}

/// <summary>One token; <see cref="Position"/> is the 0-based offset in the input.</summary>
internal readonly record struct Token(TokenKind Kind, string Text, int Position);

/// <summary>Splits a SCIM filter (RFC 7644 §3.4.2.2) or PATCH path (§3.5.2) into tokens.</summary>
internal static class FilterTokenizer
{
    /// <summary>Tokenizes <paramref name="text"/>; the list always ends with a <see cref="TokenKind.End"/> token.</summary>
    public static List<Token> Tokenize(string text, Func<string, ScimException> error)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }

            switch (c)
            {
                case '(':
                    tokens.Add(new Token(TokenKind.LeftParen, "(", i++));
                    break;
                case ')':
                    tokens.Add(new Token(TokenKind.RightParen, ")", i++));
                    break;
                case '[':
                    tokens.Add(new Token(TokenKind.LeftBracket, "[", i++));
                    break;
                case ']':
                    tokens.Add(new Token(TokenKind.RightBracket, "]", i++));
                    break;
                case '"':
                    var start = i;
                    var value = ReadString(text, ref i, error);
                    tokens.Add(new Token(TokenKind.String, value, start));
                    break;
                default:
                    var wordStart = i;
                    while (i < text.Length && !IsDelimiter(text[i]))
                    {
                        i++;
                    }

                    tokens.Add(new Token(TokenKind.Word, text[wordStart..i], wordStart));
                    break;
            }
        }

        tokens.Add(new Token(TokenKind.End, "", text.Length));
        return tokens;
    }

    private static bool IsDelimiter(char c) => char.IsWhiteSpace(c) || c is '(' or ')' or '[' or ']' or '"';

    /// <summary>Reads a JSON string starting at the opening quote; leaves <paramref name="i"/> after the closing quote.</summary>
    private static string ReadString(string text, ref int i, Func<string, ScimException> error)
    {
        var start = i;
        var builder = new StringBuilder();
        i++;
        while (true)
        {
            if (i >= text.Length)
            {
                throw error($"unterminated string starting at position {start}.");
            }

            var c = text[i];
            if (c == '"')
            {
                i++;
                var value = builder.ToString();
                return Resources.ScimIdentity.IsWellFormed(value)
                    ? value
                    : throw error($"the string starting at position {start} holds an unpaired surrogate (not valid Unicode).");
            }

            if (c != '\\')
            {
                builder.Append(c);
                i++;
                continue;
            }

            if (i + 1 >= text.Length)
            {
                throw error($"unterminated string starting at position {start}.");
            }

            var escape = text[i + 1];
            i += 2;
            switch (escape)
            {
                case '"':
                case '\\':
                case '/':
                    builder.Append(escape);
                    break;
                case 'b':
                    builder.Append('\b');
                    break;
                case 'f':
                    builder.Append('\f');
                    break;
                case 'n':
                    builder.Append('\n');
                    break;
                case 'r':
                    builder.Append('\r');
                    break;
                case 't':
                    builder.Append('\t');
                    break;
                case 'u':
                    if (i + 4 > text.Length || !IsHex4(text.AsSpan(i, 4)))
                    {
                        throw error($"invalid \\u escape in string at position {i - 2}; expected four hex digits.");
                    }

                    builder.Append((char)int.Parse(text.AsSpan(i, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
                    i += 4;
                    break;
                default:
                    throw error($"invalid escape sequence '\\{escape}' in string at position {i - 2}.");
            }
        }
    }

    private static bool IsHex4(ReadOnlySpan<char> span)
    {
        foreach (var c in span)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
