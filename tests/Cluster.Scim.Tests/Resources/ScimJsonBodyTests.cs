using System.Text;
using Cluster.Scim.Errors;
using Cluster.Scim.Resources;

namespace Cluster.Scim.Tests.Resources;

/// <summary>
/// Issue 11: every byte sequence a client can send is either a JSON object the library can read to the end, or a 400
/// invalidSyntax — never an exception later, when a string is first read.
/// </summary>
public class ScimJsonBodyTests
{
    public static TheoryData<string, byte[]> Undecodable => new()
    {
        { "truncated two-byte sequence", Bytes("{\"userName\":\"a", 0xC3, "\"}") },
        { "truncated three-byte sequence", Bytes("{\"userName\":\"a", 0xE2, 0x82, "\"}") },
        { "truncated at the end of the body", Bytes("{\"userName\":\"a\"}", 0xF0, 0x9F) },
        { "overlong '/'", Bytes("{\"userName\":\"a", 0xC0, 0xAF, "\"}") },
        { "overlong NUL", Bytes("{\"userName\":\"a", 0xC0, 0x80, "\"}") },
        { "encoded high surrogate", Bytes("{\"userName\":\"a", 0xED, 0xA0, 0x80, "\"}") },
        { "encoded low surrogate", Bytes("{\"userName\":\"a", 0xED, 0xBF, 0xBF, "\"}") },
        { "invalid byte 0xFF", Bytes("{\"userName\":\"a", 0xFF, "\"}") },
        { "invalid byte in a member name", Bytes("{\"user", 0xFE, "Name\":\"a\"}") },
        { "continuation byte alone", Bytes("{\"userName\":\"", 0x80, "\"}") },
        { "beyond U+10FFFF", Bytes("{\"userName\":\"", 0xF4, 0x90, 0x80, 0x80, "\"}") },
        { "lone high surrogate escape", Bytes("{\"userName\":\"a\\ud800\"}") },
        { "lone low surrogate escape", Bytes("{\"userName\":\"\\udc00x\"}") },
        { "reversed surrogate pair", Bytes("{\"userName\":\"\\udc00\\ud800\"}") },
        { "lone surrogate in a nested string", Bytes("{\"name\":{\"givenName\":[\"\\uDBFF\"]}}") },
        { "lone surrogate in a member name", Bytes("{\"\\ud800\":\"x\"}") },
        { "UTF-16LE body", [0xFF, 0xFE, .. Encoding.Unicode.GetBytes("{\"userName\":\"a\"}")] },
        { "UTF-16BE body without BOM", Encoding.BigEndianUnicode.GetBytes("{\"userName\":\"a\"}") },
        { "UTF-32 body", Encoding.UTF32.GetBytes("{\"userName\":\"a\"}") },
        { "two BOMs", Bytes("", 0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF, "{\"userName\":\"a\"}") },
        { "empty", [] },
        { "BOM only", [0xEF, 0xBB, 0xBF] },
        { "duplicate member", Bytes("{\"userName\":\"a\",\"userName\":\"b\"}") },
        { "array", Bytes("[{\"userName\":\"a\"}]") },
        { "too deep", Bytes(string.Concat(Enumerable.Repeat("{\"a\":", 100)) + "1" + new string('}', 100)) },
        { "trailing garbage", Bytes("{\"userName\":\"a\"} x") },
    };

    [Theory]
    [MemberData(nameof(Undecodable))]
    public void UndecodableBodiesAreInvalidSyntax(string shape, byte[] body)
    {
        var e = Assert.Throws<ScimException>(() => ScimJsonBody.ParseObject(body));
        Assert.Equal((400, ScimErrorType.InvalidSyntax), (e.Status, e.ScimType));
        Assert.False(string.IsNullOrWhiteSpace(e.Message), shape);
    }

    [Fact]
    public void ValidUnicodeIsReadAsSent()
    {
        var body = ScimJsonBody.ParseObject(Encoding.UTF8.GetBytes("{\"userName\":\"émile\\u0301 😀 \\ud83d\\ude00 日本\",\"n\":1}"));
        Assert.Equal("émile\u0301 😀 😀 日本", body["userName"]!.GetValue<string>());
    }

    [Fact]
    public void OneLeadingUtf8ByteOrderMarkIsIgnored()
    {
        var body = ScimJsonBody.ParseObject(Bytes("", 0xEF, 0xBB, 0xBF, "{\"userName\":\"bom\"}"));
        Assert.Equal("bom", body["userName"]!.GetValue<string>());
    }

    private static byte[] Bytes(params object[] parts) => [.. parts.SelectMany(p => p switch
    {
        string s => Encoding.UTF8.GetBytes(s),
        int b => [(byte)b],
        _ => throw new ArgumentException("string or byte", nameof(parts)),
    })];
}
