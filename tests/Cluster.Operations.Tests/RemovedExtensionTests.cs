using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Cluster.TestInfrastructure;

namespace Cluster.Operations.Tests;

/// <summary>
/// An operator removes an extension from <c>Scim:Extensions</c> and restarts the cluster: users stored with its data
/// (a writeOnly value included) keep it in storage until their next write, and no answer shows it meanwhile, on
/// any SCIM read path (plain GET, the match query, listings, searches, projections). The next write drops it: configured
/// again, the extension shows nothing. Azure Table storage on Azurite. The hosts with the extension run in this process
/// (<see cref="GatewayFactory"/>); the one without it is the real silo host in a process of its own
/// (<see cref="SiloProcess"/>, co-hosted topology), since a process serves one schema set.
/// </summary>
public sealed class RemovedExtensionTests
{
    private const string Acme = TestExtension.UserUrn;

    [Fact]
    public async Task DataOfARemovedExtensionIsNeverShownAndTheNextWriteDropsIt()
    {
        var connectionString = AzuriteStorage.ConnectionString;
        var run = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var tableName = "ScimExtension" + run;
        var serviceId = "scim-extension-" + run;
        var storage = new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "AzureTable",
            ["Storage:ConnectionString"] = connectionString,
            ["Storage:TableName"] = tableName,
            ["Cluster:ServiceId"] = serviceId, // its own reminder rows, removed below
        };
        var userName = $"removed.zq{run}@contoso.com";

        try
        {
            TestTenant tenant;
            string id;
            await using (var configured = GatewayFactory.With(storage))
            {
                tenant = await configured.CreateTenantAsync();
                using var scim = configured.ScimClient(tenant);
                using var created = await scim.PostAsync("Users", Scim($$"""
                    {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","{{Acme}}"],"userName":"{{userName}}","active":true,
                     "{{Acme}}":{"site":"Quedlinburg","pin":"8642","tags":["zq-tag"],"office":{"building":"Zq-Hall","floor":3} } }
                    """));
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
                var body = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
                Assert.Equal("Quedlinburg", body[Acme]!["site"]!.GetValue<string>());
                id = body["id"]!.GetValue<string>();
            }

            var removed = SiloProcess.With(new Dictionary<string, string?>(
                TestExtension.WithoutUserExtension.Concat(TestTenants.Settings).Concat(storage).Append(new("Cluster:Topology", "cohosted"))));
            await removed.InitializeAsync();
            try
            {
                await removed.WaitUntilHealthyAsync();
                using var scim = removed.Client();
                scim.BaseAddress = new Uri(removed.BaseAddress, new Uri(tenant.ScimUrl).AbsolutePath.TrimEnd('/') + "/");
                scim.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", tenant.Token);
                var filter = Uri.EscapeDataString($"userName eq \"{userName}\"");
                foreach (var read in new[]
                {
                    $"Users/{id}",
                    $"Users?filter={filter}",
                    "Users",
                    "Users?startIndex=1&count=10",
                    $"Users/{id}?attributes=userName,active",
                    $"Users/{id}?excludedAttributes=emails",
                    $"Users?filter={filter}&excludedAttributes=name",
                })
                {
                    using var response = await scim.GetAsync(read);
                    await AssertShowsNoneOfIt(response, read);
                }

                using (var search = await scim.PostAsync("Users/.search", Scim($$"""{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName eq \"{{userName}}\""}""")))
                {
                    await AssertShowsNoneOfIt(search, "Users/.search");
                }

                using (var root = await scim.PostAsync(".search", Scim("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"startIndex":1,"count":50}""")))
                {
                    await AssertShowsNoneOfIt(root, "/.search");
                }

                // The removed schema's attributes are unknown now: a filter on one is refused, so it cannot probe the values.
                using (var probe = await scim.GetAsync("Users?filter=" + Uri.EscapeDataString($"{Acme}:site eq \"Quedlinburg\"")))
                {
                    Assert.Equal(HttpStatusCode.BadRequest, probe.StatusCode);
                    Assert.Contains("invalidFilter", await probe.Content.ReadAsStringAsync(), StringComparison.Ordinal);
                }

                using var patched = await scim.PatchAsync($"Users/{id}", Scim("""
                    {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"After Removal"}]}
                    """));
                await AssertShowsNoneOfIt(patched, "PATCH");
            }
            finally
            {
                await removed.DisposeAsync();
            }

            // The extension configured again: the write above stored the user without the removed extension's values.
            await using (var again = GatewayFactory.With(storage))
            {
                using var scim = again.ScimClient(tenant);
                using var read = await scim.GetAsync($"Users/{id}");
                await AssertShowsNoneOfIt(read, "GET after the extension came back");
                var body = JsonNode.Parse(await read.Content.ReadAsStringAsync())!;
                Assert.Equal("After Removal", body["displayName"]!.GetValue<string>());
                Assert.Equal(userName, body["userName"]!.GetValue<string>());
            }
        }
        finally
        {
            await new TableServiceClient(connectionString).GetTableClient(tableName).DeleteAsync();
            await AzuriteStorage.DeleteRemindersAsync(serviceId);
        }
    }

    /// <summary>A 200 whose text holds neither the removed extension's member nor any of its values.</summary>
    private static async Task AssertShowsNoneOfIt(HttpResponseMessage response, string what)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{what}: {(int)response.StatusCode} {text}");
        Assert.Contains("removed.zq", text, StringComparison.Ordinal); // the user is in the answer
        foreach (var value in new[] { "Quedlinburg", "8642", "zq-tag", "Zq-Hall" })
        {
            Assert.False(text.Contains(value, StringComparison.Ordinal), $"{what} shows '{value}': {text}");
        }

        var json = JsonNode.Parse(text)!;
        foreach (var resource in json["Resources"] is JsonArray list ? list.Select(r => r!) : [json])
        {
            Assert.False(resource.AsObject().Any(p => p.Key.Equals(Acme, StringComparison.OrdinalIgnoreCase)), $"{what} has the member {Acme}: {text}");
            Assert.Equal(["urn:ietf:params:scim:schemas:core:2.0:User"], resource["schemas"]!.AsArray().Select(u => u!.GetValue<string>()));
        }
    }

    private static StringContent Scim(string json) => new(json, Encoding.UTF8, "application/scim+json");
}
