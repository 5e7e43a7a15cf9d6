using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Cluster.Cli;

/// <summary>
/// <c>scim-admin</c>: the operator's command line over the gateway's admin API, so nobody hand-crafts HTTP.
/// </summary>
public static class Program
{
    private const string Usage = """
        scim-admin: manage SCIM tenants and their tokens through a gateway's admin API.

        Usage:
          scim-admin [--url URL] [--key KEY] tenants create --name NAME
          scim-admin [--url URL] [--key KEY] tenants show TENANT_ID
          scim-admin [--url URL] [--key KEY] tokens create TENANT_ID
          scim-admin [--url URL] [--key KEY] tokens revoke TENANT_ID TOKEN_ID

        --url   gateway base URL (default: $SCIM_ADMIN_URL, else http://127.0.0.1:8080)
        --key   operator key, Admin:ApiKey (default: $SCIM_ADMIN_KEY)

        'tenants create' and 'tokens create' print a secret token once: store it, it cannot be shown again.
        """;

    public static Task<int> Main(string[] args) => RunAsync(args, null, Console.Out, Console.Error);

    /// <summary>Runs one command. <paramref name="handler"/> replaces the network (tests); output goes to the writers.</summary>
    public static async Task<int> RunAsync(string[] args, HttpMessageHandler? handler, TextWriter stdout, TextWriter stderr)
    {
        var rest = new List<string>();
        var url = Environment.GetEnvironmentVariable("SCIM_ADMIN_URL") ?? "http://127.0.0.1:8080";
        var key = Environment.GetEnvironmentVariable("SCIM_ADMIN_KEY") ?? "";
        string? name = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--url" when i + 1 < args.Length: url = args[++i]; break;
                case "--key" when i + 1 < args.Length: key = args[++i]; break;
                case "--name" when i + 1 < args.Length: name = args[++i]; break;
                case "-h" or "--help": stdout.WriteLine(Usage); return 0;
                default: rest.Add(args[i]); break;
            }
        }

        if (key.Length == 0)
        {
            return Fail(stderr, "No operator key: pass --key or set SCIM_ADMIN_KEY.");
        }

        using var http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        http.BaseAddress = new Uri(url.TrimEnd('/') + "/");
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        try
        {
            using var response = rest switch
            {
                ["tenants", "create"] when name is not null => await http.PostAsJsonAsync("admin/tenants", new { name }),
                ["tenants", "show", var tenant] => await http.GetAsync($"admin/tenants/{Uri.EscapeDataString(tenant)}"),
                ["tokens", "create", var tenant] => await http.PostAsync($"admin/tenants/{Uri.EscapeDataString(tenant)}/tokens", null),
                ["tokens", "revoke", var tenant, var token] => await http.DeleteAsync($"admin/tenants/{Uri.EscapeDataString(tenant)}/tokens/{Uri.EscapeDataString(token)}"),
                _ => null,
            };
            if (response is null)
            {
                stderr.WriteLine(Usage);
                return 2;
            }

            var body = await response.Content.ReadAsStringAsync();
            var text = body.Length == 0 ? $"{(int)response.StatusCode} {response.ReasonPhrase}" : Pretty(body);
            (response.IsSuccessStatusCode ? stdout : stderr).WriteLine(text);
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (HttpRequestException e)
        {
            return Fail(stderr, $"Cannot reach {url}: {e.Message}");
        }
    }

    private static string Pretty(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return JsonSerializer.Serialize(document.RootElement, new JsonSerializerOptions
            {
                WriteIndented = true,
                Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            });
        }
        catch (JsonException)
        {
            return json;
        }
    }

    private static int Fail(TextWriter stderr, string message)
    {
        stderr.WriteLine(message);
        return 2;
    }
}
