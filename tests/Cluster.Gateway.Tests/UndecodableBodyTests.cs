using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Cluster.TestInfrastructure;

namespace Cluster.Gateway.Tests;

/// <summary>
/// Issue 11 regression: bodies that are not valid UTF-8, or whose JSON strings hold an unpaired surrogate escape, were a
/// 500 on every endpoint that reads a body. Each shape on each such endpoint is now 400 invalidSyntax with a SCIM error
/// body, and nothing changes (every user and group read back equal, nothing created).
/// </summary>
public sealed class UndecodableBodyTests : IClassFixture<GatewayFactory>
{
    private const string PatchOp = """{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"displayName","value":"@"}]}""";
    private const string UserBody = """{"userName":"@"}""";
    private const string GroupBody = """{"displayName":"@"}""";
    private const string SearchBody = """{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName eq \"@\""}""";
    private const string BulkBody = """{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"POST","path":"/Users","bulkId":"b1","data":{"userName":"@"}}]}""";

    private readonly GatewayFactory _gateway;

    public UndecodableBodyTests(GatewayFactory gateway) => _gateway = gateway;

    /// <summary>Each shape replaces the '@' inside a JSON string of an otherwise valid body, at each endpoint that reads one.</summary>
    public static TheoryData<string, string> ShapesAtEndpoints
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var shape in BadStrings.Keys)
            {
                foreach (var endpoint in Endpoints)
                {
                    data.Add(shape, endpoint);
                }
            }

            return data;
        }
    }

    private static Dictionary<string, byte[]> BadStrings { get; } = new()
    {
        ["truncated sequence"] = [(byte)'a', 0xC3],
        ["truncated four-byte sequence"] = [0xF0, 0x9F, 0x98],
        ["overlong encoding"] = [0xC0, 0xAF],
        ["encoded surrogate"] = [0xED, 0xA0, 0x80],
        ["invalid byte"] = [0xFF],
        ["lone high surrogate escape"] = Encoding.ASCII.GetBytes("a\\ud800"),
        ["lone low surrogate escape"] = Encoding.ASCII.GetBytes("\\udc00b"),
    };

    private static string[] Endpoints { get; } =
        ["POST Users", "PUT Users/{user}", "PATCH Users/{user}", "POST Groups", "PUT Groups/{group}", "PATCH Groups/{group}", "POST Bulk", "POST .search", "POST Users/.search", "POST Groups/.search"];

    [Theory]
    [MemberData(nameof(ShapesAtEndpoints))]
    public async Task UndecodableTextIsInvalidSyntaxAndChangesNothing(string shape, string endpoint)
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        var user = await scim.CreateUserAsync("kept@contoso.com");
        using var groupCreated = await scim.PostAsync("Groups", ScimTestClient.Body("""{"displayName":"Kept"}"""));
        var group = await groupCreated.ExpectScimAsync(HttpStatusCode.Created);
        var before = await SnapshotAsync(scim);

        var (method, path) = (endpoint.Split(' ')[0], endpoint.Split(' ')[1]
            .Replace("{user}", user["id"].Str(), StringComparison.Ordinal)
            .Replace("{group}", group["id"].Str(), StringComparison.Ordinal));
        var template = path switch
        {
            "Bulk" => BulkBody,
            _ when path.EndsWith(".search", StringComparison.Ordinal) => SearchBody,
            _ when method == "PATCH" => PatchOp,
            _ when path.StartsWith("Groups", StringComparison.Ordinal) => GroupBody,
            _ => UserBody,
        };
        using var content = new ByteArrayContent(Splice(template, BadStrings[shape]));
        content.Headers.ContentType = new MediaTypeHeaderValue(ScimTestClient.ScimMediaType);
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = content };
        using var response = await scim.SendAsync(request);

        var error = await response.ExpectScimErrorAsync(HttpStatusCode.BadRequest, "invalidSyntax");
        Assert.Matches("UTF-8|Unicode", error["detail"].Str());
        Assert.Equal(before, await SnapshotAsync(scim));
    }

    [Fact]
    public async Task AValidBodyWithALeadingByteOrderMarkIsAccepted()
    {
        var tenant = await _gateway.CreateTenantAsync();
        using var scim = _gateway.ScimClient(tenant);
        using var content = new ByteArrayContent([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("""{"userName":"bom@contoso.com"}""")]);
        content.Headers.ContentType = new MediaTypeHeaderValue(ScimTestClient.ScimMediaType);
        using var response = await scim.PostAsync("Users", content);
        Assert.Equal("bom@contoso.com", (await response.ExpectScimAsync(HttpStatusCode.Created))["userName"].Str());
    }

    private static byte[] Splice(string template, byte[] bad)
    {
        var at = template.IndexOf('@', StringComparison.Ordinal);
        return [.. Encoding.UTF8.GetBytes(template[..at]), .. bad, .. Encoding.UTF8.GetBytes(template[(at + 1)..])];
    }

    // Every user and group of the tenant (with members) as text: equal before and after means nothing changed.
    private static async Task<string> SnapshotAsync(HttpClient scim)
    {
        var users = await (await scim.GetAsync("Users?count=200")).ExpectScimAsync(HttpStatusCode.OK);
        var groups = await (await scim.GetAsync("Groups?count=200")).ExpectScimAsync(HttpStatusCode.OK);
        return users.ToJsonString() + groups.ToJsonString();
    }
}
